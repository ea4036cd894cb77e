import { fraction, nonNegativeNumber, oneOf, positiveNumber } from "../options.js";

/**
 * How randomness spreads the delays of many clients that failed at the same moment.
 * - `"proportional"` (default): `delay × (1 − jitter × r)`, the seed's formula: the delay shrinks
 *   by up to `jitter` of itself, so with `jitter: 0.5` it lies in `[delay/2, delay]`.
 * - `"full"`: `r × delay`, anywhere in `[0, delay]` (AWS "full jitter").
 * - `"decorrelated"`: `min(maxDelayMs, baseDelayMs + r × (3 × previous − baseDelayMs))` (AWS
 *   "decorrelated jitter"): each delay grows from the previous one rather than from the attempt number.
 *
 * `r` is uniform in [0, 1) from the injectable `random`.
 */
export type JitterMode = "proportional" | "full" | "decorrelated";

/** Backoff settings. Every field is optional. */
export interface BackoffOptions {
  /** Delay before the first retry. @default 1000 */
  readonly baseDelayMs?: number | undefined;
  /** Longest delay. @default 60000 */
  readonly maxDelayMs?: number | undefined;
  /** Growth factor per attempt. @default 2 */
  readonly exponentialBase?: number | undefined;
  /** Share of the delay that is randomised, 0..1 (used by the "proportional" mode). @default 0.5 */
  readonly jitter?: number | undefined;
  /** Jitter formula. @default "proportional" */
  readonly jitterMode?: JitterMode | undefined;
  /** Uniform randomness in [0, 1), injectable for tests. @default Math.random */
  readonly random?: (() => number) | undefined;
}

/** Backoff settings with every default applied. */
export type ResolvedBackoff = {
  readonly [K in keyof BackoffOptions]-?: Exclude<BackoffOptions[K], undefined>;
};

/** Backoff defaults. */
export const BACKOFF_DEFAULTS: ResolvedBackoff = {
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  exponentialBase: 2,
  jitter: 0.5,
  jitterMode: "proportional",
  random: Math.random,
};

/** Applies defaults and validates; throws `RangeError` naming the bad option. */
export function resolveBackoff(options: BackoffOptions = {}): ResolvedBackoff {
  const resolved = { ...BACKOFF_DEFAULTS, ...definedOnly(options) };
  nonNegativeNumber("baseDelayMs", resolved.baseDelayMs);
  nonNegativeNumber("maxDelayMs", resolved.maxDelayMs);
  if (resolved.maxDelayMs < resolved.baseDelayMs) {
    throw new RangeError(
      `expected maxDelayMs ≥ baseDelayMs (${resolved.baseDelayMs}), got ${resolved.maxDelayMs}`,
    );
  }
  positiveNumber("exponentialBase", resolved.exponentialBase);
  if (resolved.exponentialBase < 1) {
    throw new RangeError(
      `expected a number ≥ 1 for exponentialBase, got ${resolved.exponentialBase}`,
    );
  }
  fraction("jitter", resolved.jitter);
  oneOf("jitterMode", resolved.jitterMode, ["proportional", "full", "decorrelated"]);
  return resolved;
}

/**
 * The delay before retry number `retry` (0 for the first retry):
 * `min(maxDelayMs, baseDelayMs × exponentialBase^retry)`, then jittered per {@link JitterMode}.
 * `previousDelayMs` feeds the decorrelated mode.
 */
export function computeBackoff(
  retry: number,
  options: ResolvedBackoff,
  previousDelayMs?: number,
): number {
  const { baseDelayMs, maxDelayMs, exponentialBase, jitter, jitterMode, random } = options;
  const r = random();
  if (jitterMode === "decorrelated") {
    const previous = previousDelayMs ?? baseDelayMs;
    return Math.min(maxDelayMs, baseDelayMs + r * Math.max(0, 3 * previous - baseDelayMs));
  }
  const delay = Math.min(maxDelayMs, baseDelayMs * exponentialBase ** retry);
  return jitterMode === "full" ? r * delay : delay * (1 - jitter * r);
}

/** Drops keys whose value is undefined, so spreading options never erases a default. */
export function definedOnly<T extends object>(
  options: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
