import type { Warning } from "../types.js";

/**
 * Where breaker state, cooldowns and retry-budget counters live. Implementations: memory (the
 * default, one per client), file (the CLI's default, shared by the processes of one machine) and
 * Redis (shared by a fleet).
 *
 * Every method is one atomic step in the store, so a shared store never loses an update:
 * - `update` is a read-modify-write: the store calls `fn` with the current value and writes what
 *   it returns only if nothing changed in between (it may call `fn` again, so `fn` must be pure).
 * - `acquireLease` is the half-open probe slot: at most one holder at a time, freed by
 *   `releaseLease` or by itself when `ttlMs` passes (so a holder that dies cannot wedge it).
 * - `addToWindow` is a sliding-window counter for the retry budget.
 *
 * Times are milliseconds since the epoch from the store's own clock (`now()`), so a fleet agrees.
 * A store must never be the thing that fails a request: a shared store that cannot be reached
 * answers from local state and reports through `onWarning` (see `RedisStateStore`).
 */
export interface StateStore {
  /** A name for logs and the CLI: "memory", "file", "redis". */
  readonly kind: string;
  /** The store's clock, in milliseconds since the epoch. */
  now(): number;
  /** The value under `key`, or undefined when absent or expired. */
  get<T>(key: string): Promise<T | undefined>;
  /** Reads several keys at once (one round trip for remote stores). */
  getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>>;
  /** Stores `value` under `key`, expiring after `ttlMs` when given. */
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  /**
   * Atomically replaces the value under `key` with `fn(current)`; `undefined` deletes it.
   * Returns the value written. `ttlMs`, when given, is the new value's time to live.
   */
  update<T>(
    key: string,
    fn: (current: T | undefined) => T | undefined,
    ttlMs?: number,
  ): Promise<T | undefined>;
  /** Deletes `key` (no error when absent). */
  delete(key: string): Promise<void>;
  /** Every live entry whose key starts with `prefix`. */
  entries<T>(prefix: string): Promise<Array<[key: string, value: T]>>;
  /** Takes the lease `key` for `holder` for `ttlMs`; false when someone else holds it. */
  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Frees the lease `key` if `holder` holds it. */
  releaseLease(key: string, holder: string): Promise<void>;
  /**
   * Adds `amount` to counter `field` of the sliding window `key` (window `windowMs` long) and
   * returns every field's total over the window, the addition included. `amount` 0 only reads.
   */
  addToWindow(
    key: string,
    field: string,
    amount: number,
    windowMs: number,
  ): Promise<Record<string, number>>;
  /** Releases connections and timers. */
  close(): Promise<void>;
  /**
   * Subscribes to the store's warnings (e.g. "Redis unreachable, using local state"). Stores that
   * cannot fail need not implement it. Returns the unsubscribe function.
   */
  onWarning?(listener: (warning: Warning) => void): () => void;
}

/** Number of buckets a sliding window is divided into (its resolution is windowMs / 10). */
export const WINDOW_BUCKETS = 10;

/** The bucket a time falls in, for a window of `windowMs`. */
export function windowBucket(now: number, windowMs: number): number {
  return Math.floor(now / (windowMs / WINDOW_BUCKETS));
}

/**
 * `prefix + key`, the same string for the same key: a hot path keyed by a few targets then
 * builds (and hashes) no new string per request. Bounded: past 4,096 keys it starts over.
 *
 * @example
 * const cooldownKey = prefixedKeys("cooldown:");
 * cooldownKey("openai:gpt-4o") // "cooldown:openai:gpt-4o"
 */
export function prefixedKeys(prefix: string): (key: string) => string {
  const cache = new Map<string, string>();
  return (key) => {
    let full = cache.get(key);
    if (full === undefined) {
      if (cache.size >= 4096) cache.clear();
      full = prefix + key;
      cache.set(key, full);
    }
    return full;
  };
}
