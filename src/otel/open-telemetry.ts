import {
  type Attributes,
  type Context,
  type Counter,
  context,
  createNoopMeter,
  type Histogram,
  type Meter,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type {
  AttemptEndEvent,
  AttemptStartEvent,
  BreakerTransitionEvent,
  CallContext,
  CallEndEvent,
  CallStartEvent,
  Endpoint,
  FallbackEvent,
  FirstChunkEvent,
  Instrumentation,
  RetryEvent,
  StreamRestartEvent,
  TargetSkippedEvent,
  WarningEvent,
} from "../client/instrumentation.js";
import type { ModelSpec } from "../client/types.js";
import type { CircuitState } from "../resilience/circuit-breaker.js";
import { inputMessages, outputMessages, systemInstructions } from "./gen-ai-content.js";

/** The instrumentation scope name of every span and metric. */
export const INSTRUMENTATION_SCOPE = "retry-client";

/** The GenAI semantic conventions release these spans and metrics follow. */
export const SEMCONV_VERSION = "1.41.0";
const SCHEMA_URL = `https://opentelemetry.io/schemas/${SEMCONV_VERSION}`;

/** Settings of {@link openTelemetry}. Every field is optional. */
export interface OpenTelemetryOptions {
  /** Where spans go. @default the global tracer provider's tracer `retry-client` */
  readonly tracer?: Tracer | undefined;
  /**
   * Where metrics go. @default the global meter provider's meter `retry-client`, looked up at
   * the first call (register the SDK before the first request)
   */
  readonly meter?: Meter | undefined;
  /**
   * Record prompts and answers on the call span (`gen_ai.system_instructions`,
   * `gen_ai.input.messages`, `gen_ai.output.messages`). They may hold personal data.
   * @default false
   */
  readonly captureContent?: boolean | undefined;
}

/** Duration buckets (seconds) the conventions give `gen_ai.client.operation.duration`. */
const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/** Token buckets the conventions give `gen_ai.client.token.usage`. */
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const BREAKER_STATES: readonly CircuitState[] = ["closed", "open", "half-open"];
/** The API's no-op meter class: what the global provider gives when no SDK is registered. */
const NoopMeter = createNoopMeter().constructor;

interface Instruments {
  readonly duration: Histogram;
  readonly tokens: Histogram;
  readonly firstChunk: Histogram;
  readonly attempts: Counter;
}

/** What the listener keeps for one call in flight. */
interface CallState {
  readonly span: Span;
  readonly context: Context;
  readonly startedAt: number;
  readonly attempts: Map<number, { readonly span: Span; readonly endpoint: Endpoint | undefined }>;
  firstChunkAt: number | undefined;
  answeredBy: Endpoint | undefined;
}

const key = (t: ModelSpec) => `${t.provider}:${t.model}`;
const errorType = (error: unknown): string =>
  error instanceof Error ? error.name : error === undefined ? "_OTHER" : typeof error;
const now = () => performance.now();

/**
 * An {@link Instrumentation} that reports every call to OpenTelemetry, following the GenAI
 * semantic conventions (release 1.41.0): one CLIENT span per call (`chat {requested model}`), a
 * child CLIENT span per attempt (`chat {target model}`), events for retries, fallbacks, skipped
 * targets, breaker transitions, restarts and warnings on the call span, and the metrics
 * `gen_ai.client.operation.duration`, `gen_ai.client.token.usage`,
 * `gen_ai.client.operation.time_to_first_chunk`, `retry_client.attempts` and
 * `retry_client.breaker.state`. No prompt or answer content unless `captureContent` is set.
 *
 * Needs the optional peer dependency `@opentelemetry/api` (>= 1.9 < 2).
 *
 * @example
 * import { RetryClient } from "retry-client";
 * import { openTelemetry } from "retry-client/otel";
 * const client = new RetryClient({ instrumentation: [openTelemetry()] });
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Instrumentation {
  return new OpenTelemetryListener(options);
}

class OpenTelemetryListener implements Instrumentation {
  readonly #tracer: Tracer;
  readonly #meterOption: Meter | undefined;
  readonly #captureContent: boolean;
  readonly #calls = new WeakMap<CallContext, CallState>();
  /** The last state seen per breaker key, for the breaker-state gauge. */
  readonly #breakers = new Map<string, CircuitState>();
  /** Undefined until the first call; null when the meter is the API's no-op one (skip metrics). */
  #instruments: Instruments | null | undefined;

  constructor(options: OpenTelemetryOptions) {
    this.#tracer =
      options.tracer ??
      trace
        .getTracerProvider()
        .getTracer(INSTRUMENTATION_SCOPE, undefined, { schemaUrl: SCHEMA_URL });
    this.#meterOption = options.meter;
    this.#captureContent = options.captureContent ?? false;
  }

  /** Instruments are made at the first call, so a meter provider registered late still counts. */
  #metrics(): Instruments | null {
    if (this.#instruments !== undefined) return this.#instruments;
    const meter =
      this.#meterOption ??
      metrics.getMeter(INSTRUMENTATION_SCOPE, undefined, {
        schemaUrl: SCHEMA_URL,
      });
    if (meter instanceof NoopMeter) {
      this.#instruments = null;
      return null;
    }
    const gauge = meter.createObservableGauge("retry_client.breaker.state", {
      description: "1 for the state each circuit breaker is in, 0 for the others.",
      unit: "1",
    });
    gauge.addCallback((result) => {
      for (const [breaker, state] of this.#breakers) {
        for (const s of BREAKER_STATES) {
          result.observe(s === state ? 1 : 0, {
            "retry_client.breaker.key": breaker,
            "retry_client.breaker.state": s,
          });
        }
      }
    });
    const histogram = (name: string, description: string, unit: string, buckets: number[]) =>
      meter.createHistogram(name, {
        description,
        unit,
        advice: { explicitBucketBoundaries: buckets },
      });
    this.#instruments = {
      duration: histogram(
        "gen_ai.client.operation.duration",
        "GenAI operation duration.",
        "s",
        DURATION_BUCKETS,
      ),
      tokens: histogram(
        "gen_ai.client.token.usage",
        "Number of input and output tokens used.",
        "{token}",
        TOKEN_BUCKETS,
      ),
      firstChunk: histogram(
        "gen_ai.client.operation.time_to_first_chunk",
        "Time to receive the first chunk of a streamed answer.",
        "s",
        DURATION_BUCKETS,
      ),
      attempts: meter.createCounter("retry_client.attempts", {
        description: "Attempts made (or targets skipped) by outcome.",
        unit: "{attempt}",
      }),
    };
    return this.#instruments;
  }

  onCallStart({ call }: CallStartEvent): void {
    this.#metrics();
    const { requested, options } = call;
    const attributes: Attributes = {
      "gen_ai.operation.name": call.operation,
      "gen_ai.provider.name": requested.provider,
      "gen_ai.request.model": requested.model,
    };
    if (options.maxTokens !== undefined)
      attributes["gen_ai.request.max_tokens"] = options.maxTokens;
    if (options.temperature !== undefined) {
      attributes["gen_ai.request.temperature"] = options.temperature;
    }
    if (options.topP !== undefined) attributes["gen_ai.request.top_p"] = options.topP;
    if (options.stop !== undefined) attributes["gen_ai.request.stop_sequences"] = [...options.stop];
    if (options.responseFormat !== undefined) {
      attributes["gen_ai.output.type"] = options.responseFormat.type === "text" ? "text" : "json";
    }
    if (this.#captureContent) {
      const system = systemInstructions(call.messages);
      if (system !== undefined) attributes["gen_ai.system_instructions"] = system;
      attributes["gen_ai.input.messages"] = inputMessages(call.messages);
    }
    const span = this.#tracer.startSpan(
      `${call.operation} ${requested.model}`,
      { kind: SpanKind.CLIENT, attributes },
      context.active(),
    );
    this.#calls.set(call, {
      span,
      context: trace.setSpan(context.active(), span),
      startedAt: now(),
      attempts: new Map(),
      firstChunkAt: undefined,
      answeredBy: undefined,
    });
  }

  onAttemptStart({ call, target, attempt, retry, endpoint }: AttemptStartEvent): void {
    const state = this.#calls.get(call);
    if (!state) return;
    const attributes: Attributes = {
      "gen_ai.operation.name": call.operation,
      "gen_ai.provider.name": target.provider,
      "gen_ai.request.model": target.model,
      "retry_client.attempt": attempt,
      "retry_client.retry": retry,
    };
    if (endpoint) {
      attributes["server.address"] = endpoint.host;
      attributes["server.port"] = endpoint.port;
    }
    const span = this.#tracer.startSpan(
      `${call.operation} ${target.model}`,
      { kind: SpanKind.CLIENT, attributes },
      state.context,
    );
    state.attempts.set(attempt, { span, endpoint });
  }

  onFirstChunk({ call, attempt, ttftMs }: FirstChunkEvent): void {
    const state = this.#calls.get(call);
    if (!state) return;
    state.firstChunkAt ??= now();
    state.attempts
      .get(attempt)
      ?.span.setAttribute("gen_ai.response.time_to_first_chunk", ttftMs / 1000);
  }

  onAttemptEnd({ call, target, attempt, record, error, response }: AttemptEndEvent): void {
    const state = this.#calls.get(call);
    const entry = state?.attempts.get(attempt);
    if (!state || !entry) return;
    state.attempts.delete(attempt);
    const { span, endpoint } = entry;
    if (response) state.answeredBy = endpoint;
    const instruments = this.#metrics();
    if (!span.isRecording() && !instruments) {
      span.end();
      return;
    }
    const attributes: Attributes = { "retry_client.outcome": record.outcome };
    const status = record.status ?? (record.outcome === "success" && endpoint ? 200 : undefined);
    if (status !== undefined) attributes["http.response.status_code"] = status;
    if (record.usage) {
      attributes["gen_ai.usage.input_tokens"] = record.usage.inputTokens;
      attributes["gen_ai.usage.output_tokens"] = record.usage.outputTokens;
    }
    if (response) {
      attributes["gen_ai.response.model"] = response.responseModel;
      attributes["gen_ai.response.finish_reasons"] = [response.finishReason];
      if (response.requestId !== undefined) attributes["gen_ai.response.id"] = response.requestId;
    }
    const metric: Attributes = {
      "gen_ai.provider.name": target.provider,
      "gen_ai.request.model": target.model,
      "retry_client.outcome": record.outcome,
    };
    if (error) {
      const type = errorType(error);
      attributes["error.type"] = type;
      metric["error.type"] = type;
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    span.setAttributes(attributes);
    span.end();
    instruments?.attempts.add(1, metric);
  }

  onRetry({ call, target, attempt, error, delayMs }: RetryEvent): void {
    this.#calls.get(call)?.span.addEvent("retry_client.retry", {
      "retry_client.target": key(target),
      "retry_client.retry": attempt,
      "retry_client.delay_ms": delayMs,
      "error.type": errorType(error),
    });
  }

  onFallback({ call, from, to, error }: FallbackEvent): void {
    this.#calls.get(call)?.span.addEvent("retry_client.fallback", {
      "retry_client.from": key(from),
      "retry_client.to": key(to),
      "error.type": errorType(error),
    });
  }

  onTargetSkipped({ call, target, reason, error, retryAfterMs, waitMs }: TargetSkippedEvent): void {
    const attributes: Attributes = {
      "retry_client.target": key(target),
      "retry_client.skip_reason": reason,
      "error.type": errorType(error),
    };
    if (retryAfterMs !== undefined) attributes["retry_client.retry_after_ms"] = retryAfterMs;
    if (waitMs !== undefined) attributes["retry_client.delay_ms"] = waitMs;
    this.#calls.get(call)?.span.addEvent("retry_client.skipped", attributes);
    this.#metrics()?.attempts.add(1, {
      "gen_ai.provider.name": target.provider,
      "gen_ai.request.model": target.model,
      "retry_client.outcome": "skipped",
      "error.type": errorType(error),
    });
  }

  onBreakerTransition({ call, key: breaker, from, to }: BreakerTransitionEvent): void {
    this.#breakers.set(breaker, to);
    if (!call) return;
    this.#calls.get(call)?.span.addEvent("retry_client.breaker", {
      "retry_client.breaker.key": breaker,
      "retry_client.breaker.from": from,
      "retry_client.breaker.to": to,
    });
  }

  onWarning({ call, warning }: WarningEvent): void {
    if (!call) return;
    this.#calls.get(call)?.span.addEvent("retry_client.warning", {
      "retry_client.warning.code": warning.code,
    });
  }

  onStreamRestart({ call, target, discardedText }: StreamRestartEvent): void {
    this.#calls.get(call)?.span.addEvent("retry_client.restart", {
      "retry_client.target": key(target),
      "retry_client.discarded_chars": discardedText.length,
    });
  }

  onCallEnd({ call, outcome, response, error, attempts, durationMs }: CallEndEvent): void {
    const state = this.#calls.get(call);
    if (!state) return;
    this.#calls.delete(call);
    const { span } = state;
    // Attempts still open (none today; an abort ends them first) end with the call.
    for (const { span: open } of state.attempts.values()) open.end();
    const instruments = this.#metrics();
    if (!span.isRecording() && !instruments) {
      span.end();
      return;
    }
    let input = 0;
    let output = 0;
    let reported = false;
    for (const a of attempts) {
      if (!a.usage) continue;
      reported = true;
      input += a.usage.inputTokens;
      output += a.usage.outputTokens;
    }
    const common: Attributes = {
      "gen_ai.operation.name": call.operation,
      "gen_ai.provider.name": response?.provider ?? call.requested.provider,
      "gen_ai.request.model": call.requested.model,
    };
    if (response) {
      common["gen_ai.response.model"] = response.responseModel;
      if (state.answeredBy) {
        common["server.address"] = state.answeredBy.host;
        common["server.port"] = state.answeredBy.port;
      }
    } else {
      common["error.type"] = errorType(error);
    }
    const attributes: Attributes = { ...common, "retry_client.attempts": attempts.length };
    if (reported) {
      attributes["gen_ai.usage.input_tokens"] = input;
      attributes["gen_ai.usage.output_tokens"] = output;
    }
    if (response) {
      attributes["gen_ai.response.finish_reasons"] = [response.finishReason];
      if (response.requestId !== undefined) attributes["gen_ai.response.id"] = response.requestId;
      if (this.#captureContent) attributes["gen_ai.output.messages"] = outputMessages(response);
    }
    if (state.firstChunkAt !== undefined) {
      attributes["gen_ai.response.time_to_first_chunk"] =
        (state.firstChunkAt - state.startedAt) / 1000;
    }
    span.setAttributes(attributes);
    if (outcome !== "success") {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
    }
    span.end();
    const m = instruments;
    if (!m) return;
    m.duration.record(durationMs / 1000, common);
    if (reported) {
      m.tokens.record(input, { ...common, "gen_ai.token.type": "input" });
      m.tokens.record(output, { ...common, "gen_ai.token.type": "output" });
    }
    if (call.streaming && state.firstChunkAt !== undefined) {
      m.firstChunk.record((state.firstChunkAt - state.startedAt) / 1000, common);
    }
  }
}
