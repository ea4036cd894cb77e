import type { BackoffOptions } from "../resilience/backoff.js";
import type { CircuitBreakerOptions, CircuitState } from "../resilience/circuit-breaker.js";
import type { RetryBudgetOptions } from "../resilience/retry-budget.js";
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

/** What to do when a stream fails after content reached the caller (SPEC §4). */
export type MidStreamFailure = "error" | "restart" | "continue";

/** Settings of one provider. */
export interface ProviderSettings {
  /** Wire format. @default "anthropic" for the provider named anthropic, else "openai" */
  readonly type?: "openai" | "anthropic";
  /** @default the `OPENAI_API_KEY` / `ANTHROPIC_API_KEY` environment variable */
  readonly apiKey?: string;
  /** @default `OPENAI_BASE_URL` / `ANTHROPIC_BASE_URL`, else the public endpoint */
  readonly baseURL?: string;
  /** OpenAI organization id. */
  readonly organization?: string;
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** This provider's default model (used when it is the default provider or a default fallback). */
  readonly defaultModel?: string;
}

/** Retry settings of the client. */
export interface RetryConfig extends BackoffOptions {
  /** Retries per target after its first attempt. @default 5 */
  readonly maxRetries?: number;
}

/** Constructor settings of {@link RetryClient}. Every field is optional. */
export interface ClientConfig {
  /** @default the first provider with a key: openai, then anthropic */
  readonly defaultProvider?: string;
  /** @default the default provider's current default model */
  readonly defaultModel?: string;
  /** Provider settings by name, or ready-made `Provider` objects (any name). */
  readonly providers?: Readonly<Record<string, ProviderSettings | Provider>>;
  /** @default true */
  readonly retryEnabled?: boolean;
  readonly retry?: RetryConfig;
  /** @default true */
  readonly circuitEnabled?: boolean;
  readonly circuitBreaker?: Omit<CircuitBreakerOptions, "store" | "onStateChange" | "initialState">;
  /** @default true */
  readonly fallbackEnabled?: boolean;
  /**
   * Targets after the call's own. @default the other provider's default model, when that
   * provider has a key
   */
  readonly fallbackModels?: readonly ModelRef[];
  /** Fall back when a model refuses on content policy. @default false */
  readonly fallbackOnContentFilter?: boolean;
  /** Before each retry of a target: the retry number (1-based), the error, the wait. */
  readonly onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
  /** When the call moves to the next target. */
  readonly onFallback?: (from: ModelSpec, to: ModelSpec, error: unknown) => void;
  /** Every breaker transition this client makes (`key` is `provider:model`). */
  readonly onCircuitStateChange?: (key: string, from: CircuitState, to: CircuitState) => void;
  /** Something went wrong that did not fail the request. Never thrown. */
  readonly onWarning?: (warning: Warning) => void;
  /**
   * Listeners to every call's lifecycle: call and attempt start/end, retries, fallbacks, skipped
   * targets, breaker transitions, warnings, stream restarts. `retry-client/otel` provides one for
   * OpenTelemetry. The `onX` callbacks above are delivered through the same mechanism.
   * @default [] (no event is built)
   */
  readonly instrumentation?: readonly Instrumentation[];
  /** Longest server-requested wait the client sleeps; a longer one falls back at once. @default 60000 */
  readonly maxRetryAfterMs?: number;
  /** Caps retries as a share of traffic per target; `false` disables it. */
  readonly retryBudget?: RetryBudgetOptions | false;
  /**
   * One attempt: a non-streaming call until its body is read, a stream until its first content
   * delta. @default 600000 (ten minutes)
   */
  readonly timeoutMs?: number;
  /** Sending the request to the response headers. @default none */
  readonly connectTimeoutMs?: number;
  /** Streams: to the first content delta. @default none */
  readonly firstTokenTimeoutMs?: number;
  /** Streams: longest gap between content deltas. @default none */
  readonly idleTimeoutMs?: number;
  /** The whole call, retries, waits and fallbacks included. @default none */
  readonly deadlineMs?: number;
  /** @default "error" */
  readonly midStreamFailure?: MidStreamFailure;
  /** Where breaker state, cooldowns and budgets live. @default a new MemoryStateStore */
  readonly stateStore?: StateStore;
  /** Send requests through this fetch instead of the default transport. */
  readonly fetch?: typeof globalThis.fetch;
  /** Extra or corrected model entries (context windows, prefill support), or a whole catalogue. */
  readonly catalogue?: readonly ModelCapabilities[] | ModelCatalogue;
  /** Environment to read keys and base URLs from. @default process.env where it exists */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Options of one `complete()` / `stream()` / `chat()` call. Every field is optional. */
export interface CallOptions extends GenerationOptions, AttemptTimeouts {
  readonly model?: string;
  readonly provider?: string;
  /** Cancels the call; its reason is rethrown untouched. */
  readonly signal?: AbortSignal;
  /** The whole call, retries, waits and fallbacks included. */
  readonly deadlineMs?: number;
  /** Replaces the configured fallback targets for this call. */
  readonly fallbackModels?: readonly ModelRef[];
  /** Overrides retry settings for this call. */
  readonly retry?: RetryConfig;
  readonly midStreamFailure?: MidStreamFailure;
  /** Your own data, echoed on the response and in `attempt-start` events. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Raw body fields per provider name, e.g. `{ openai: { seed: 1 } }`. */
  readonly providerOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
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
  readonly refusal?: string;
  readonly requestId: string | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
  /** Every attempt, in order. */
  readonly attempts: readonly AttemptRecord[];
  readonly metadata?: Readonly<Record<string, unknown>>;
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
      readonly metadata?: Readonly<Record<string, unknown>>;
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
