import { nonNegativeNumber, positiveInteger } from "../options.js";
import { MemoryStateStore } from "../state/memory-state-store.js";

/**
 * Hedged requests: when an attempt has not answered (or, streaming, sent its first content)
 * after `afterMs`, the same request starts on the next target; the first to deliver content
 * wins and the others are aborted.
 */
export interface HedgeOptions {
  /** How long an attempt may stay silent before a hedge starts. Required. */
  readonly afterMs: number;
  /** Hedges per attempt at most. @default 1 */
  readonly maxHedges?: number | undefined;
  /**
   * Hedges as a share of requests over the retry budget's window (so a provider-wide slowdown
   * adds at most this share of extra requests). @default 0.1
   */
  readonly budget?: number | undefined;
}

/** Hedge settings with defaults applied. */
export interface ResolvedHedge {
  readonly afterMs: number;
  readonly maxHedges: number;
  readonly budget: number;
}

/** Validates hedge settings once; throws `RangeError` naming the bad option. */
export function resolveHedge(options: HedgeOptions): ResolvedHedge {
  if (typeof options !== "object" || options === null)
    throw new RangeError(`expected an object for hedge, got ${String(options)}`);
  return {
    afterMs: nonNegativeNumber("hedge.afterMs", options.afterMs),
    maxHedges: positiveInteger("hedge.maxHedges", options.maxHedges ?? 1),
    budget: nonNegativeNumber("hedge.budget", options.budget ?? 0.1),
  };
}

/**
 * The hedge budget of one client: over the last `windowMs`, hedges may number at most
 * `ratio × requests` (the request being hedged included). Kept in the process: a hedge is
 * this process's own extra load.
 */
export class HedgeBudget {
  readonly #window: MemoryStateStore;
  readonly #windowMs: number;

  constructor(windowMs: number, now: () => number) {
    this.#window = new MemoryStateStore({ now });
    this.#windowMs = windowMs;
  }

  /** Counts one request (a call's first attempt). */
  recordRequest(): void {
    this.#window.addToWindowSync("hedge", "requests", 1, this.#windowMs);
  }

  /** Takes one hedge from the budget; false when it is spent. */
  tryAcquire(ratio: number): boolean {
    const totals = this.#window.addToWindowSync("hedge", "hedges", 1, this.#windowMs);
    if ((totals.hedges ?? 0) <= ratio * (totals.requests ?? 0)) return true;
    this.#window.addToWindowSync("hedge", "hedges", -1, this.#windowMs);
    return false;
  }
}
