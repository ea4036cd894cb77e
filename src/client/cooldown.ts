import { prefixedKeys } from "../state/state-store.js";
/** A target's cooldown after a rate limit, stored under `cooldown:<target key>`. */
export interface Cooldown {
  /** When it ends (ms since the epoch, the store's clock). */
  readonly until: number;
  /** The wait it was set for. */
  readonly retryAfterMs: number;
}

/** The store key of a target's cooldown. */
export const cooldownKey: (targetKey: string) => string = prefixedKeys("cooldown:");

/**
 * A stored value read as a cooldown: `"corrupt"` unless `until` is a finite number (`1e999`
 * reads back as Infinity), which callers treat as absent after a warning.
 */
export function readCooldown(value: unknown): Cooldown | "corrupt" | undefined {
  if (value === undefined || value === null) return undefined;
  const until = (value as { until?: unknown }).until;
  if (typeof until !== "number" || !Number.isFinite(until)) return "corrupt";
  const wait = (value as { retryAfterMs?: unknown }).retryAfterMs;
  return { until, retryAfterMs: typeof wait === "number" && Number.isFinite(wait) ? wait : 0 };
}

/** The cooldown to store for a wait of `waitMs`: never longer than `maxRetryAfterMs`. */
export function cappedCooldown(
  now: number,
  waitMs: number,
  maxRetryAfterMs: number,
): Cooldown | undefined {
  const ms = Math.min(waitMs, maxRetryAfterMs);
  return ms > 0 && Number.isFinite(ms) ? { until: now + ms, retryAfterMs: ms } : undefined;
}
