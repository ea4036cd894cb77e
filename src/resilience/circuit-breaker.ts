import { classify } from "../errors/classify.js";
import { CircuitOpenError } from "../errors/errors.js";
import { fraction, positiveInteger, positiveNumber } from "../options.js";
import { MemoryStateStore } from "../state/memory-state-store.js";
import type { StateStore } from "../state/state-store.js";
import { definedOnly } from "./backoff.js";

/** The three states of a breaker. */
export type CircuitState = "closed" | "open" | "half-open";

/**
 * A breaker's stored state: a tagged object per state holding only its own data, so it can be
 * saved (`toJSON()`), restored (`initialState`) and shared through a {@link StateStore}.
 */
export type BreakerSnapshot =
  | { readonly state: "closed"; readonly failures: number }
  | {
      readonly state: "open";
      readonly openedAt: number;
      /** When a probe may go. */
      readonly openUntil: number;
      /** This open period; the next one after a failed probe is twice as long (capped). */
      readonly openPeriodMs: number;
      /** Consecutive failures so far (those that opened it, plus failed probes). */
      readonly failures?: number;
    }
  | {
      readonly state: "half-open";
      readonly successes: number;
      readonly openPeriodMs: number;
      /** Consecutive failures before this probe. */
      readonly failures?: number;
    };

/** Open also when the failure rate over a sliding window passes a threshold. */
export interface FailureRateOptions {
  /** Share of failed calls that opens the breaker, 0..1. */
  readonly threshold: number;
  /** Fewest calls in the window before the rate counts. @default 10 */
  readonly minimumCalls?: number | undefined;
  /** Window length. @default 60000 */
  readonly windowMs?: number | undefined;
}

/** Hears a breaker's transition: its key, the state it left and the one it entered. */
export type StateChangeListener = (key: string, from: CircuitState, to: CircuitState) => void;

/** Circuit breaker settings. Every field is optional. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. @default 5 */
  readonly failureThreshold?: number | undefined;
  /** Successful probes that close it again. @default 2 */
  readonly successThreshold?: number | undefined;
  /** Longest open period (the seed's `timeout`). @default 30000 */
  readonly resetTimeoutMs?: number | undefined;
  /** First open period; it doubles after each failed probe up to `resetTimeoutMs`. @default 2000 */
  readonly minResetTimeoutMs?: number | undefined;
  /** Optional failure-rate rule, in addition to the consecutive-failure rule. */
  readonly failureRate?: FailureRateOptions | undefined;
  /** How long a probe may hold the half-open slot before it frees itself. @default 60000 */
  readonly probeLeaseMs?: number | undefined;
  /** Whether an error counts as a failure. @default the failure table's "counts toward breaker" */
  readonly isFailure?: ((error: unknown) => boolean) | undefined;
  /** Called on every transition this process makes. */
  readonly onStateChange?: StateChangeListener | undefined;
  /** Where the state lives; share one to share the breaker. @default a private MemoryStateStore */
  readonly store?: StateStore | undefined;
  /** Start from a saved state (`toJSON()` of another breaker). */
  readonly initialState?: BreakerSnapshot | undefined;
}

/** Breaker settings with defaults applied (store-independent). */
export interface ResolvedBreakerOptions {
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly resetTimeoutMs: number;
  readonly minResetTimeoutMs: number;
  readonly probeLeaseMs: number;
  readonly failureRate:
    | { readonly threshold: number; readonly minimumCalls: number; readonly windowMs: number }
    | undefined;
}

/** Validates breaker settings once; throws `RangeError` naming the bad option. */
export function resolveBreakerOptions(options: CircuitBreakerOptions = {}): ResolvedBreakerOptions {
  const o = definedOnly(options);
  const resetTimeoutMs = positiveNumber("resetTimeoutMs", o.resetTimeoutMs ?? 30_000);
  const minResetTimeoutMs = positiveNumber(
    "minResetTimeoutMs",
    o.minResetTimeoutMs ?? Math.min(2_000, resetTimeoutMs),
  );
  if (minResetTimeoutMs > resetTimeoutMs) {
    throw new RangeError(
      `expected minResetTimeoutMs ≤ resetTimeoutMs (${resetTimeoutMs}), got ${minResetTimeoutMs}`,
    );
  }
  const rate = o.failureRate;
  return {
    failureThreshold: positiveInteger("failureThreshold", o.failureThreshold ?? 5),
    successThreshold: positiveInteger("successThreshold", o.successThreshold ?? 2),
    resetTimeoutMs,
    minResetTimeoutMs,
    probeLeaseMs: positiveNumber("probeLeaseMs", o.probeLeaseMs ?? 60_000),
    failureRate: rate && {
      threshold: fraction("failureRate.threshold", rate.threshold),
      minimumCalls: positiveInteger("failureRate.minimumCalls", rate.minimumCalls ?? 10),
      windowMs: positiveNumber("failureRate.windowMs", rate.windowMs ?? 60_000),
    },
  };
}

const CLOSED: BreakerSnapshot = { state: "closed", failures: 0 };

/** The state a snapshot shows at `now`: an open breaker whose period is over reads half-open. */
export function visibleState(snapshot: BreakerSnapshot, now: number): CircuitState {
  return snapshot.state === "open" && now >= snapshot.openUntil ? "half-open" : snapshot.state;
}

/** Pure transition on a failure that counts. `tripped` is the failure-rate rule's verdict. */
export function afterFailure(
  s: BreakerSnapshot,
  o: ResolvedBreakerOptions,
  now: number,
  probe: boolean,
  tripped = false,
): BreakerSnapshot {
  const open = (periodMs: number, failures: number): BreakerSnapshot => ({
    state: "open",
    openedAt: now,
    openUntil: now + periodMs,
    openPeriodMs: periodMs,
    failures,
  });
  if (s.state === "closed") {
    const failures = s.failures + 1;
    return failures >= o.failureThreshold || tripped
      ? open(o.minResetTimeoutMs, failures)
      : { state: "closed", failures };
  }
  if (s.state === "half-open" && probe) {
    return open(Math.min(o.resetTimeoutMs, s.openPeriodMs * 2), (s.failures ?? 0) + 1);
  }
  return s; // already open, or a late non-probe call: nothing new learned
}

/** Pure transition on a success. */
export function afterSuccess(
  s: BreakerSnapshot,
  o: ResolvedBreakerOptions,
  probe: boolean,
): BreakerSnapshot {
  if (s.state === "closed") return s.failures === 0 ? s : CLOSED;
  if (s.state === "half-open" && probe) {
    const successes = s.successes + 1;
    return successes >= o.successThreshold ? CLOSED : { ...s, successes };
  }
  return s;
}

/** Permission to make one call, from {@link CircuitBreaker.acquire}. */
export interface BreakerPermit {
  /** True when this call is the half-open probe. */
  readonly probe: boolean;
  /** The state seen when the permit was given. */
  readonly snapshot: BreakerSnapshot;
  /** The probe slot's lease holder, for a probe. */
  readonly holder?: string | undefined;
}

let holderSequence = 0;
const processTag = Math.random().toString(36).slice(2, 10);

/**
 * A circuit breaker: closed → open after `failureThreshold` consecutive failures (or the optional
 * failure-rate rule) → half-open when the open period ends, with exactly one probe in flight
 * (across processes when the store is shared) → closed after `successThreshold` successful probes.
 * The open period starts at `minResetTimeoutMs` and doubles after each failed probe up to
 * `resetTimeoutMs`. A call whose error does not count (a 429, a 400, an abort) frees the probe slot
 * and leaves the breaker half-open.
 *
 * @example
 * const breaker = new CircuitBreaker("billing-api", { failureThreshold: 3 });
 * const invoice = await breaker.call(fetchInvoice, id);   // CircuitOpenError while open
 */
export class CircuitBreaker {
  readonly key: string;
  readonly options: ResolvedBreakerOptions;
  readonly #store: StateStore;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #onStateChange: StateChangeListener | undefined;
  readonly #stateKey: string;
  readonly #probeKey: string;
  readonly #rateKey: string;
  #last: BreakerSnapshot;

  constructor(key: string, options: CircuitBreakerOptions = {}) {
    this.key = key;
    this.options = resolveBreakerOptions(options);
    this.#store = options.store ?? new MemoryStateStore();
    this.#isFailure = options.isFailure ?? ((error) => classify(error).countsForBreaker);
    this.#onStateChange = options.onStateChange;
    this.#stateKey = `breaker:${key}`;
    this.#probeKey = `probe:${key}`;
    this.#rateKey = `calls:${key}`;
    this.#last = options.initialState ?? CLOSED;
    if (options.initialState) void this.#store.set(this.#stateKey, options.initialState);
  }

  /** The store key the breaker's snapshot lives under (for callers that batch their reads). */
  get stateKey(): string {
    return this.#stateKey;
  }

  /** The state last seen (an open breaker whose period is over reads "half-open"). */
  get state(): CircuitState {
    return visibleState(this.#last, this.#store.now());
  }

  /** The last seen snapshot, for saving and restoring (`initialState`). */
  toJSON(): BreakerSnapshot {
    return this.#last;
  }

  /** Reads the current snapshot from the store. */
  async snapshot(): Promise<BreakerSnapshot> {
    this.#last = (await this.#store.get<BreakerSnapshot>(this.#stateKey)) ?? CLOSED;
    return this.#last;
  }

  /** Closes the breaker and frees the probe slot. */
  async reset(): Promise<void> {
    const from = this.state;
    await Promise.all([this.#store.delete(this.#stateKey), this.#store.delete(this.#probeKey)]);
    this.#last = CLOSED;
    if (from !== "closed") this.#onStateChange?.(this.key, from, "closed");
  }

  /**
   * Asks to make one call. Resolves with a permit, or rejects with `CircuitOpenError` (carrying
   * when a probe may go) without any call being made. `leaseMs` bounds how long a probe may hold
   * the half-open slot (default `probeLeaseMs`): pass the call's own time bound. `known` is the
   * snapshot when the caller already read it from the store under {@link stateKey} (`null` when
   * there was none), saving a read. `onStateChange`, when given, hears the transition this call
   * makes instead of the breaker's own listener (so a caller can tell which transitions it made).
   */
  async acquire(
    leaseMs = this.options.probeLeaseMs,
    known?: BreakerSnapshot | undefined | null,
    onStateChange?: StateChangeListener,
  ): Promise<BreakerPermit> {
    let snapshot: BreakerSnapshot;
    if (known === undefined) snapshot = await this.snapshot();
    else this.#last = snapshot = known ?? CLOSED;
    if (snapshot.state === "closed") return { probe: false, snapshot };
    const now = this.#store.now();
    if (snapshot.state === "open" && now < snapshot.openUntil) {
      throw new CircuitOpenError(this.key, snapshot.openUntil - now);
    }
    const holder = `${processTag}:${++holderSequence}`;
    if (!(await this.#store.acquireLease(this.#probeKey, holder, leaseMs))) {
      // Another probe is in flight; its outcome decides soon.
      throw new CircuitOpenError(this.key, this.options.minResetTimeoutMs);
    }
    const next = await this.#transition(
      (s) =>
        s.state === "open" && this.#store.now() >= s.openUntil
          ? {
              state: "half-open",
              successes: 0,
              openPeriodMs: s.openPeriodMs,
              ...(s.failures !== undefined ? { failures: s.failures } : {}),
            }
          : s,
      onStateChange,
    );
    if (next.state === "closed") {
      // Someone closed it meanwhile: no probe needed.
      await this.#store.releaseLease(this.#probeKey, holder);
      return { probe: false, snapshot: next };
    }
    return { probe: true, snapshot: next, holder };
  }

  /**
   * The permit {@link acquire} would give when `known` (the snapshot the caller read under
   * {@link stateKey}; `null` for none) shows the breaker closed — at once, with no promise; else
   * undefined, and the caller goes through `acquire`.
   */
  permitWhenClosed(known: BreakerSnapshot | undefined | null): BreakerPermit | undefined {
    if (known === undefined || (known !== null && known.state !== "closed")) return undefined;
    this.#last = known ?? CLOSED;
    return { probe: false, snapshot: this.#last };
  }

  /**
   * Whether {@link success} has anything to record for `permit`: false on the hot path (closed,
   * no failures counted, no failure-rate window), where the caller may skip it.
   */
  successMatters(permit: BreakerPermit): boolean {
    return (
      this.options.failureRate !== undefined ||
      permit.probe ||
      permit.snapshot.state !== "closed" ||
      permit.snapshot.failures !== 0
    );
  }

  /** Reports the permitted call's success (`onStateChange`: as for {@link acquire}). */
  async success(permit: BreakerPermit, onStateChange?: StateChangeListener): Promise<void> {
    await this.#recordRate(permit, false);
    if (permit.snapshot.state === "closed" && permit.snapshot.failures === 0 && !permit.probe) {
      return; // the hot path: nothing to write
    }
    await this.#transition((s) => afterSuccess(s, this.options, permit.probe), onStateChange);
    await this.#freeProbe(permit);
  }

  /**
   * Reports the permitted call's failure; errors that do not count only free the probe slot.
   * `onStateChange`: as for {@link acquire}.
   */
  async failure(
    permit: BreakerPermit,
    error: unknown,
    onStateChange?: StateChangeListener,
  ): Promise<void> {
    if (this.#isFailure(error)) {
      const tripped = await this.#recordRate(permit, true);
      const now = this.#store.now();
      await this.#transition(
        (s) => afterFailure(s, this.options, now, permit.probe, tripped),
        onStateChange,
      );
    }
    await this.#freeProbe(permit);
  }

  /** Frees the permit's probe slot without a verdict (the call was cancelled). */
  async release(permit: BreakerPermit): Promise<void> {
    await this.#freeProbe(permit);
  }

  /**
   * Runs `fn(...args)` through the breaker.
   * @throws CircuitOpenError while open, without calling `fn`; otherwise whatever `fn` throws.
   */
  async call<A extends unknown[], R>(fn: (...args: A) => Promise<R> | R, ...args: A): Promise<R> {
    const permit = await this.acquire();
    let result: R;
    try {
      result = await fn(...args);
    } catch (error) {
      await this.failure(permit, error);
      throw error;
    }
    await this.success(permit);
    return result;
  }

  async #recordRate(permit: BreakerPermit, failed: boolean): Promise<boolean> {
    const rate = this.options.failureRate;
    if (!rate || permit.probe) return false;
    const totals = await this.#store.addToWindow(
      this.#rateKey,
      failed ? "failures" : "successes",
      1,
      rate.windowMs,
    );
    const failures = totals.failures ?? 0;
    const calls = failures + (totals.successes ?? 0);
    return failed && calls >= rate.minimumCalls && failures / calls >= rate.threshold;
  }

  async #freeProbe(permit: BreakerPermit): Promise<void> {
    if (permit.holder !== undefined) await this.#store.releaseLease(this.#probeKey, permit.holder);
  }

  async #transition(
    fn: (s: BreakerSnapshot) => BreakerSnapshot,
    onStateChange = this.#onStateChange,
  ): Promise<BreakerSnapshot> {
    let from: BreakerSnapshot = CLOSED;
    const next =
      (await this.#store.update<BreakerSnapshot>(this.#stateKey, (current) => {
        from = current ?? CLOSED;
        const to = fn(from);
        return to.state === "closed" && to.failures === 0 ? undefined : to;
      })) ?? CLOSED;
    this.#last = next;
    if (from.state !== next.state) onStateChange?.(this.key, from.state, next.state);
    return next;
  }
}

const registry = new Map<string, CircuitBreaker>();

/**
 * The breaker registered under `name`, created with `options` on first use. The registry is the
 * package's one deliberate piece of global state: every `circuitBreaker(name)` shares it.
 */
export function getCircuitBreaker(name: string, options?: CircuitBreakerOptions): CircuitBreaker {
  let breaker = registry.get(name);
  if (!breaker) {
    breaker = new CircuitBreaker(name, options);
    registry.set(name, breaker);
  }
  return breaker;
}

/**
 * Wraps `fn` so every call goes through the named registry breaker. Also a TS 5 method decorator:
 * `@circuitBreaker("search") async query() {…}`.
 */
export function circuitBreaker(name: string, options?: CircuitBreakerOptions) {
  const breaker = getCircuitBreaker(name, options);
  return <A extends unknown[], R>(
    fn: (this: unknown, ...args: A) => Promise<R> | R,
    _context?: ClassMethodDecoratorContext,
  ): ((this: unknown, ...args: A) => Promise<R>) =>
    function (this: unknown, ...args: A): Promise<R> {
      return breaker.call(() => fn.apply(this, args));
    };
}
