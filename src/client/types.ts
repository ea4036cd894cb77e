import type { BackoffOptions } from "../resilience/backoff.js";
import type { CircuitBreakerOptions, CircuitState } from "../resilience/circuit-breaker.js";
import type { RetryBudgetOptions } from "../resilience/retry-budget.js";
import type { GroupStrategy } from "../routing/group-balancer.js";
import type { HedgeOptions } from "../routing/hedge.js";
import type { StateStore } from "../state/state-store.js";
import type {
  AttemptRecord,
  AttemptTimeouts,
  ChatMessage,
  FinishReason,
  GenerationOptions,
  Provider,
  ProviderStreamEvent,
  RateLimitInfo,
  ToolCall,
  Usage,
  Warning,
} from "../types.js";
import type { ModelCapabilities, ModelCatalogue } from "./catalogue.js";
import type { Instrumentation } from "./instrumentation.js";

/** One target of a fallback chain: a provider name and a model id. */
export interface ModelSpec {
  readonly provider: string;
  readonly model: string;
}

/** A target as configured: `{ provider, model }` or the seed's `[provider, model]` tuple. */
export type ModelRef = ModelSpec | readonly [provider: string, model: string];

/**
 * A deployment group: equivalent targets (the same model behind several keys, regions or
 * resources) behind one name that calls use as their `model`.
 *
 * @example
 * { targets: [["openai", "gpt-4o"], ["azure-east", "gpt-4o"]], strategy: "least-busy" }
 */
export interface DeploymentGroup {
  /** The members, in order. At least one. */
  readonly targets: readonly ModelRef[];
  /** How the first member of a call is picked. @default "least-busy" */
  readonly strategy?: GroupStrategy | undefined;
  /** `weighted`: one positive weight per member, in order. @default 1 each */
  readonly weights?: readonly number[] | undefined;
}

/** What to do when a stream fails after content reached the caller. */
export type MidStreamFailure = "error" | "restart" | "continue";

/** Settings of one provider. Every field is optional. */
export interface ProviderSettings {
  /**
   * Wire format: `"openai"` (OpenAI and any OpenAI-compatible endpoint), `"anthropic"`, or
   * `"azure"` (Azure OpenAI: deployment URLs, `api-key` header).
   * @default "anthropic" for the provider named anthropic, "azure" for the one named azure, else "openai"
   */
  readonly type?: "openai" | "anthropic" | "azure" | undefined;
  /**
   * The API key; `null` for an endpoint that needs none (Ollama, vLLM, llama.cpp, LM Studio):
   * no auth header is sent and no variable is required.
   * @default the `OPENAI_API_KEY` / `ANTHROPIC_API_KEY` / `AZURE_OPENAI_API_KEY` variable
   * (`<NAME>_API_KEY` for any other name)
   */
  readonly apiKey?: string | null | undefined;
  /**
   * The base URL (a query string is kept on every request).
   * @default `OPENAI_BASE_URL` / `ANTHROPIC_BASE_URL`, else the public endpoint
   */
  readonly baseURL?: string | undefined;
  /** Azure: the resource endpoint, `https://<resource>.openai.azure.com`. @default `AZURE_OPENAI_ENDPOINT` */
  readonly endpoint?: string | undefined;
  /** Azure: the `api-version` query parameter. @default "2024-10-21" */
  readonly apiVersion?: string | undefined;
  /** Azure: the deployment to call. @default the call's model name */
  readonly deployment?: string | undefined;
  /** OpenAI organization id. */
  readonly organization?: string | undefined;
  /**
   * OpenAI wire: forces the body field of the output token limit.
   * @default by model family: `max_completion_tokens` for o1/o3/o4/gpt-5 (and on api.openai.com), else `max_tokens`
   */
  readonly maxTokensField?: "max_tokens" | "max_completion_tokens" | undefined;
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** This provider's default model (used when it is the default provider or a default fallback). */
  readonly defaultModel?: string | undefined;
}

/** Retry settings of the client. */
export interface RetryConfig extends BackoffOptions {
  /** Retries per target after its first attempt. @default 5 */
  readonly maxRetries?: number | undefined;
}

/** Constructor settings of {@link RetryClient}. Every field is optional. */
export interface ClientConfig {
  /** @default the first provider with a key: openai, then anthropic */
  readonly defaultProvider?: string | undefined;
  /** @default the default provider's current default model */
  readonly defaultModel?: string | undefined;
  /** Provider settings by name, or ready-made `Provider` objects (any name). */
  readonly providers?: Readonly<Record<string, ProviderSettings | Provider>> | undefined;
  /** @default true */
  readonly retryEnabled?: boolean | undefined;
  readonly retry?: RetryConfig | undefined;
  /** @default true */
  readonly circuitEnabled?: boolean | undefined;
  readonly circuitBreaker?:
    | Omit<CircuitBreakerOptions, "store" | "onStateChange" | "initialState">
    | undefined;
  /** @default true */
  readonly fallbackEnabled?: boolean | undefined;
  /**
   * Targets after the call's own. @default the other provider's default model, when that
   * provider has a key
   */
  readonly fallbackModels?: readonly ModelRef[] | undefined;
  /** Fall back when a model refuses on content policy. @default false */
  readonly fallbackOnContentFilter?: boolean | undefined;
  /** Before each retry of a target: the retry number (1-based), the error, the wait. */
  readonly onRetry?: ((attempt: number, error: unknown, delayMs: number) => void) | undefined;
  /** When the call moves to the next target. */
  readonly onFallback?: ((from: ModelSpec, to: ModelSpec, error: unknown) => void) | undefined;
  /** Every breaker transition this client makes (`key` is `provider:model`). */
  readonly onCircuitStateChange?:
    | ((key: string, from: CircuitState, to: CircuitState) => void)
    | undefined;
  /** Something went wrong that did not fail the request. Never thrown. */
  readonly onWarning?: ((warning: Warning) => void) | undefined;
  /**
   * Listeners to every call's lifecycle: call and attempt start/end, retries, fallbacks, skipped
   * targets, breaker transitions, warnings, stream restarts. `retry-client/otel` provides one for
   * OpenTelemetry. The `onX` callbacks above are delivered through the same mechanism.
   * @default [] (no event is built)
   */
  readonly instrumentation?: readonly Instrumentation[] | undefined;
  /** Longest server-requested wait the client sleeps; a longer one falls back at once. @default 60000 */
  readonly maxRetryAfterMs?: number | undefined;
  /** Caps retries as a share of traffic per target; `false` disables it. */
  readonly retryBudget?: RetryBudgetOptions | false | undefined;
  /**
   * One attempt: a non-streaming call until its body is read, a stream until its first content
   * delta. @default 600000 (ten minutes)
   */
  readonly timeoutMs?: number | undefined;
  /** Sending the request to the response headers. @default none */
  readonly connectTimeoutMs?: number | undefined;
  /** Streams: to the first content delta. @default none */
  readonly firstTokenTimeoutMs?: number | undefined;
  /**
   * Streams: longest gap between content deltas once content started (keep-alive comments and
   * pings do not count; reasoning deltas do). `Infinity` turns it off. @default 300000 (5 min)
   */
  readonly idleTimeoutMs?: number | undefined;
  /** The whole call, retries, waits and fallbacks included. @default none */
  readonly deadlineMs?: number | undefined;
  /**
   * The largest non-streaming response body read, in bytes; a longer one fails as
   * `ServerError` code `response_too_large`. @default 33554432 (32 MiB)
   */
  readonly maxResponseBytes?: number | undefined;
  /**
   * Streams: the largest server-sent event (and longest line) buffered, in bytes; past it the
   * attempt fails as `ServerError` code `sse_event_too_large` / `sse_line_too_large`.
   * @default 8388608 (8 MiB)
   */
  readonly maxSseEventBytes?: number | undefined;
  /**
   * A connection closed with no response byte after the target stayed silent this long is a
   * silent target: like a timeout with no answer, it falls back at once and is retried only
   * when no other target is left. A close sooner than this is a blip, retried. @default 5000
   */
  readonly silentTargetMs?: number | undefined;
  /** @default "error" */
  readonly midStreamFailure?: MidStreamFailure | undefined;
  /** Where breaker state, cooldowns and budgets live. @default a new MemoryStateStore */
  readonly stateStore?: StateStore | undefined;
  /** Send requests through this fetch instead of the default transport. */
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** Extra or corrected model entries (context windows, prefill support), or a whole catalogue. */
  readonly catalogue?: readonly ModelCapabilities[] | ModelCatalogue | undefined;
  /** Environment to read keys and base URLs from. @default process.env where it exists */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Deployment groups by name: a call whose `model` is a group name (and that names no
   * `provider`) goes to the member the group's strategy picks among those not open or cooling
   * down; the other members follow it, then the fallbacks.
   */
  readonly groups?: Readonly<Record<string, DeploymentGroup>> | undefined;
  /**
   * Proactive throttling: the rate-limit headers of every answer are kept per target (in the
   * state store once they run low), and a target without requests or tokens left for the call
   * is treated as cooling down until its reset instead of spending a 429. @default true
   */
  readonly throttling?: boolean | undefined;
  /** Hedged requests (opt-in): a second request when an attempt stays silent too long. @default none */
  readonly hedge?: HedgeOptions | false | undefined;
}

/** Options of one `complete()` / `stream()` / `chat()` call. Every field is optional. */
export interface CallOptions extends GenerationOptions, AttemptTimeouts {
  readonly model?: string | undefined;
  readonly provider?: string | undefined;
  /** Cancels the call; its reason is rethrown untouched. */
  readonly signal?: AbortSignal | undefined;
  /** The whole call, retries, waits and fallbacks included. */
  readonly deadlineMs?: number | undefined;
  /** Replaces the configured fallback targets for this call. */
  readonly fallbackModels?: readonly ModelRef[] | undefined;
  /** Overrides retry settings for this call. */
  readonly retry?: RetryConfig | undefined;
  readonly midStreamFailure?: MidStreamFailure | undefined;
  /** Your own data, echoed on the response and in `attempt-start` events. */
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  /** Raw body fields per provider name, e.g. `{ openai: { seed: 1 } }`. */
  readonly providerOptions?:
    | Readonly<Record<string, Readonly<Record<string, unknown>>>>
    | undefined;
}

/** The answer of a call. */
export interface ChatResponse {
  readonly content: string;
  /** Who answered. */
  readonly provider: string;
  /** The chain target's model that answered. */
  readonly model: string;
  /** The model id the provider reported. */
  readonly responseModel: string;
  /** Usage of the answering attempt. */
  readonly usage: Usage | undefined;
  /** Usage summed over every attempt that reported any (what was billed). */
  readonly totalUsage: Usage;
  readonly finishReason: FinishReason;
  readonly rawFinishReason: string | undefined;
  readonly toolCalls: readonly ToolCall[];
  readonly refusal?: string | undefined;
  readonly requestId: string | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
  /** Every attempt, in order. */
  readonly attempts: readonly AttemptRecord[];
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Typed events of `client.stream(...).events()`: the provider's content events (`text-delta`,
 * `tool-call-delta`, `tool-call`, `usage`, `warning`) passed through as they arrive, plus what
 * the client does between attempts, and `finish` with the whole answer.
 */
export type StreamEvent =
  | Exclude<ProviderStreamEvent, { readonly type: "finish" }>
  | {
      readonly type: "attempt-start";
      readonly provider: string;
      readonly model: string;
      /** 0-based index over the whole call. */
      readonly attempt: number;
      readonly metadata?: Readonly<Record<string, unknown>> | undefined;
    }
  | {
      readonly type: "retry";
      readonly provider: string;
      readonly model: string;
      /** The retry about to run (1-based) on this target; 0 for a wait on a cooldown. */
      readonly attempt: number;
      readonly error: unknown;
      readonly delayMs: number;
    }
  | {
      readonly type: "fallback";
      readonly from: ModelSpec;
      readonly to: ModelSpec;
      readonly error: unknown;
    }
  | {
      /** The answer so far is void: the next text deltas start a new answer. */
      readonly type: "restart";
      readonly provider: string;
      readonly model: string;
      readonly error: unknown;
      readonly discardedText: string;
    }
  | { readonly type: "finish"; readonly response: ChatResponse };

/** Messages as `complete()` accepts them. */
export type Messages = readonly ChatMessage[];
