import { nonNegativeNumber, positiveNumber } from "../options.js";
import { MemoryStateStore } from "../state/memory-state-store.js";
import { prefixedKeys, type StateStore } from "../state/state-store.js";
import { definedOnly } from "./backoff.js";

/** Retry budget settings (Finagle style). Every field is optional. */
export interface RetryBudgetOptions {
  /** Retries allowed as a share of requests over the window. @default 0.2 */
  readonly ratio?: number | undefined;
  /** Retries allowed regardless of traffic, per second of window. @default 1 */
  readonly minRetriesPerSecond?: number | undefined;
  /** The sliding window. @default 10000 */
  readonly windowMs?: number | undefined;
}

/** Budget settings with defaults applied. */
export type ResolvedRetryBudget = {
  readonly [K in keyof RetryBudgetOptions]-?: Exclude<RetryBudgetOptions[K], undefined>;
};

/** Validates budget settings once; throws `RangeError` naming the bad option. */
export function resolveRetryBudget(options: RetryBudgetOptions = {}): ResolvedRetryBudget {
  const o = definedOnly(options);
  return {
    ratio: nonNegativeNumber("retryBudget.ratio", o.ratio ?? 0.2),
    minRetriesPerSecond: nonNegativeNumber(
      "retryBudget.minRetriesPerSecond",
      o.minRetriesPerSecond ?? 1,
    ),
    windowMs: positiveNumber("retryBudget.windowMs", o.windowMs ?? 10_000),
  };
}

/**
 * Caps retries as a share of traffic so an outage cannot become a retry storm: over the last
 * `windowMs`, retries may number at most `ratio × requests + minRetriesPerSecond × windowMs/1000`.
 * A quiet client keeps its full retries on one call (the floor); a busy one in a sustained outage
 * retries at most ~`ratio` of its traffic; and the budget heals by itself as the window slides.
 * One budget per key (per target); share the store to share it across a fleet.
 */
export class RetryBudget {
  readonly options: ResolvedRetryBudget;
  readonly #store: StateStore;

  constructor(options: RetryBudgetOptions = {}, store: StateStore = new MemoryStateStore()) {
    this.options = resolveRetryBudget(options);
    this.#store = store;
  }

  /** Counts one request (a first attempt, not a retry) against `key`. */
  async recordRequest(key: string): Promise<void> {
    await this.#store.addToWindow(this.#key(key), "requests", 1, this.options.windowMs);
  }

  /**
   * {@link recordRequest} at once when the budget lives in an in-process store (no promise on
   * the hot path); false, having done nothing, when its store is another kind.
   */
  recordRequestNow(key: string): boolean {
    const store = this.#store;
    if (!(store instanceof MemoryStateStore)) return false;
    store.addToWindowSync(this.#key(key), "requests", 1, this.options.windowMs);
    return true;
  }

  /** Takes back a request counted for `key` that was not made after all. */
  async unrecordRequest(key: string): Promise<void> {
    await this.#store.addToWindow(this.#key(key), "requests", -1, this.options.windowMs);
  }

  /**
   * Takes one retry from the budget of `key`; false when the budget is spent. The withdrawal is
   * optimistic (add, then give back if over), so concurrent callers never overdraw it.
   */
  async tryAcquireRetry(key: string): Promise<boolean> {
    const { windowMs } = this.options;
    const totals = await this.#store.addToWindow(this.#key(key), "retries", 1, windowMs);
    if ((totals.retries ?? 0) <= this.allowed(totals.requests ?? 0)) return true;
    await this.#store.addToWindow(this.#key(key), "retries", -1, windowMs);
    return false;
  }

  /** Retries the window allows for `requests` requests. */
  allowed(requests: number): number {
    const { ratio, minRetriesPerSecond, windowMs } = this.options;
    return ratio * requests + (minRetriesPerSecond * windowMs) / 1000;
  }

  readonly #key = prefixedKeys("budget:");
}
