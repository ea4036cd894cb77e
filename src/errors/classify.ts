import {
  AuthenticationError,
  BadRequestError,
  CircuitOpenError,
  ConfigurationError,
  ConnectionError,
  ContentFilterError,
  ContextLengthExceededError,
  FallbackExhaustedError,
  NotFoundError,
  PermissionDeniedError,
  ProviderError,
  QuotaExceededError,
  RateLimitError,
  ServerError,
  StreamInterruptedError,
  TimeoutError,
} from "./errors.js";

/** The row of the failure table (SPEC §2) an error falls in. */
export type FailureKind =
  | "abort"
  | "rate-limit"
  | "quota"
  | "request-too-large"
  | "server"
  | "connection"
  | "timeout"
  | "idle-timeout"
  | "deadline"
  | "stream-interrupted"
  | "context-length"
  | "content-filter"
  | "bad-request"
  | "auth"
  | "not-found"
  | "circuit-open"
  | "configuration"
  | "exhausted"
  | "unknown";

/** What to do about a failure. */
export interface FailureDecision {
  readonly kind: FailureKind;
  /** Try the same target again (after a wait). */
  readonly retry: boolean;
  /** Move on to the next target of the chain (after retries, when `retry` is true). */
  readonly fallback: boolean;
  /** Count it as a failure for the target's circuit breaker. */
  readonly countsForBreaker: boolean;
  /** Put the target in a cooldown that other requests honour (rate limits). */
  readonly cooldown: boolean;
  /** The wait the server asked for, if any. */
  readonly retryAfterMs: number | undefined;
}

/** Context the decision depends on. */
export interface ClassifyContext {
  /** The caller's signal: an error that is its abort reason is an abort. */
  readonly signal?: AbortSignal | undefined;
  /** Whether another target is left to fall back to (timeouts retry only when none is). */
  readonly hasOtherTarget?: boolean;
  /** Fall back on a content-filter refusal (opt-in). @default false */
  readonly fallbackOnContentFilter?: boolean;
}

type Row = Omit<FailureDecision, "retryAfterMs">;

const row = (
  kind: FailureKind,
  retry: boolean,
  fallback: boolean,
  countsForBreaker: boolean,
  cooldown = false,
): Row => ({ kind, retry, fallback, countsForBreaker, cooldown });

/**
 * The failure table of SPEC §2, as code. Order matters: subclasses before their parents.
 * Columns: retry same target, fall back, counts for the breaker, cooldown.
 */
const TABLE: ReadonlyArray<readonly [(error: unknown) => boolean, Row]> = [
  [(e) => QuotaExceededError.isInstance(e), row("quota", false, true, true)],
  [
    (e) => RateLimitError.isInstance(e) && e.requestTooLarge,
    row("request-too-large", false, true, false),
  ],
  [(e) => RateLimitError.isInstance(e), row("rate-limit", true, true, false, true)],
  [(e) => ContextLengthExceededError.isInstance(e), row("context-length", false, true, false)],
  [(e) => ContentFilterError.isInstance(e), row("content-filter", false, false, false)],
  [(e) => BadRequestError.isInstance(e), row("bad-request", false, false, false)],
  [
    (e) => AuthenticationError.isInstance(e) || PermissionDeniedError.isInstance(e),
    row("auth", false, true, true),
  ],
  [(e) => NotFoundError.isInstance(e), row("not-found", false, true, true)],
  [(e) => ServerError.isInstance(e), row("server", true, true, true)],
  [(e) => ConnectionError.isInstance(e), row("connection", true, true, true)],
  [
    (e) => TimeoutError.isInstance(e) && e.kind === "deadline",
    row("deadline", false, false, false),
  ],
  [(e) => TimeoutError.isInstance(e) && e.kind === "idle", row("idle-timeout", false, true, true)],
  // A silent target usually stays silent: fall back at once; retry only with nowhere else to go.
  [(e) => TimeoutError.isInstance(e), row("timeout", false, true, true)],
  [(e) => StreamInterruptedError.isInstance(e), row("stream-interrupted", false, true, true)],
  [(e) => CircuitOpenError.isInstance(e), row("circuit-open", false, true, false)],
  // A target without a key (or with bad settings) cannot answer; another target may.
  [(e) => ConfigurationError.isInstance(e), row("configuration", false, true, false)],
  [(e) => FallbackExhaustedError.isInstance(e), row("exhausted", false, false, false)],
  // Any other HTTP status: 408/409 and unknown 5xx are transient; other 4xx are the caller's.
  [
    (e) => ProviderError.isInstance(e) && isTransientStatus(e.status),
    row("server", true, true, true),
  ],
  [(e) => ProviderError.isInstance(e), row("bad-request", false, false, false)],
];

const UNKNOWN = row("unknown", true, true, true);
const ABORT: FailureDecision = { ...row("abort", false, false, false), retryAfterMs: undefined };

function isTransientStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 409 || status >= 500;
}

/** True when `error` is a caller's abort: the signal's reason, or a DOM `AbortError`. */
export function isAbortError(error: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted && error === signal.reason) return true;
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { name?: unknown }).name === "AbortError" &&
    !(error instanceof Error && "kind" in error)
  );
}

/**
 * Decides what to do about a failure: retry the same target, fall back, count it for the
 * breaker, cool the target down. The one place the failure table of SPEC §2 lives.
 *
 * - `x-should-retry: true|false` from the server overrides the retry column.
 * - A timeout with no answer yet is retried only when no other target is available.
 * - Errors that are not this package's (e.g. thrown by a function given to `retry()`) are
 *   treated as transient.
 *
 * @example
 * const d = classify(error, { signal, hasOtherTarget: true });
 * if (d.retry) await sleep(d.retryAfterMs ?? backoff(attempt));
 */
export function classify(error: unknown, context: ClassifyContext = {}): FailureDecision {
  if (isAbortError(error, context.signal)) return ABORT;
  const base = TABLE.find(([matches]) => matches(error))?.[1] ?? UNKNOWN;
  let retry = base.retry;
  let fallback = base.fallback;
  if (base.kind === "timeout" && context.hasOtherTarget === false) retry = true;
  if (base.kind === "content-filter" && context.fallbackOnContentFilter) fallback = true;
  const provider = ProviderError.isInstance(error) ? error : undefined;
  const shouldRetry = provider?.rateLimit?.shouldRetry;
  if (shouldRetry !== undefined && base.kind !== "quota") retry = shouldRetry;
  const retryAfterMs =
    provider?.retryAfterMs ?? (CircuitOpenError.isInstance(error) ? error.retryAfterMs : undefined);
  return { ...base, retry, fallback, retryAfterMs };
}
