/**
 * Cooldown records: what a rate-limited target stores under `cooldown:<provider:model>`, and
 * how a record read back from a store (a file another version wrote, a Redis key anyone can
 * write) is checked before it is trusted.
 */

/** Cooldown record stored under `cooldown:<provider:model>`. */
export interface Cooldown {
  /** When the cooldown ends, in milliseconds since the epoch (the store's clock). */
  readonly until: number;
  /** The wait it was set for. */
  readonly retryAfterMs: number;
}

/** The store key of a target's cooldown. */
export const cooldownKey = (targetKey: string): string => `cooldown:${targetKey}`;

/**
 * A stored value as a cooldown: the record when its `until` is a finite number, `undefined`
 * when absent, `"corrupt"` for anything else (`until: 1e999` reads back as `Infinity`, a string,
 * a bare number…), which callers treat as absent after a warning.
 */
export function readCooldown(value: unknown): Cooldown | "corrupt" | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object") return "corrupt";
  const until = (value as { until?: unknown }).until;
  if (typeof until !== "number" || !Number.isFinite(until)) return "corrupt";
  const retryAfterMs = (value as { retryAfterMs?: unknown }).retryAfterMs;
  return {
    until,
    retryAfterMs:
      typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) ? retryAfterMs : 0,
  };
}

/**
 * The cooldown to store after a rate limit asked for `waitMs`: never longer than
 * `maxRetryAfterMs` (the longest wait the client would ever sleep), so a hostile or broken
 * `Retry-After` cannot shut a target out for days, fleet-wide. Undefined when there is nothing
 * to store.
 */
export function cappedCooldown(
  now: number,
  waitMs: number,
  maxRetryAfterMs: number,
): Cooldown | undefined {
  const ms = Math.min(waitMs, maxRetryAfterMs);
  if (!(ms > 0) || !Number.isFinite(ms)) return undefined;
  return { until: now + ms, retryAfterMs: ms };
}
