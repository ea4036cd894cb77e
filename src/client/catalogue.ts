/** What the client knows about a model: limits and abilities that decide where it may fall back. */
export interface ModelCapabilities {
  readonly provider: string;
  readonly model: string;
  /** Context window, in tokens. */
  readonly contextWindow: number;
  /** Most output tokens per answer. */
  readonly maxOutputTokens: number;
  readonly tools: boolean;
  readonly vision: boolean;
  /** Accepts an assistant prefill to continue from (used by `midStreamFailure: "continue"`). */
  readonly prefill: boolean;
}

type Row = [model: string, contextWindow: number, maxOutput: number, prefill: boolean];

const OPENAI: Row[] = [
  ["gpt-5.4", 1_050_000, 128_000, false],
  ["gpt-5.4-mini", 400_000, 128_000, false],
  ["gpt-5.1", 400_000, 128_000, false],
  ["gpt-5", 400_000, 128_000, false],
  ["gpt-5-mini", 400_000, 128_000, false],
  ["gpt-5-nano", 400_000, 128_000, false],
  ["gpt-4.1", 1_047_576, 32_768, false],
  ["gpt-4.1-mini", 1_047_576, 32_768, false],
  ["gpt-4.1-nano", 1_047_576, 32_768, false],
  ["gpt-4o", 128_000, 16_384, false],
  ["gpt-4o-mini", 128_000, 16_384, false],
];

// The 4.6 generation rejects assistant prefill; earlier Claude models accept it.
const ANTHROPIC: Row[] = [
  ["claude-opus-4-6", 200_000, 128_000, false],
  ["claude-sonnet-4-6", 200_000, 64_000, false],
  ["claude-opus-4-5-20251101", 200_000, 64_000, true],
  ["claude-sonnet-4-5-20250929", 200_000, 64_000, true],
  ["claude-haiku-4-5-20251001", 200_000, 64_000, true],
  ["claude-opus-4-1-20250805", 200_000, 32_000, true],
  ["claude-sonnet-4-20250514", 200_000, 64_000, true],
  ["claude-3-5-haiku-20241022", 200_000, 8_192, true],
];

const rows = (provider: string, list: Row[]): ModelCapabilities[] =>
  list.map(([model, contextWindow, maxOutputTokens, prefill]) => ({
    provider,
    model,
    contextWindow,
    maxOutputTokens,
    tools: true,
    vision: true,
    prefill,
  }));

/** The built-in catalogue (November 2026). Extend it with `ModelCatalogue.add`. */
export const BUILT_IN_MODELS: readonly ModelCapabilities[] = [
  ...rows("openai", OPENAI),
  ...rows("anthropic", ANTHROPIC),
];

/** Each provider's current default model. */
export const DEFAULT_MODELS: Readonly<Record<string, string>> = {
  openai: "gpt-5-mini",
  anthropic: "claude-sonnet-4-5-20250929",
};

/**
 * A lookup of model capabilities by provider and model, seeded with {@link BUILT_IN_MODELS}.
 * Unknown models are allowed everywhere; they just carry no limits the client can reason about.
 */
export class ModelCatalogue {
  readonly #models = new Map<string, ModelCapabilities>();

  constructor(models: readonly ModelCapabilities[] = BUILT_IN_MODELS) {
    for (const m of models) this.add(m);
  }

  /** Adds or replaces an entry. */
  add(model: ModelCapabilities): this {
    this.#models.set(`${model.provider}:${model.model}`, model);
    return this;
  }

  /** Adds or replaces several entries. */
  addAll(models: readonly ModelCapabilities[]): this {
    for (const m of models) this.add(m);
    return this;
  }

  /** The entry for `provider:model`, or for the provider-less model id when one provider has it. */
  get(provider: string, model: string): ModelCapabilities | undefined {
    return (
      this.#models.get(`${provider}:${model}`) ?? this.#models.get(`${providerOf(model)}:${model}`)
    );
  }

  /** Every entry. */
  list(): ModelCapabilities[] {
    return [...this.#models.values()];
  }
}

/** Guesses a model's provider from its name: `gpt-*`, `o1`…`o9`, `chatgpt-*` → openai; `claude-*` → anthropic. */
export function providerOf(model: string): string | undefined {
  if (/^(gpt-|o\d|chatgpt-|text-|davinci)/.test(model)) return "openai";
  if (model.startsWith("claude")) return "anthropic";
  return undefined;
}
