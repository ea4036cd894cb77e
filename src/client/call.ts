import { classify, type FailureDecision, isAbortError } from "../errors/classify.js";
import {
  BadRequestError,
  CircuitOpenError,
  ContextLengthExceededError,
  FallbackExhaustedError,
  RateLimitError,
  RetryClientError,
  StreamInterruptedError,
  TimeoutError,
} from "../errors/errors.js";
import { computeBackoff, definedOnly, type ResolvedBackoff } from "../resilience/backoff.js";
import {
  type BreakerPermit,
  type BreakerSnapshot,
  type CircuitBreaker,
  visibleState,
} from "../resilience/circuit-breaker.js";
import { linkSignals } from "../resilience/link-signals.js";
import type { RetryBudget } from "../resilience/retry-budget.js";
import { sleep } from "../resilience/sleep.js";
import type { ResolvedGroup } from "../routing/group-balancer.js";
import type { Router } from "../routing/router.js";
import {
  estimateInputTokens,
  type Headroom,
  type RequestEstimate,
  Throttle,
  type ThrottleTicket,
} from "../routing/throttle.js";
import { MemoryStateStore } from "../state/memory-state-store.js";
import type { StateStore } from "../state/state-store.js";
import type {
  AttemptRecord,
  ChatMessage,
  Provider,
  ProviderRequestOptions,
  ProviderResponse,
  ProviderStreamEvent,
  RateLimitInfo,
  ToolCall,
  Usage,
  Warning,
} from "../types.js";
import type { ModelCatalogue } from "./catalogue.js";
import { type Cooldown, cappedCooldown, cooldownKey, readCooldown } from "./cooldown.js";
import { CallTelemetry, type Instruments } from "./instrumentation.js";
import type {
  CallOptions,
  ChatResponse,
  ClientConfig,
  MidStreamFailure,
  ModelSpec,
  StreamEvent,
} from "./types.js";

/** What a call needs from its client: providers, breakers, the budget, settings. */
export interface CallEngine {
  provider(name: string): Provider;
  breaker(key: string): CircuitBreaker | undefined;
  readonly budget: RetryBudget | undefined;
  readonly store: StateStore;
  readonly catalogue: ModelCatalogue;
  readonly config: ClientConfig;
  readonly backoff: ResolvedBackoff;
  readonly maxRetries: number;
  readonly maxRetryAfterMs: number;
  /** The configured listeners; undefined when there are none (then no event is built). */
  readonly instruments: Instruments | undefined;
  warn(warning: Warning, emit?: (event: StreamEvent) => void, call?: CallTelemetry["call"]): void;
  /** The state key of a target: `provider:model`, or `provider@<endpoint digest>:model`. */
  keyOf(target: ModelSpec): string;
  /** Which target next: group strategies, rate-limit headroom, hedges. */
  readonly router: Router;
}

/** One of the concurrent requests of a hedged attempt: its own abort, its events held until it wins. */
interface Lane {
  /** 0 for the first request of the attempt, 1… for its hedges. */
  readonly index: number;
  /** The attempt as the listeners saw it start. */
  telemetry?: AttemptStarted | undefined;
  readonly signal: AbortSignal;
  readonly emit: (event: StreamEvent) => void;
  /** At the lane's first content: true when it is (now) the winner, false when another won. */
  claim(): boolean;
}

/** An attempt as the instrumentation saw it start. */
type AttemptStarted = ReturnType<CallTelemetry["attemptStart"]>;

/** What one request to one target came to. */
type AttemptResult =
  | ChatResponse
  | { error: unknown; ttftMs: number | undefined; usage?: Usage | undefined; cancelled?: true };

/** A target's run ended without an answer. */
interface TargetFailure {
  readonly error: Error;
  readonly decision: FailureDecision;
}

const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
/** The abort reason of a hedged request that lost. */
const CANCELLED = Object.freeze(new Error("cancelled: a hedged request delivered first"));
const noop = () => {};

/**
 * The state key of a target (breaker, cooldown, budget): `provider:model` on the provider's
 * default endpoint; `provider@<digest>:model` when `endpoint` (its base URL) is another one, so
 * that state learnt against one endpoint never blocks another.
 */
export const targetKey = (t: ModelSpec, endpoint?: string): string =>
  endpoint === undefined
    ? `${t.provider}:${t.model}`
    : `${t.provider}@${endpointDigest(endpoint)}:${t.model}`;

/** A short, stable digest of a base URL (FNV-1a, 32 bits, 8 hex digits). */
export function endpointDigest(baseURL: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < baseURL.length; i++) {
    hash ^= baseURL.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/**
 * One `complete()` or `stream()` call: walks the chain of targets, retrying each per the failure
 * table, honouring cooldowns, breakers, the retry budget and the deadline, and — for streams —
 * the mid-stream policy. Every piece of per-call state lives here, so the client stays stateless.
 */
export class Call {
  readonly attempts: AttemptRecord[] = [];
  readonly #engine: CallEngine;
  readonly #messages: readonly ChatMessage[];
  readonly #options: CallOptions;
  readonly #targets: readonly ModelSpec[];
  readonly #emit: (event: StreamEvent) => void;
  readonly #streaming: boolean;
  /** Aborts on the caller's abort, the deadline or a stream's cancel; undefined when none can. */
  readonly #signal: AbortSignal | undefined;
  readonly #callerSignal: AbortSignal | undefined;
  readonly #deadlineAt: number | undefined;
  readonly #maxRetries: number;
  readonly #backoff: ResolvedBackoff;
  readonly #policy: MidStreamFailure;
  /** This call's listeners; undefined when none are configured. */
  readonly #tel: CallTelemetry | undefined;
  #totalUsage: Usage = ZERO_USAGE;
  /** Whether text of the current attempt reached the stream consumer. */
  #shownText = false;
  /** The text an interrupted attempt had shown (from its `StreamInterruptedError`). */
  #shown = "";
  /** Whether tool-call deltas were shown in this answer (a partial tool call cannot be continued). */
  #shownToolCall = false;
  /** The answer so far when continuing from a previous target. */
  #prefill: string | undefined;
  /** The mid-stream failure being recovered from, reported instead of any later error. */
  #interruption: StreamInterruptedError | undefined;
  #pendingDelayMs = 0;
  /** The deployment group the call was made to, if any. */
  readonly #group: ResolvedGroup | undefined;
  /** The group member whose in-flight count this call holds. */
  #reserved: string | undefined;
  /** The token estimate of the request (for throttling), computed on first use. */
  #estimate: RequestEstimate | undefined;
  /**
   * The chosen target's headroom, debited at the moment it was found free (so concurrent calls
   * cannot all spend the same headroom); its first attempt takes it over.
   */
  #ticket: ThrottleTicket | undefined;

  constructor(
    engine: CallEngine,
    messages: readonly ChatMessage[],
    options: CallOptions,
    targets: readonly ModelSpec[],
    signals: { readonly call: AbortSignal | undefined; readonly caller: AbortSignal | undefined },
    deadlineAt: number | undefined,
    emit: ((event: StreamEvent) => void) | undefined,
    group?: ResolvedGroup,
  ) {
    this.#engine = engine;
    this.#group = group;
    this.#messages = messages;
    this.#options = options;
    this.#targets = targets;
    this.#emit = emit ?? noop;
    this.#streaming = emit !== undefined;
    this.#signal = signals.call;
    this.#callerSignal = signals.caller;
    this.#deadlineAt = deadlineAt;
    const retry = options.retry;
    this.#maxRetries =
      engine.config.retryEnabled === false ? 0 : (retry?.maxRetries ?? engine.maxRetries);
    this.#backoff = retry ? { ...engine.backoff, ...definedOnly(retry) } : engine.backoff;
    this.#policy = options.midStreamFailure ?? engine.config.midStreamFailure ?? "error";
    const instruments = engine.instruments;
    if (instruments) {
      const call = {
        operation: "chat" as const,
        streaming: this.#streaming,
        requested: targets[0]!,
        targets,
        options,
        messages,
      };
      this.#tel = new CallTelemetry(instruments, call, this.#now(), (cause) =>
        this.#warn({ code: "hook-threw", message: "a callback threw; ignored", cause }),
      );
    }
  }

  /** Runs the call to an answer, or rejects with the error the rules say to throw. */
  run(): Promise<ChatResponse> {
    const answer = this.#walk().catch((error: unknown) => {
      throw this.#finalError(error);
    });
    const tel = this.#tel;
    if (!tel) return answer;
    return answer.then(
      (response) => {
        tel.end("success", response, undefined, this.attempts, this.#now());
        return response;
      },
      (error: unknown) => {
        const aborted = this.#signal?.aborted && !TimeoutError.isInstance(error);
        tel.end(aborted ? "aborted" : "error", undefined, error, this.attempts, this.#now());
        throw error;
      },
    );
  }

  async #walk(): Promise<ChatResponse> {
    const pending = [...this.#targets];
    const errors: Error[] = [];
    let last: { target: ModelSpec; error: Error } | undefined;
    while (pending.length > 0) {
      const { index, snapshot } =
        this.#firstIfFree(pending) ?? (await this.#nextAvailable(pending));
      const target = pending.splice(index, 1)[0]!;
      if (last) this.#fallback(last.target, target, last.error);
      let outcome: ChatResponse | TargetFailure;
      if (this.#reserved === undefined && this.#ticket === undefined) {
        outcome = await this.#runTarget(target, pending, snapshot);
      } else {
        try {
          outcome = await this.#runTarget(target, pending, snapshot);
        } finally {
          if (this.#reserved !== undefined) this.#engine.router.balancer.release(this.#reserved);
          this.#reserved = undefined;
          // No attempt took the debit over (the breaker skipped the target): give it back.
          if (this.#ticket)
            this.#engine.router.throttle?.settle(this.#ticket, undefined, this.#now());
          this.#ticket = undefined;
        }
      }
      if (!("error" in outcome)) return outcome;
      const { error, decision } = outcome;
      errors.push(error);
      last = { target, error };
      if (!decision.fallback) throw error;
      if (ContextLengthExceededError.isInstance(error)) this.#keepLargerWindows(pending, target);
    }
    if (errors.length === 1) throw errors[0];
    throw new FallbackExhaustedError(errors);
  }

  /**
   * The hot path of {@link #nextAvailable}, with nothing to wait for: a call to one target (no
   * deployment group) on the in-process store, whose target is neither cooling down nor out of
   * headroom. Chooses it at once — no promise, no arrays; undefined when any of that does not
   * hold, and the general path decides.
   */
  #firstIfFree(
    pending: readonly ModelSpec[],
  ): { index: number; snapshot: BreakerSnapshot | null | undefined } | undefined {
    const { store, budget, router } = this.#engine;
    if (pending.length !== 1 || this.#group || !(store instanceof MemoryStateStore))
      return undefined;
    const key = this.#engine.keyOf(pending[0]!);
    const cooldown = readCooldown(store.peek(cooldownKey(key)));
    const throttle = router.throttle;
    const headroom = throttle ? store.peek<Headroom>(throttle.storeKey(key)) : undefined;
    const now = this.#now();
    if (cooldown === "corrupt" || (cooldown && cooldown.until > now)) return undefined;
    if (this.#throttledUntil(key, headroom, now) > 0) return undefined;
    if (budget && !budget.recordRequestNow(key)) return undefined;
    if (throttle) this.#ticket = throttle.dispatch(key, this.#requestEstimate(), now);
    const breaker = this.#engine.breaker(key);
    const snapshot = breaker ? (store.peek<BreakerSnapshot>(breaker.stateKey) ?? null) : undefined;
    return { index: 0, snapshot };
  }

  /** Until when proactive throttling holds `key` back (0: it may go now, or throttling is off). */
  #throttledUntil(key: string, shared: Headroom | undefined, now: number): number {
    const throttle = this.#engine.router.throttle;
    return throttle ? throttle.blockedUntil(key, shared, this.#requestEstimate(), now) : 0;
  }

  /**
   * The pending target to try next, with its breaker snapshot: the first one that is neither
   * cooling down nor out of rate-limit headroom — or, for a deployment group, the member its
   * strategy picks among those (preferring members whose breaker is not open). When all are
   * cooling down, waits for the earliest if that is within `maxRetryAfterMs` and the deadline,
   * else throws its `RateLimitError`.
   *
   * One batch of store reads, issued together (a shared store answers them in one round trip):
   * every pending target's cooldown, breaker and shared rate-limit headroom, and the request
   * counted for the retry budget of the target expected to be chosen (the first one, or the
   * group's pick); it is moved if another one is chosen.
   */
  async #nextAvailable(
    pending: ModelSpec[],
  ): Promise<{ index: number; snapshot: BreakerSnapshot | null | undefined }> {
    const { store, budget, router } = this.#engine;
    const throttle = router.throttle;
    const group = this.#group;
    const keys = pending.map((target) => this.#engine.keyOf(target));
    const breakers = keys.map((key) => this.#engine.breaker(key));
    const reads = keys.map(cooldownKey);
    const breakerAt = reads.length;
    for (const breaker of breakers) if (breaker) reads.push(breaker.stateKey);
    const throttleAt = reads.length;
    if (throttle) for (const key of keys) reads.push(throttle.storeKey(key));
    for (;;) {
      const preselected = group ? router.preselect(group, keys) : -1;
      const expected = Math.max(0, preselected);
      let values: Array<Cooldown | BreakerSnapshot | Headroom | undefined>;
      if (store instanceof MemoryStateStore) {
        // In-process state answers at once: no promise per read on the hot path.
        values = reads.map((key) => store.peek(key));
        if (budget && !budget.recordRequestNow(keys[expected]!))
          await budget.recordRequest(keys[expected]!);
      } else {
        [values] = await Promise.all([
          store.getMany<Cooldown | BreakerSnapshot | Headroom>(reads),
          budget?.recordRequest(keys[expected]!),
        ]);
      }
      const now = this.#now();
      let earliest = -1;
      let until = Number.POSITIVE_INFINITY;
      let throttled = false;
      const usable: number[] = [];
      for (let i = 0; i < pending.length; i++) {
        let cooldown = readCooldown(values[i]);
        if (cooldown === "corrupt") cooldown = await this.#dropCorrupt(reads[i]!);
        let blocked = cooldown && cooldown.until > now ? cooldown.until : 0;
        const t = this.#throttledUntil(keys[i]!, values[throttleAt + i] as Headroom, now);
        const byThrottle = t > blocked;
        if (byThrottle) blocked = t;
        if (blocked === 0) {
          if (!group) {
            if (throttle) this.#ticket = throttle.dispatch(keys[i]!, this.#requestEstimate(), now);
            if (i !== 0 && budget)
              await Promise.all([budget.unrecordRequest(keys[0]!), budget.recordRequest(keys[i]!)]);
            return { index: i, snapshot: snapshotAt(values, breakers, breakerAt, i) };
          }
          usable.push(i);
        } else if (blocked < until) {
          earliest = i;
          until = blocked;
          throttled = byThrottle;
        }
      }
      if (group) {
        const members = usable.filter((i) => group.keys.includes(keys[i]!));
        const closed = members.filter((i) => {
          const snapshot = snapshotAt(values, breakers, breakerAt, i);
          return !snapshot || visibleState(snapshot, now) !== "open";
        });
        const candidates = closed.length > 0 ? closed : members;
        const member = router.choose(group, keys, candidates, preselected);
        const index = member ?? usable[0];
        if (index !== undefined) {
          if (member !== undefined) this.#reserved = keys[member];
          if (throttle)
            this.#ticket = throttle.dispatch(keys[index]!, this.#requestEstimate(), now);
          if (index !== expected && budget)
            await Promise.all([
              budget.unrecordRequest(keys[expected]!),
              budget.recordRequest(keys[index]!),
            ]);
          return { index, snapshot: snapshotAt(values, breakers, breakerAt, index) };
        }
      }
      await budget?.unrecordRequest(keys[expected]!);
      const target = pending[earliest]!;
      const waitMs = until - now;
      const rateLimit = new RateLimitError({
        provider: target.provider,
        model: target.model,
        status: 429,
        retryAfterMs: waitMs,
        providerMessage: throttled
          ? "no rate-limit headroom left until its reset (proactive throttling)"
          : "cooling down after a rate limit",
      });
      if (waitMs > this.#engine.maxRetryAfterMs || !this.#fitsDeadline(waitMs)) throw rateLimit;
      this.#record(target, "skipped", rateLimit, 0);
      this.#tel?.skipped(target, rateLimit, waitMs);
      this.#emit({ type: "retry", ...target, attempt: 0, error: rateLimit, delayMs: waitMs });
      await this.#sleep(waitMs);
    }
  }

  #requestEstimate(): RequestEstimate {
    this.#estimate ??= {
      input: estimateInputTokens(this.#messages),
      output: this.#options.maxTokens ?? 0,
    };
    return this.#estimate;
  }

  /** Every attempt at one target: retries per the failure table, the budget and the deadline. */
  async #runTarget(
    target: ModelSpec,
    pending: readonly ModelSpec[],
    snapshot: BreakerSnapshot | null | undefined,
  ): Promise<ChatResponse | TargetFailure> {
    const hasOtherTarget = pending.length > 0;
    const key = this.#engine.keyOf(target);
    const breaker = this.#engine.breaker(key);
    const budget = this.#engine.budget;
    let previousDelay: number | undefined;
    for (let retry = 0; ; retry++) {
      let permit: BreakerPermit | undefined;
      try {
        // The first attempt uses the snapshot read with the cooldowns; a retry reads it anew.
        const known = retry === 0 ? snapshot : undefined;
        permit =
          breaker?.permitWhenClosed(known) ??
          (await breaker?.acquire(this.#leaseMs(), known, this.#tel?.onBreakerChange));
      } catch (error) {
        if (!CircuitOpenError.isInstance(error)) throw error;
        this.#record(target, "skipped", error, 0);
        this.#tel?.skipped(target, error);
        return { error, decision: classify(error) };
      }
      const started = this.#now();
      let outcome: AttemptResult;
      /** A hedged attempt already recorded this outcome and settled the permit. */
      let settled = false;
      /** The first request's start as the listeners saw it (hedged attempts run several). */
      let telemetry: AttemptStarted | undefined;
      try {
        if (this.#engine.router.hedge) {
          ({ outcome, settled, telemetry } = await this.#hedged(
            target,
            started,
            pending,
            permit,
            breaker,
          ));
        } else {
          outcome = await this.#attempt(target, started);
        }
      } catch (error) {
        // Bugs in our own code path must not leave a probe slot taken.
        outcome = { error, ttftMs: undefined };
      }
      if (settled) permit = undefined;
      if (!("error" in outcome)) {
        if (permit && breaker?.successMatters(permit))
          await breaker.success(permit, this.#tel?.onBreakerChange);
        return outcome;
      }
      const error = outcome.error;
      if (
        this.#callerSignal?.aborted ||
        (this.#signal?.aborted && isAbortError(error, this.#signal))
      ) {
        // A caller's abort (or our deadline) says nothing about the target: free the slot only.
        if (permit) await breaker?.release(permit);
        const reason = asError(this.#signal?.reason);
        if (!settled) {
          const record = this.#record(target, "error", reason, this.#now() - started);
          this.#tel?.attemptEnd(record, reason, undefined, telemetry);
        }
        throw this.#signal?.reason;
      }
      const decision = classify(error, {
        signal: this.#signal,
        hasOtherTarget,
        fallbackOnContentFilter: this.#engine.config.fallbackOnContentFilter ?? false,
      });
      if (decision.kind === "foreign") {
        // Not the target's failure (a bug, a custom provider's own error): rethrown as itself.
        if (permit) await breaker?.release(permit);
        const typed = asError(error);
        const record = this.#record(target, "error", typed, this.#now() - started);
        this.#tel?.attemptEnd(record, typed, undefined);
        throw error;
      }
      if (permit) await breaker?.failure(permit, error, this.#tel?.onBreakerChange);
      const typed = asError(error);
      if (!settled) {
        const { ttftMs, usage } = outcome;
        const record = this.#record(target, "error", typed, this.#now() - started, ttftMs, usage);
        this.#tel?.attemptEnd(record, typed, undefined, telemetry);
      }
      // The wait before a retry: what the server asked for, else backoff. A rate limit also
      // cools the target down for that long, for every call that shares the store.
      const serverWait = decision.retryAfterMs;
      const delayMs = serverWait ?? computeBackoff(retry, this.#backoff, previousDelay);
      previousDelay = delayMs;
      if (decision.cooldown) await this.#coolDown(key, delayMs);
      if (StreamInterruptedError.isInstance(typed)) return this.#midStream(typed, decision);
      if (this.#prefill !== undefined && isPrefillRejection(typed)) {
        // The target refused to continue our text: replay the answer from scratch, at once.
        this.#abandonPrefill(target);
        retry--;
        continue;
      }
      if (!decision.retry || retry >= this.#maxRetries) return { error: typed, decision };
      // This failure opened the breaker: a retry would only be skipped, so fall back now.
      if (breaker?.state === "open") return { error: typed, decision };
      if (serverWait !== undefined && serverWait > this.#engine.maxRetryAfterMs) {
        return { error: typed, decision };
      }
      if (!this.#fitsDeadline(delayMs)) return { error: typed, decision };
      if (budget && !(await budget.tryAcquireRetry(key))) {
        this.#warn({
          code: "retry-budget-exhausted",
          message: `retry budget of ${key} is spent; not retrying`,
        });
        return { error: typed, decision };
      }
      this.#tel?.retry(target, retry + 1, typed, delayMs);
      this.#emit({ type: "retry", ...target, attempt: retry + 1, error: typed, delayMs });
      await this.#sleep(delayMs);
    }
  }

  /**
   * One request to one target. Resolves with the answer, or with the failure it met. A `lane`
   * (hedged attempts) gives the request its own abort and holds its events until it wins.
   */
  async #attempt(target: ModelSpec, started: number, lane?: Lane): Promise<AttemptResult> {
    const emit = lane ? lane.emit : this.#emit;
    // Events exist only for streams: `complete()` builds none on its hot path.
    if (this.#streaming) {
      emit({
        type: "attempt-start",
        ...target,
        attempt: this.attempts.length,
        ...(this.#options.metadata ? { metadata: this.#options.metadata } : {}),
      });
    }
    let provider: Provider;
    try {
      provider = this.#engine.provider(target.provider);
    } catch (error) {
      const telemetry = this.#tel?.attemptStart(target, this.#attemptIndex(lane), undefined);
      if (lane) lane.telemetry = telemetry;
      return { error, ttftMs: undefined };
    }
    const request = this.#requestOptions(target, provider, lane?.signal);
    const telemetry = this.#tel?.attemptStart(target, this.#attemptIndex(lane), provider);
    if (lane) lane.telemetry = telemetry;
    const throttle = this.#engine.router.throttle;
    let ticket: ThrottleTicket | undefined;
    if (throttle) {
      const key = this.#engine.keyOf(target);
      if (this.#ticket?.key === key) {
        ticket = this.#ticket;
        this.#ticket = undefined;
      } else ticket = throttle.dispatch(key, this.#requestEstimate(), started);
    }
    if (!this.#streaming) {
      try {
        const response = await provider.complete(this.#messages, request);
        const sharing = ticket && this.#settle(ticket, response.rateLimit, response.usage);
        if (sharing) await sharing;
        if (lane && !lane.claim()) return { error: CANCELLED, ttftMs: undefined, cancelled: true };
        return this.#succeed(target, response, started, undefined, lane);
      } catch (error) {
        const sharing = ticket && this.#settle(ticket, rateLimitOf(error));
        if (sharing) await sharing;
        return { error, ttftMs: undefined };
      }
    }
    let ttftMs: number | undefined;
    let usage: Usage | undefined;
    try {
      const batches = provider.streamBatches
        ? provider.streamBatches(this.#messages, request)
        : oneByOne(provider.stream(this.#messages, request));
      for await (const batch of batches) {
        // Indexed: an iterator here (in an async function) costs an object per event.
        for (let i = 0; i < batch.length; i++) {
          const event = batch[i]!;
          switch (event.type) {
            case "text-delta":
            case "tool-call-delta":
              if (ttftMs === undefined) {
                ttftMs = this.#now() - started;
                if (lane && !lane.claim()) return { error: CANCELLED, ttftMs, cancelled: true };
                this.#tel?.firstChunk(ttftMs, lane?.telemetry);
              }
              if (event.type === "text-delta") this.#shownText = true;
              else this.#shownToolCall = true;
              this.#emit(event);
              break;
            case "usage":
              usage = event.usage;
              emit(event);
              break;
            case "warning":
              this.#warn(event.warning);
              break;
            case "tool-call":
              emit(event);
              break;
            case "finish":
              if (ticket) {
                const info = event.response.rateLimit;
                const sharing = this.#settle(ticket, info, event.response.usage);
                if (sharing) await sharing;
              }
              if (lane && !lane.claim())
                return { error: CANCELLED, ttftMs, cancelled: true, usage: event.response.usage };
              return this.#succeed(target, event.response, started, ttftMs, lane);
          }
        }
      }
      // Providers end with `finish`; a bare end is a truncation.
      throw new StreamInterruptedError("the stream ended without a finish event", {
        partialText: "",
        provider: target.provider,
        model: target.model,
      });
    } catch (error) {
      const sharing = ticket && this.#settle(ticket, rateLimitOf(error));
      if (sharing) await sharing;
      return usage ? { error, ttftMs, usage } : { error, ttftMs };
    }
  }

  /** The index the listeners see for an attempt: its record's, offset for a hedge. */
  #attemptIndex(lane: Lane | undefined): number {
    return this.attempts.length + (lane?.index ?? 0);
  }

  /**
   * A request ended: its rate-limit headers update the headroom, shared once it runs low. The
   * promise of that write, or undefined when there is nothing to share (the hot path: no await).
   */
  #settle(
    ticket: ThrottleTicket,
    info: RateLimitInfo | undefined,
    usage?: Usage,
  ): Promise<void> | undefined {
    const throttle = this.#engine.router.throttle!;
    const low = throttle.settle(ticket, info, this.#now(), usage?.inputTokens);
    if (!low) return undefined;
    const ttlMs = Math.max(low.requestsResetAt ?? 0, low.tokensResetAt ?? 0) - this.#now();
    return ttlMs > 0 ? this.#share(throttle, ticket, low, ttlMs) : undefined;
  }

  /** Writes headroom that runs low to the store, for the fleet; a store failure is a warning. */
  async #share(
    throttle: Throttle,
    ticket: ThrottleTicket,
    low: Headroom,
    ttlMs: number,
  ): Promise<void> {
    try {
      await this.#engine.store.update<Headroom>(
        throttle.storeKey(ticket.key),
        (current) => Throttle.merge(current, low),
        ttlMs,
      );
    } catch (cause) {
      this.#engine.warn(
        { code: "store-unavailable", message: "could not share rate-limit headroom", cause },
        this.#emit,
      );
    }
  }

  /**
   * One attempt with hedges: when it has not delivered content after `afterMs`, the same request
   * starts on the next target that is free (the same target when none is), within the hedge
   * budget. The first to deliver content wins; the others are aborted and recorded "cancelled".
   *
   * Returns the outcome for the retry rules. `settled` says this method already recorded it and
   * dealt with `permit` (the primary's breaker slot): true whenever another request than the
   * primary decided the outcome, or the primary failed while a hedge went on.
   */
  async #hedged(
    target: ModelSpec,
    started: number,
    pending: readonly ModelSpec[],
    permit: BreakerPermit | undefined,
    breaker: CircuitBreaker | undefined,
  ): Promise<{ outcome: AttemptResult; settled: boolean; telemetry: AttemptStarted | undefined }> {
    const router = this.#engine.router;
    const hedge = router.hedge!;
    router.hedgeBudget!.recordRequest();
    interface Running {
      readonly target: ModelSpec;
      readonly started: number;
      readonly controller: AbortController;
      readonly result: Promise<AttemptResult>;
      readonly lane: Lane;
      done: AttemptResult | undefined;
      /** Its failure was recorded (and, for the primary, counted by the breaker) already. */
      recorded: boolean;
    }
    const lanes: Running[] = [];
    let winner = -1;
    const launch = (laneTarget: ModelSpec, at: number) => {
      const index = lanes.length;
      const controller = new AbortController();
      // Not AbortSignal.any: it would leave a record on a long-lived caller signal per lane.
      const { signal = controller.signal, unlink } = linkSignals([this.#signal, controller.signal]);
      const held: StreamEvent[] = [];
      const lane: Lane = {
        index,
        signal,
        emit: (event) => {
          if (winner === index) this.#emit(event);
          else held.push(event);
        },
        claim: () => {
          if (winner === -1) {
            winner = index;
            for (const event of held) this.#emit(event);
            held.length = 0;
            for (const other of lanes) if (other !== running) other.controller.abort(CANCELLED);
          }
          return winner === index;
        },
      };
      const running: Running = {
        target: laneTarget,
        started: at,
        controller,
        lane,
        done: undefined,
        recorded: false,
        result: this.#attempt(laneTarget, at, lane).catch((error: unknown) => ({
          error,
          ttftMs: undefined,
        })),
      };
      void running.result.then((result) => {
        running.done = result;
        unlink?.();
      });
      lanes.push(running);
    };
    launch(target, started);
    let budgetSpent = false;
    for (;;) {
      const open = lanes.filter((l) => l.done === undefined);
      const last = lanes[lanes.length - 1]!;
      const canHedge =
        winner === -1 && !budgetSpent && lanes.length <= hedge.maxHedges && !this.#signal?.aborted;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wake: Promise<unknown>[] = open.map((l) => l.result);
      if (canHedge && open.length > 0) {
        const waitMs = Math.max(0, last.started + hedge.afterMs - this.#now());
        wake.push(new Promise((resolve) => (timer = setTimeout(resolve, waitMs))));
      }
      if (wake.length > 0) await Promise.race(wake);
      if (timer !== undefined) clearTimeout(timer);
      // Let the results that just settled mark themselves done.
      await Promise.resolve();
      const finished = lanes.filter((l) => l.done !== undefined);
      const settledWinner = winner >= 0 ? lanes[winner] : undefined;
      if (settledWinner?.done !== undefined) {
        // The winner is done (answered, or failed after content): the others were aborted.
        await Promise.all(lanes.map((l) => l.result));
        for (const [i, l] of lanes.entries()) {
          if (i === winner || l.recorded) continue;
          this.#recordLane(l, l.done!, "cancelled");
          if (i === 0 && permit) await breaker?.release(permit);
        }
        const outcome = settledWinner.done;
        const telemetry = lanes[0]!.lane.telemetry;
        if (winner === 0) return { outcome, settled: false, telemetry };
        if ("error" in outcome) this.#recordLane(settledWinner, outcome, "error");
        return { outcome, settled: true, telemetry };
      }
      if (this.#signal?.aborted || finished.length === lanes.length) {
        // Nobody delivered: the call was aborted, or every request failed before content.
        await Promise.all(lanes.map((l) => l.result));
        for (const l of lanes.slice(1)) if (!l.recorded) this.#recordLane(l, l.done!, "error");
        const first = lanes[0]!;
        return { outcome: first.done!, settled: first.recorded, telemetry: first.lane.telemetry };
      }
      // A request that failed before content while others go on counts as a failure now (the
      // primary for its breaker too), in the order the failures came.
      for (const [i, l] of lanes.entries()) {
        if (l.done === undefined || l.recorded || !("error" in l.done)) continue;
        l.recorded = true;
        this.#recordLane(l, l.done, "error");
        if (i === 0 && permit)
          await breaker?.failure(permit, l.done.error, this.#tel?.onBreakerChange);
      }
      if (canHedge && this.#now() >= last.started + hedge.afterMs && lanes.length === open.length) {
        if (!router.hedgeBudget!.tryAcquire(hedge.budget)) {
          budgetSpent = true;
          continue;
        }
        launch(await this.#hedgeTarget(target, pending), this.#now());
      }
    }
  }

  /** Where a hedge goes: the next pending target that is free now, else the same target. */
  async #hedgeTarget(target: ModelSpec, pending: readonly ModelSpec[]): Promise<ModelSpec> {
    const router = this.#engine.router;
    const group = this.#group;
    const keyOf = (t: ModelSpec) => this.#engine.keyOf(t);
    let candidates = pending.filter((t) => this.#engine.breaker(keyOf(t))?.state !== "open");
    if (group?.keys.includes(keyOf(target))) {
      const members = candidates.filter((t) => group.keys.includes(keyOf(t)));
      if (members.length > 0) candidates = members;
    }
    if (candidates.length === 0) return target;
    const keys = candidates.map(keyOf);
    const values = await this.#engine.store.getMany<unknown>(keys.map(cooldownKey));
    const now = this.#now();
    const free = candidates
      .map((_, i) => i)
      .filter((i) => {
        const cooldown = readCooldown(values[i]);
        if (cooldown && cooldown !== "corrupt" && cooldown.until > now) return false;
        return !router.throttle?.blockedUntil(keys[i]!, undefined, this.#requestEstimate(), now);
      });
    if (free.length === 0) return target;
    if (group?.keys.includes(keys[free[0]!]!))
      return candidates[router.balancer.pick(group, keys, free)]!;
    return candidates[free[0]!]!;
  }

  #recordLane(
    lane: { target: ModelSpec; started: number; lane: Lane },
    result: AttemptResult,
    outcome: "error" | "cancelled",
  ): void {
    if (!("error" in result)) return;
    const cancelled = outcome === "cancelled" || result.cancelled === true;
    const error = cancelled ? undefined : asError(result.error);
    const record = this.#record(
      lane.target,
      cancelled ? "cancelled" : "error",
      error,
      this.#now() - lane.started,
      result.ttftMs,
      result.usage,
    );
    this.#tel?.attemptEnd(record, error, undefined, lane.lane.telemetry);
  }

  #succeed(
    target: ModelSpec,
    response: ProviderResponse,
    started: number,
    ttftMs: number | undefined,
    lane?: Lane,
  ): ChatResponse {
    const record = this.#record(
      target,
      "success",
      undefined,
      this.#now() - started,
      ttftMs,
      response.usage,
    );
    this.#tel?.attemptEnd(record, undefined, response, lane?.telemetry);
    if (this.#group) {
      // The latency strategy learns from every answer of a member: time to the answer, or to
      // the first content of a stream.
      const key = this.#engine.keyOf(target);
      if (this.#group.keys.includes(key))
        this.#engine.router.balancer.observeLatency(key, ttftMs ?? record.durationMs);
    }
    const content =
      this.#prefill !== undefined ? this.#prefill + response.content : response.content;
    const result: { -readonly [K in keyof ChatResponse]: ChatResponse[K] } = {
      content,
      provider: target.provider,
      model: target.model,
      responseModel: response.responseModel,
      usage: response.usage,
      totalUsage: this.#totalUsage,
      finishReason: response.finishReason,
      rawFinishReason: response.rawFinishReason,
      toolCalls: response.toolCalls as ToolCall[],
      requestId: response.requestId,
      rateLimit: response.rateLimit,
      attempts: this.attempts,
    };
    if (response.refusal !== undefined) result.refusal = response.refusal;
    if (this.#options.metadata) result.metadata = this.#options.metadata;
    if (this.#streaming) this.#emit({ type: "finish", response: result });
    return result;
  }

  /**
   * A stream broke after content reached the caller. "error" throws it; "restart" replays the
   * whole answer on the next target; "continue" asks the next target to go on from the text so
   * far where it accepts a prefill, else restarts.
   */
  #midStream(error: StreamInterruptedError, decision: FailureDecision): TargetFailure {
    if (this.#policy === "error") return { error, decision: { ...decision, fallback: false } };
    this.#interruption ??= error;
    // Providers keep the attempt's text; the client need not copy every delta.
    this.#shown = error.partialText;
    return { error, decision: { ...decision, fallback: true } };
  }

  /** Decides, before a target's first attempt after a mid-stream failure, how it resumes. */
  #resumeOn(target: ModelSpec, provider: Provider): string | undefined {
    if (!this.#interruption || (!this.#shownText && !this.#shownToolCall)) return this.#prefill;
    const canContinue =
      this.#policy === "continue" &&
      !this.#shownToolCall &&
      provider.supportsPrefill &&
      (this.#engine.catalogue.get(target.provider, target.model)?.prefill ?? true);
    if (canContinue) {
      this.#prefill = (this.#prefill ?? "") + this.#shown;
    } else {
      const discardedText = (this.#prefill ?? "") + this.#shown;
      this.#emit({ type: "restart", ...target, error: this.#interruption, discardedText });
      this.#tel?.restart(target, this.#interruption, discardedText);
      this.#prefill = undefined;
    }
    this.#shown = "";
    this.#shownText = false;
    this.#shownToolCall = false;
    return this.#prefill;
  }

  #abandonPrefill(target: ModelSpec): void {
    const discardedText = this.#prefill ?? "";
    this.#emit({ type: "restart", ...target, error: this.#interruption, discardedText });
    this.#tel?.restart(target, this.#interruption, discardedText);
    this.#prefill = undefined;
  }

  #requestOptions(
    target: ModelSpec,
    provider: Provider,
    signal: AbortSignal | undefined = this.#signal,
  ): ProviderRequestOptions {
    const o = this.#options;
    const c = this.#engine.config;
    const prefill = this.#streaming ? this.#resumeOn(target, provider) : undefined;
    const timeoutMs = o.timeoutMs ?? c.timeoutMs;
    const request: { -readonly [K in keyof ProviderRequestOptions]: ProviderRequestOptions[K] } = {
      model: target.model,
    };
    // Only the options that are set (no closure or spread per call: this runs on every attempt).
    if (signal !== undefined) request.signal = signal;
    if (o.maxTokens !== undefined) request.maxTokens = o.maxTokens;
    if (o.temperature !== undefined) request.temperature = o.temperature;
    if (o.topP !== undefined) request.topP = o.topP;
    if (o.stop !== undefined) request.stop = o.stop;
    if (o.tools !== undefined) request.tools = o.tools;
    if (o.toolChoice !== undefined) request.toolChoice = o.toolChoice;
    if (o.responseFormat !== undefined) request.responseFormat = o.responseFormat;
    if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
    const connectTimeoutMs = o.connectTimeoutMs ?? c.connectTimeoutMs;
    if (connectTimeoutMs !== undefined) request.connectTimeoutMs = connectTimeoutMs;
    const firstTokenTimeoutMs = o.firstTokenTimeoutMs ?? c.firstTokenTimeoutMs;
    if (firstTokenTimeoutMs !== undefined) request.firstTokenTimeoutMs = firstTokenTimeoutMs;
    const idleTimeoutMs = o.idleTimeoutMs ?? c.idleTimeoutMs;
    if (idleTimeoutMs !== undefined) request.idleTimeoutMs = idleTimeoutMs;
    const silentTargetMs = o.silentTargetMs ?? c.silentTargetMs;
    if (silentTargetMs !== undefined) request.silentTargetMs = silentTargetMs;
    if (prefill !== undefined) request.prefill = prefill;
    const providerOptions = o.providerOptions?.[target.provider];
    if (providerOptions !== undefined) request.providerOptions = providerOptions;
    return request;
  }

  /** After a context-length failure, only targets with a larger known window are worth trying. */
  #keepLargerWindows(pending: ModelSpec[], failed: ModelSpec): void {
    const window = this.#engine.catalogue.get(failed.provider, failed.model)?.contextWindow;
    if (window === undefined) return;
    for (let i = pending.length - 1; i >= 0; i--) {
      const t = pending[i]!;
      const other = this.#engine.catalogue.get(t.provider, t.model)?.contextWindow;
      if (other !== undefined && other <= window) pending.splice(i, 1);
    }
  }

  async #coolDown(key: string, waitMs: number): Promise<void> {
    const cooldown = cappedCooldown(this.#now(), waitMs, this.#engine.maxRetryAfterMs);
    if (cooldown === undefined) return;
    await this.#engine.store.update<Cooldown>(
      cooldownKey(key),
      (current) => {
        const valid = readCooldown(current);
        return valid && valid !== "corrupt" && valid.until >= cooldown.until ? valid : cooldown;
      },
      cooldown.retryAfterMs,
    );
  }

  /** A corrupted cooldown record counts as absent: warn, and delete it. */
  async #dropCorrupt(storeKey: string): Promise<undefined> {
    this.#warn({
      code: "state-corrupt",
      message: `ignored a corrupted cooldown record (${storeKey}): no finite "until" time`,
    });
    // Heal the store, so the warning is not repeated on every call.
    await this.#engine.store.delete(storeKey).catch(() => {});
    return undefined;
  }

  #fallback(from: ModelSpec, to: ModelSpec, error: Error): void {
    this.#tel?.fallback(from, to, error);
    this.#emit({ type: "fallback", from, to, error });
  }

  #record(
    target: ModelSpec,
    outcome: AttemptRecord["outcome"],
    error: Error | undefined,
    durationMs: number,
    ttftMs?: number,
    usage?: Usage,
  ): AttemptRecord {
    const record: Record<string, unknown> = {
      provider: target.provider,
      model: target.model,
      outcome,
      delayBeforeMs: Math.round(this.#pendingDelayMs),
      durationMs,
    };
    this.#pendingDelayMs = 0;
    if (error) {
      record.errorClass = error.name;
      record.errorMessage = error.message;
      const status = (error as { status?: unknown }).status;
      if (typeof status === "number") record.status = status;
      const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
      if (typeof retryAfterMs === "number") record.retryAfterMs = retryAfterMs;
    }
    if (ttftMs !== undefined) record.ttftMs = ttftMs;
    if (usage) {
      record.usage = usage;
      this.#totalUsage = {
        inputTokens: this.#totalUsage.inputTokens + usage.inputTokens,
        outputTokens: this.#totalUsage.outputTokens + usage.outputTokens,
        totalTokens: this.#totalUsage.totalTokens + usage.totalTokens,
      };
    }
    this.attempts.push(record as unknown as AttemptRecord);
    return record as unknown as AttemptRecord;
  }

  /** The error to throw: the caller's abort untouched; anything else carrying `attempts`. */
  #finalError(error: unknown): unknown {
    if (this.#callerSignal?.aborted) return this.#callerSignal.reason;
    if (this.#signal?.aborted && error === this.#signal.reason) {
      if (TimeoutError.isInstance(error)) error.attempts = this.attempts;
      return error;
    }
    // A bug is rethrown as itself, untouched.
    if (!RetryClientError.isInstance(error)) return error;
    // After "restart"/"continue" found no target to finish the answer, the original
    // interruption is what failed, never a later error (such as a refused prefill).
    const final = this.#interruption ?? error;
    if (RetryClientError.isInstance(final)) final.attempts = this.attempts;
    return final;
  }

  #leaseMs(): number | undefined {
    const timeoutMs = this.#options.timeoutMs ?? this.#engine.config.timeoutMs;
    const left = this.#deadlineAt === undefined ? undefined : this.#deadlineAt - this.#now();
    const bound = Math.min(timeoutMs ?? Number.POSITIVE_INFINITY, left ?? Number.POSITIVE_INFINITY);
    return Number.isFinite(bound) ? Math.max(1, bound) : undefined;
  }

  #fitsDeadline(waitMs: number): boolean {
    return this.#deadlineAt === undefined || this.#now() + waitMs < this.#deadlineAt;
  }

  async #sleep(ms: number): Promise<void> {
    this.#pendingDelayMs += ms;
    await sleep(ms, this.#signal);
  }

  #now(): number {
    return this.#engine.store.now();
  }

  #warn(warning: Warning): void {
    this.#engine.warn(warning, this.#emit, this.#tel?.call);
  }
}

/** A provider stream without batches, as batches of one event. */
async function* oneByOne(
  events: AsyncIterable<ProviderStreamEvent>,
): AsyncIterable<readonly ProviderStreamEvent[]> {
  for await (const event of events) yield [event];
}

/** The breaker snapshot of pending target `i` in a batch of reads (`null`: none stored yet). */
function snapshotAt(
  values: readonly unknown[],
  breakers: ReadonlyArray<CircuitBreaker | undefined>,
  breakerAt: number,
  i: number,
): BreakerSnapshot | null | undefined {
  return breakers[i] ? ((values[breakerAt + i] as BreakerSnapshot | undefined) ?? null) : undefined;
}

/** The rate-limit headers a provider error carried. */
function rateLimitOf(error: unknown): RateLimitInfo | undefined {
  return (error as { rateLimit?: RateLimitInfo } | undefined)?.rateLimit;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A 400 that is not about the prompt's size: what a target that refuses prefill answers. */
function isPrefillRejection(error: Error): boolean {
  return BadRequestError.isInstance(error) && !ContextLengthExceededError.isInstance(error);
}
