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
import type {
  BreakerPermit,
  BreakerSnapshot,
  CircuitBreaker,
} from "../resilience/circuit-breaker.js";
import type { RetryBudget } from "../resilience/retry-budget.js";
import { sleep } from "../resilience/sleep.js";
import type { StateStore } from "../state/state-store.js";
import type {
  AttemptRecord,
  ChatMessage,
  Provider,
  ProviderRequestOptions,
  ProviderResponse,
  ProviderStreamEvent,
  ToolCall,
  Usage,
  Warning,
} from "../types.js";
import type { ModelCatalogue } from "./catalogue.js";
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
}

/** Cooldown record stored under `cooldown:<provider:model>`. */
interface Cooldown {
  readonly until: number;
  readonly retryAfterMs: number;
}

/** A target's run ended without an answer. */
interface TargetFailure {
  readonly error: Error;
  readonly decision: FailureDecision;
}

const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
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

  constructor(
    engine: CallEngine,
    messages: readonly ChatMessage[],
    options: CallOptions,
    targets: readonly ModelSpec[],
    signals: { readonly call: AbortSignal | undefined; readonly caller: AbortSignal | undefined },
    deadlineAt: number | undefined,
    emit: ((event: StreamEvent) => void) | undefined,
  ) {
    this.#engine = engine;
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
      const { index, snapshot } = await this.#nextAvailable(pending);
      const target = pending.splice(index, 1)[0]!;
      if (last) this.#fallback(last.target, target, last.error);
      const outcome = await this.#runTarget(target, pending.length > 0, snapshot);
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
   * The first pending target that is not cooling down, with its breaker snapshot. When all are
   * cooling down, waits for the earliest if that is within `maxRetryAfterMs` and the deadline,
   * else throws its `RateLimitError`.
   *
   * One batch of store reads, issued together (a shared store answers them in one round trip):
   * every pending target's cooldown and breaker, and the request counted for the retry budget of
   * the first target — the one chosen on the happy path; it is taken back if that one is skipped.
   */
  async #nextAvailable(
    pending: ModelSpec[],
  ): Promise<{ index: number; snapshot: BreakerSnapshot | null | undefined }> {
    const { store, budget } = this.#engine;
    const keys = pending.map((target) => this.#engine.keyOf(target));
    const breakers = keys.map((key) => this.#engine.breaker(key));
    const reads = keys.map((key) => `cooldown:${key}`);
    for (const breaker of breakers) if (breaker) reads.push(breaker.stateKey);
    for (;;) {
      const [values] = await Promise.all([
        store.getMany<Cooldown | BreakerSnapshot>(reads),
        budget?.recordRequest(keys[0]!),
      ]);
      const now = this.#now();
      let earliest = -1;
      let until = Number.POSITIVE_INFINITY;
      for (let i = 0; i < pending.length; i++) {
        const cooldown = values[i] as Cooldown | undefined;
        if (!cooldown || cooldown.until <= now) {
          if (i !== 0 && budget)
            await Promise.all([budget.unrecordRequest(keys[0]!), budget.recordRequest(keys[i]!)]);
          const snapshot = breakers[i]
            ? ((values[pending.length + i] as BreakerSnapshot | undefined) ?? null)
            : undefined;
          return { index: i, snapshot };
        }
        if (cooldown.until < until) {
          earliest = i;
          until = cooldown.until;
        }
      }
      await budget?.unrecordRequest(keys[0]!);
      const target = pending[earliest]!;
      const waitMs = until - now;
      const rateLimit = new RateLimitError({
        provider: target.provider,
        model: target.model,
        status: 429,
        retryAfterMs: waitMs,
        providerMessage: "cooling down after a rate limit",
      });
      if (waitMs > this.#engine.maxRetryAfterMs || !this.#fitsDeadline(waitMs)) throw rateLimit;
      this.#record(target, "skipped", rateLimit, 0);
      this.#tel?.skipped(target, rateLimit, waitMs);
      this.#emit({ type: "retry", ...target, attempt: 0, error: rateLimit, delayMs: waitMs });
      await this.#sleep(waitMs);
    }
  }

  /** Every attempt at one target: retries per the failure table, the budget and the deadline. */
  async #runTarget(
    target: ModelSpec,
    hasOtherTarget: boolean,
    snapshot: BreakerSnapshot | null | undefined,
  ): Promise<ChatResponse | TargetFailure> {
    const key = this.#engine.keyOf(target);
    const breaker = this.#engine.breaker(key);
    const budget = this.#engine.budget;
    let previousDelay: number | undefined;
    for (let retry = 0; ; retry++) {
      let permit: BreakerPermit | undefined;
      try {
        // The first attempt uses the snapshot read with the cooldowns; a retry reads it anew.
        const known = retry === 0 ? snapshot : undefined;
        permit = await breaker?.acquire(this.#leaseMs(), known, this.#tel?.onBreakerChange);
      } catch (error) {
        if (!CircuitOpenError.isInstance(error)) throw error;
        this.#record(target, "skipped", error, 0);
        this.#tel?.skipped(target, error);
        return { error, decision: classify(error) };
      }
      const started = this.#now();
      let outcome: ChatResponse | { error: unknown; ttftMs: number | undefined; usage?: Usage };
      try {
        outcome = await this.#attempt(target, started);
      } catch (error) {
        // Bugs in our own code path must not leave a probe slot taken.
        outcome = { error, ttftMs: undefined };
      }
      if (!("error" in outcome)) {
        if (permit) await breaker?.success(permit, this.#tel?.onBreakerChange);
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
        const record = this.#record(target, "error", reason, this.#now() - started);
        this.#tel?.attemptEnd(record, reason, undefined);
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
      const { ttftMs, usage } = outcome;
      const record = this.#record(target, "error", typed, this.#now() - started, ttftMs, usage);
      this.#tel?.attemptEnd(record, typed, undefined);
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

  /** One request to one target. Resolves with the answer, or with the failure it met. */
  async #attempt(
    target: ModelSpec,
    started: number,
  ): Promise<ChatResponse | { error: unknown; ttftMs: number | undefined; usage?: Usage }> {
    // Events exist only for streams: `complete()` builds none on its hot path.
    if (this.#streaming) {
      this.#emit({
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
      this.#tel?.attemptStart(target, this.attempts.length, undefined);
      return { error, ttftMs: undefined };
    }
    const request = this.#requestOptions(target, provider);
    this.#tel?.attemptStart(target, this.attempts.length, provider);
    if (!this.#streaming) {
      try {
        const response = await provider.complete(this.#messages, request);
        return this.#succeed(target, response, started, undefined);
      } catch (error) {
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
        for (const event of batch) {
          switch (event.type) {
            case "text-delta":
            case "tool-call-delta":
              if (ttftMs === undefined) {
                ttftMs = this.#now() - started;
                this.#tel?.firstChunk(ttftMs);
              }
              if (event.type === "text-delta") this.#shownText = true;
              else this.#shownToolCall = true;
              this.#emit(event);
              break;
            case "usage":
              usage = event.usage;
              this.#emit(event);
              break;
            case "warning":
              this.#warn(event.warning);
              break;
            case "tool-call":
              this.#emit(event);
              break;
            case "finish":
              return this.#succeed(target, event.response, started, ttftMs);
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
      return usage ? { error, ttftMs, usage } : { error, ttftMs };
    }
  }

  #succeed(
    target: ModelSpec,
    response: ProviderResponse,
    started: number,
    ttftMs: number | undefined,
  ): ChatResponse {
    const record = this.#record(
      target,
      "success",
      undefined,
      this.#now() - started,
      ttftMs,
      response.usage,
    );
    this.#tel?.attemptEnd(record, undefined, response);
    const content =
      this.#prefill !== undefined ? this.#prefill + response.content : response.content;
    const result: ChatResponse = {
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
      ...(response.refusal !== undefined ? { refusal: response.refusal } : {}),
      ...(this.#options.metadata ? { metadata: this.#options.metadata } : {}),
    };
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

  #requestOptions(target: ModelSpec, provider: Provider): ProviderRequestOptions {
    const o = this.#options;
    const c = this.#engine.config;
    const prefill = this.#streaming ? this.#resumeOn(target, provider) : undefined;
    const timeoutMs = o.timeoutMs ?? c.timeoutMs;
    const request: Record<string, unknown> = { model: target.model };
    const set = (name: string, value: unknown) => {
      if (value !== undefined) request[name] = value;
    };
    set("signal", this.#signal);
    set("maxTokens", o.maxTokens);
    set("temperature", o.temperature);
    set("topP", o.topP);
    set("stop", o.stop);
    set("tools", o.tools);
    set("toolChoice", o.toolChoice);
    set("responseFormat", o.responseFormat);
    set("timeoutMs", timeoutMs);
    set("connectTimeoutMs", o.connectTimeoutMs ?? c.connectTimeoutMs);
    set("firstTokenTimeoutMs", o.firstTokenTimeoutMs ?? c.firstTokenTimeoutMs);
    set("idleTimeoutMs", o.idleTimeoutMs ?? c.idleTimeoutMs);
    set("silentTargetMs", o.silentTargetMs ?? c.silentTargetMs);
    set("prefill", prefill);
    set("providerOptions", o.providerOptions?.[target.provider]);
    return request as unknown as ProviderRequestOptions;
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
    if (waitMs <= 0) return;
    const cooldown: Cooldown = { until: this.#now() + waitMs, retryAfterMs: waitMs };
    await this.#engine.store.update<Cooldown>(
      `cooldown:${key}`,
      (current) => (current && current.until >= cooldown.until ? current : cooldown),
      waitMs,
    );
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

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A 400 that is not about the prompt's size: what a target that refuses prefill answers. */
function isPrefillRejection(error: Error): boolean {
  return BadRequestError.isInstance(error) && !ContextLengthExceededError.isInstance(error);
}
