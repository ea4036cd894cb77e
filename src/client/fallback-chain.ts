import type { AttemptRecord, ChatMessage } from "../types.js";
import type { ChatStream } from "./chat-stream.js";
import { RetryClient, toSpec } from "./retry-client.js";
import type { CallOptions, ChatResponse, ClientConfig, ModelRef, ModelSpec } from "./types.js";

/** Settings of a {@link FallbackChain}: the targets in order, plus any client setting. */
export interface FallbackChainConfig
  extends Omit<
    ClientConfig,
    "defaultProvider" | "defaultModel" | "fallbackModels" | "fallbackEnabled"
  > {
  /** The targets, tried in order. At least one. */
  readonly models: readonly ModelRef[];
}

/** What {@link FallbackChain.complete} resolves with. */
export interface FallbackResult {
  readonly response: ChatResponse;
  /** The target that answered. */
  readonly model: ModelSpec;
  readonly attempts: readonly AttemptRecord[];
}

/**
 * A fixed chain of targets with the client's full resilience: each target is retried per the
 * failure table, then the next one is tried.
 *
 * @example
 * const chain = new FallbackChain({ models: [{ provider: "anthropic", model: "claude-sonnet-4-5-20250929" }, ["openai", "gpt-5-mini"]] });
 * const { response, model } = await chain.complete([Message.user("Hello")]);
 */
export class FallbackChain {
  readonly models: readonly ModelSpec[];
  readonly client: RetryClient;

  /** @throws RangeError when `models` is empty or malformed. */
  constructor(config: FallbackChainConfig) {
    if (!Array.isArray(config.models) || config.models.length === 0) {
      throw new RangeError(
        `expected at least one target for models, got ${JSON.stringify(config.models)}`,
      );
    }
    const { models, ...rest } = config;
    this.models = models.map(toSpec);
    const [first, ...fallbacks] = this.models;
    this.client = new RetryClient({
      ...rest,
      defaultProvider: first!.provider,
      defaultModel: first!.model,
      fallbackModels: fallbacks,
      fallbackEnabled: true,
    });
  }

  /** Runs the chain. @throws as {@link RetryClient.complete}. */
  async complete(
    messages: readonly ChatMessage[],
    options: Omit<CallOptions, "model" | "provider" | "fallbackModels"> = {},
  ): Promise<FallbackResult> {
    const response = await this.client.complete(messages, options);
    return {
      response,
      model: { provider: response.provider, model: response.model },
      attempts: response.attempts,
    };
  }

  /** Streams through the chain. */
  stream(
    messages: readonly ChatMessage[],
    options: Omit<CallOptions, "model" | "provider" | "fallbackModels"> = {},
  ): ChatStream {
    return this.client.stream(messages, options);
  }
}

type PresetConfig = Omit<FallbackChainConfig, "models">;

/** OpenAI only: gpt-5-mini → gpt-4.1-mini → gpt-4o-mini. */
export function createOpenAIChain(config: PresetConfig = {}): FallbackChain {
  return new FallbackChain({
    ...config,
    models: [
      ["openai", "gpt-5-mini"],
      ["openai", "gpt-4.1-mini"],
      ["openai", "gpt-4o-mini"],
    ],
  });
}

/** Anthropic only: Sonnet 4.5 → Haiku 4.5 → Sonnet 4. */
export function createAnthropicChain(config: PresetConfig = {}): FallbackChain {
  return new FallbackChain({
    ...config,
    models: [
      ["anthropic", "claude-sonnet-4-5-20250929"],
      ["anthropic", "claude-haiku-4-5-20251001"],
      ["anthropic", "claude-sonnet-4-20250514"],
    ],
  });
}

/** Across providers, alternating so one provider's outage costs one step. */
export function createMixedChain(config: PresetConfig = {}): FallbackChain {
  return new FallbackChain({
    ...config,
    models: [
      ["anthropic", "claude-sonnet-4-5-20250929"],
      ["openai", "gpt-5-mini"],
      ["anthropic", "claude-haiku-4-5-20251001"],
      ["openai", "gpt-4.1-mini"],
    ],
  });
}
