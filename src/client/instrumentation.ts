import { CircuitOpenError } from "../errors/errors.js";
import type { CircuitState } from "../resilience/circuit-breaker.js";
import type { AttemptRecord, ChatMessage, Provider, ProviderResponse, Warning } from "../types.js";
import type { CallOptions, ChatResponse, ClientConfig, ModelSpec } from "./types.js";

/**
 * One call as listeners see it. The client creates one per `complete()` / `stream()` call (only
 * when listeners are configured) and passes the same object in every event of that call, so a
 * listener keeps its per-call state in a `WeakMap<CallContext, …>`.
 */
export interface CallContext {
  /** The operation, in the OpenTelemetry GenAI vocabulary. Always `"chat"`. */
  readonly operation: "chat";
  /** Whether the call is a `stream()`. */
  readonly streaming: boolean;
  /** The target asked for: the call's model, or the default provider and model. */
  readonly requested: ModelSpec;
  /** Every target the call may walk, in order (the requested one first). */
  readonly targets: readonly ModelSpec[];
  /** The call's options as given (request parameters, metadata, signal, …). */
  readonly options: CallOptions;
  /** The call's messages. Content: treat as sensitive. */
  readonly messages: readonly ChatMessage[];
}

/** Where an attempt's request went. Built from the provider's base URL, without its query. */
export interface Endpoint {
  /** Scheme, host, port and path of the base URL, e.g. `https://api.openai.com/v1`. */
  readonly url: string;
  /** Host name, e.g. `api.openai.com`. */
  readonly host: string;
  /** Port, the scheme's default when the URL names none. */
  readonly port: number;
}

/** An attempt is about to send its request. */
export interface AttemptStartEvent {
  readonly call: CallContext;
  readonly target: ModelSpec;
  /** 0-based index over the whole call (the index of its record in `attempts`). */
  readonly attempt: number;
  /** 0-based retry number on this target (0: the target's first attempt). */
  readonly retry: number;
  /** Where it goes; undefined for a custom provider that has no base URL. */
  readonly endpoint: Endpoint | undefined;
}

/** An attempt ended: answered, failed, or was cut short by an abort. */
export interface AttemptEndEvent extends AttemptStartEvent {
  /** The attempt's record, as it appears in `attempts`: outcome, status, timings, usage. */
  readonly record: AttemptRecord;
  /** The failure, when the attempt did not answer (an abort's reason when aborted). */
  readonly error: Error | undefined;
  /** The provider's answer, when the attempt answered. */
  readonly response: ProviderResponse | undefined;
}

/** A stream's attempt delivered its first content delta. */
export interface FirstChunkEvent {
  readonly call: CallContext;
  readonly target: ModelSpec;
  /** 0-based attempt index over the whole call. */
  readonly attempt: number;
  /** From sending the request to the first content delta. */
  readonly ttftMs: number;
}

/** The call waits, then tries the same target again. */
export interface RetryEvent {
  readonly call: CallContext;
  readonly target: ModelSpec;
  /** The retry about to run on this target (1-based). */
  readonly attempt: number;
  /** Why: the failure of the previous attempt. */
  readonly error: Error;
  /** The wait before the retry: the server's, else backoff. */
  readonly delayMs: number;
}

/** The call moves on to the next target of its chain. */
export interface FallbackEvent {
  readonly call: CallContext;
  readonly from: ModelSpec;
  readonly to: ModelSpec;
  /** Why: the last failure of `from`. */
  readonly error: Error;
}

/** A target was passed over without a request: its breaker is open, or it is cooling down. */
export interface TargetSkippedEvent {
  readonly call: CallContext;
  readonly target: ModelSpec;
  readonly reason: "circuit-open" | "cooldown";
  /** `CircuitOpenError` or the cooldown's `RateLimitError`. */
  readonly error: Error;
  /** How long until the target may be tried again. */
  readonly retryAfterMs: number | undefined;
  /** For a cooldown the call waits out (every target was cooling down): the wait. */
  readonly waitMs: number | undefined;
}

/** A breaker changed state. */
export interface BreakerTransitionEvent {
  /** The call whose attempt caused it; undefined for `resetCircuits()`. */
  readonly call: CallContext | undefined;
  /** The breaker's key, `provider:model`. */
  readonly key: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
}

/** Something went wrong that did not fail the request. */
export interface WarningEvent {
  /** The call it happened in; undefined for a store warning outside any call. */
  readonly call: CallContext | undefined;
  readonly warning: Warning;
}

/** A stream that broke after content reached the caller starts its answer again. */
export interface StreamRestartEvent {
  readonly call: CallContext;
  /** The target the answer restarts on. */
  readonly target: ModelSpec;
  /** The interruption being recovered from. */
  readonly error: unknown;
  /** The text the caller had seen, now void. */
  readonly discardedText: string;
}

/** A call begins (before its first store read or request). */
export interface CallStartEvent {
  readonly call: CallContext;
}

/** How a call ended. `"aborted"`: the caller's signal, `abort()`, or leaving a stream's loop. */
export type CallOutcome = "success" | "error" | "aborted";

/** A call settled. For a stream: when its answer ended, failed, or was abandoned. */
export interface CallEndEvent {
  readonly call: CallContext;
  readonly outcome: CallOutcome;
  /** The answer, on success. */
  readonly response: ChatResponse | undefined;
  /** What the call rejects with, otherwise. */
  readonly error: unknown;
  /** Every attempt, in order. */
  readonly attempts: readonly AttemptRecord[];
  /** From the call's start to its end, waits included. */
  readonly durationMs: number;
}

/**
 * A listener to the client's lifecycle, passed in `ClientConfig.instrumentation`. Every method
 * is optional and called synchronously where the event happens: keep them cheap. A method that
 * throws is reported as a `hook-threw` warning and never fails the request.
 *
 * The events of one call carry the same {@link CallContext} object: key per-call state on it.
 * With no listener configured the client builds none of these events.
 *
 * @example
 * const slow: Instrumentation = {
 *   onAttemptEnd: ({ target, record }) => {
 *     if (record.durationMs > 5_000) console.warn(`${target.model} took ${record.durationMs} ms`);
 *   },
 * };
 * new RetryClient({ instrumentation: [slow] });
 */
export interface Instrumentation {
  /** A call begins, before its first store read or request. */
  onCallStart?(event: CallStartEvent): void;
  /** A call settled: answered, failed or aborted (a stream: when its answer ended). */
  onCallEnd?(event: CallEndEvent): void;
  /** A request is about to go to a target. */
  onAttemptStart?(event: AttemptStartEvent): void;
  /** That request ended; `record` is its entry in `attempts`. */
  onAttemptEnd?(event: AttemptEndEvent): void;
  /** A stream's attempt delivered its first content delta. */
  onFirstChunk?(event: FirstChunkEvent): void;
  /** The call waits, then retries the same target. */
  onRetry?(event: RetryEvent): void;
  /** The call moves to the next target. */
  onFallback?(event: FallbackEvent): void;
  /** A target was passed over without a request (open breaker, cooldown). */
  onTargetSkipped?(event: TargetSkippedEvent): void;
  /** A breaker changed state. */
  onBreakerTransition?(event: BreakerTransitionEvent): void;
  /** Something went wrong that did not fail the request. A throw here is ignored. */
  onWarning?(event: WarningEvent): void;
  /** A stream that broke after content was shown starts its answer again. */
  onStreamRestart?(event: StreamRestartEvent): void;
}

type Method = Exclude<keyof Instrumentation, "onWarning">;
type EventOf<M extends keyof Instrumentation> = Parameters<NonNullable<Instrumentation[M]>>[0];

/**
 * Fan-out to the configured listeners (internal). Built only when there is at least one, so the
 * client's hot path checks one field for `undefined` and builds nothing else.
 */
export class Instruments {
  readonly #listeners: readonly Instrumentation[];
  readonly #onError: (cause: unknown, call: CallContext | undefined) => void;

  constructor(
    listeners: readonly Instrumentation[],
    onError: (cause: unknown, call: CallContext | undefined) => void,
  ) {
    this.#listeners = listeners;
    this.#onError = onError;
  }

  /** Instruments for `listeners` plus the config's `onX` callbacks; undefined when none. */
  static from(
    config: ClientConfig,
    onError: (cause: unknown, call: CallContext | undefined) => void,
  ): Instruments | undefined {
    const listeners = [...(config.instrumentation ?? [])];
    const callbacks = callbackListener(config);
    if (callbacks) listeners.push(callbacks);
    return listeners.length > 0 ? new Instruments(listeners, onError) : undefined;
  }

  /** Calls `method` of every listener that has it; one that throws is reported to `onError`. */
  emit<M extends Method>(method: M, event: EventOf<M>, onError?: (cause: unknown) => void): void {
    for (const listener of this.#listeners) {
      const fn = listener[method] as ((event: EventOf<M>) => void) | undefined;
      if (fn === undefined) continue;
      try {
        fn.call(listener, event);
      } catch (cause) {
        if (onError) onError(cause);
        else this.#onError(cause, (event as { call?: CallContext }).call);
      }
    }
  }

  /** Warnings: a listener that throws here is ignored (reporting it would loop). */
  warning(event: WarningEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener.onWarning?.(event);
      } catch {
        // A warning hook must never fail a request.
      }
    }
  }
}

/** The config's `onRetry` / `onFallback` / `onCircuitStateChange` / `onWarning` as one listener. */
function callbackListener(config: ClientConfig): Instrumentation | undefined {
  const { onRetry, onFallback, onCircuitStateChange, onWarning } = config;
  if (!onRetry && !onFallback && !onCircuitStateChange && !onWarning) return undefined;
  const listener: { -readonly [K in keyof Instrumentation]: Instrumentation[K] } = {};
  if (onRetry) listener.onRetry = (e) => onRetry(e.attempt, e.error, e.delayMs);
  if (onFallback) listener.onFallback = (e) => onFallback(e.from, e.to, e.error);
  if (onCircuitStateChange) {
    listener.onBreakerTransition = (e) => onCircuitStateChange(e.key, e.from, e.to);
  }
  if (onWarning) listener.onWarning = (e) => onWarning(e.warning);
  return listener;
}

const endpoints = new WeakMap<Provider, Endpoint | undefined>();

/** The endpoint of a provider with a `baseURL` (the built-in ones), computed once per provider. */
export function endpointOf(provider: Provider): Endpoint | undefined {
  if (endpoints.has(provider)) return endpoints.get(provider);
  let endpoint: Endpoint | undefined;
  const baseURL = (provider as { baseURL?: unknown }).baseURL;
  if (typeof baseURL === "string") {
    try {
      const url = new URL(baseURL);
      const port = url.port
        ? Number(url.port)
        : url.protocol === "https:"
          ? 443
          : url.protocol === "http:"
            ? 80
            : 0;
      endpoint = {
        url: `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, "")}`,
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port,
      };
    } catch {
      endpoint = undefined;
    }
  }
  endpoints.set(provider, endpoint);
  return endpoint;
}

/**
 * The listeners of one call (internal): binds the call's context and remembers the attempt in
 * flight, so `Call` reports each event with one short statement.
 */
export class CallTelemetry {
  readonly call: CallContext;
  /** Breaker transitions made by this call's attempts, reported with the call. */
  readonly onBreakerChange: (key: string, from: CircuitState, to: CircuitState) => void;
  readonly #instruments: Instruments;
  readonly #startedAt: number;
  readonly #onError: (cause: unknown) => void;
  #current: Omit<AttemptStartEvent, "call"> | undefined;

  /** Reports the call's start. `onError` hears a listener that threw. */
  constructor(
    instruments: Instruments,
    call: CallContext,
    startedAt: number,
    onError: (cause: unknown) => void,
  ) {
    this.#instruments = instruments;
    this.call = call;
    this.#startedAt = startedAt;
    this.#onError = onError;
    this.onBreakerChange = (key, from, to) =>
      this.#emit("onBreakerTransition", { call, key, from, to });
    this.#emit("onCallStart", { call });
  }

  #emit<M extends Method>(method: M, event: EventOf<M>): void {
    this.#instruments.emit(method, event, this.#onError);
  }

  /**
   * Returns the attempt as started: concurrent attempts (hedged requests) pass it back to
   * `attemptEnd` / `firstChunk`, which otherwise report the attempt started last.
   */
  attemptStart(
    target: ModelSpec,
    attempt: number,
    provider: Provider | undefined,
  ): Omit<AttemptStartEvent, "call"> {
    const retry = this.#current?.target === target ? this.#current.retry + 1 : 0;
    const endpoint = provider ? endpointOf(provider) : undefined;
    const current = { target, attempt, retry, endpoint };
    this.#current = current;
    this.#emit("onAttemptStart", { call: this.call, ...current });
    return current;
  }

  attemptEnd(
    record: AttemptRecord,
    error: Error | undefined,
    response: ProviderResponse | undefined,
    started: Omit<AttemptStartEvent, "call"> | undefined = this.#current,
  ): void {
    if (!started) return;
    this.#emit("onAttemptEnd", {
      call: this.call,
      ...started,
      record,
      error,
      response,
    });
  }

  firstChunk(
    ttftMs: number,
    started: Omit<AttemptStartEvent, "call"> | undefined = this.#current,
  ): void {
    const current = started;
    if (!current) return;
    this.#emit("onFirstChunk", {
      call: this.call,
      target: current.target,
      attempt: current.attempt,
      ttftMs,
    });
  }

  retry(target: ModelSpec, attempt: number, error: Error, delayMs: number): void {
    this.#emit("onRetry", { call: this.call, target, attempt, error, delayMs });
  }

  fallback(from: ModelSpec, to: ModelSpec, error: Error): void {
    this.#emit("onFallback", { call: this.call, from, to, error });
  }

  skipped(target: ModelSpec, error: Error, waitMs?: number): void {
    const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
    this.#emit("onTargetSkipped", {
      call: this.call,
      target,
      reason: CircuitOpenError.isInstance(error) ? "circuit-open" : "cooldown",
      error,
      retryAfterMs,
      waitMs,
    });
  }

  restart(target: ModelSpec, error: unknown, discardedText: string): void {
    this.#emit("onStreamRestart", { call: this.call, target, error, discardedText });
  }

  end(
    outcome: CallOutcome,
    response: ChatResponse | undefined,
    error: unknown,
    attempts: readonly AttemptRecord[],
    now: number,
  ): void {
    this.#emit("onCallEnd", {
      call: this.call,
      outcome,
      response,
      error,
      attempts,
      durationMs: now - this.#startedAt,
    });
  }
}
