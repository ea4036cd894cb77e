import { deterministicRandom } from "./random.js";

/**
 * How long a model takes before it answers: a fixed number of milliseconds, or a discrete
 * distribution (`[{ ms: 100, share: 0.95 }, { ms: 5000, share: 0.05 }]` — a heavy tail).
 * Shares are relative weights; they need not sum to 1.
 */
export type LatencyDistribution =
  | number
  | readonly { readonly ms: number; readonly share: number }[];

/** Model name (without fault directives) or `"*"` → its latency. */
export type LatencyByModel = Readonly<Record<string, LatencyDistribution>>;

/** Checks a latency table; throws `RangeError` naming the bad entry. */
export function checkLatency(latency: LatencyByModel): void {
  for (const [model, value] of Object.entries(latency)) {
    const parts = typeof value === "number" ? [{ ms: value, share: 1 }] : value;
    if (!Array.isArray(parts) || parts.length === 0)
      throw new RangeError(`simulator: latency of "${model}" must be a number or a non-empty list`);
    for (const p of parts)
      if (!(p.ms >= 0) || !Number.isFinite(p.ms) || !(p.share > 0) || !Number.isFinite(p.share))
        throw new RangeError(
          `simulator: latency of "${model}" needs ms >= 0 and share > 0, got ${JSON.stringify(p)}`,
        );
  }
}

/**
 * The delay for the `index`-th request to `model` (deterministic in seed, model and index).
 * Returns 0 when the table says nothing about the model.
 */
export function drawLatency(
  latency: LatencyByModel | undefined,
  model: string,
  modelKey: string,
  index: number,
  seed: number,
): number {
  const value = latency?.[model] ?? latency?.["*"];
  if (value === undefined) return 0;
  if (typeof value === "number") return value;
  let total = 0;
  for (const p of value) total += p.share;
  let draw = deterministicRandom(seed, modelKey, index, 0x1a7) * total;
  for (const p of value) {
    draw -= p.share;
    if (draw < 0) return p.ms;
  }
  return value[value.length - 1]?.ms ?? 0;
}
