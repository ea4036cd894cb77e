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
  RetryClientError,
  ServerError,
  StreamInterruptedError,
  TimeoutError,
} from "./errors.js";
import { InvalidRequestError } from "./invalid-request-error.js";

/** The row of the failure table an error falls in. */
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
  | "invalid-request"
  | "silent-target"
  | "foreign"
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
  readonly hasOtherTarget?: boolean | undefined;
  /** Fall back on a content-filter refusal (opt-in). @default false */
  readonly fallbackOnContentFilter?: boolean | undefined;
  /**
   * How to treat an error that is not this package's (a `TypeError`, a user's own error):
   * `"rethrow"` (the client's rule: a bug is never an outage — kind `"foreign"`, no retry, no
   * fallback, not counted), or `"by-shape"` (what `retry()` does with any function's errors: read
   * its `status`, `headers` and network `code`). @default "rethrow"
   */
  readonly foreignErrors?: "rethrow" | "by-shape" | undefined;
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
 * The README's failure table, as code. Order matters: subclasses before their parents.
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
  [(e) => InvalidRequestError.isInstance(e), row("invalid-request", false, false, false)],
  [(e) => BadRequestError.isInstance(e), row("bad-request", false, false, false)],
  [
    (e) => AuthenticationError.isInstance(e) || PermissionDeniedError.isInstance(e),
    row("auth", false, true, true),
  ],
  [(e) => NotFoundError.isInstance(e), row("not-found", false, true, true)],
  [(e) => ServerError.isInstance(e), row("server", true, true, true)],
  // A target that stayed silent past `silentTargetMs` and then hung up is a silent target,
  // like a timeout with no answer: not a blip worth retrying while another target waits.
  [
    (e) => ConnectionError.isInstance(e) && e.silentForMs !== undefined,
    row("silent-target", false, true, true),
  ],
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

/** A package error of no known class (e.g. a custom provider's own `RetryClientError`). */
const UNKNOWN = row("unknown", true, true, true);
/** Not a provider's failure: a bug in our code, a custom provider's or a hook's. */
const FOREIGN: FailureDecision = {
  ...row("foreign", false, false, false),
  retryAfterMs: undefined,
};
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
 * breaker, cool the target down. The one place the failure table lives.
 *
 * - `x-should-retry: true|false` from the server overrides the retry column.
 * - A timeout with no answer yet (or a silent target that hung up) is retried only when no
 *   other target is available.
 * - Only failures that come from the wire (HTTP statuses, network, timeouts, in-band stream
 *   errors) and this package's typed errors take the table. Any other error (a `TypeError` in
 *   our code, in a custom provider or a hook) is kind `"foreign"`: not retried, not fallen back
 *   from, not counted — the client rethrows it as itself. With `foreignErrors: "by-shape"`
 *   (what `retry()` uses) such an error is read by its shape instead: see {@link classifyByShape}.
 *
 * @example
 * const d = classify(error, { signal, hasOtherTarget: true });
 * if (d.retry) await sleep(d.retryAfterMs ?? backoff(attempt));
 */
export function classify(error: unknown, context: ClassifyContext = {}): FailureDecision {
  if (isAbortError(error, context.signal)) return ABORT;
  const found = TABLE.find(([matches]) => matches(error))?.[1];
  if (found === undefined && !RetryClientError.isInstance(error)) {
    return context.foreignErrors === "by-shape" ? classifyByShape(error) : FOREIGN;
  }
  const base = found ?? UNKNOWN;
  let retry = base.retry;
  let fallback = base.fallback;
  if (
    (base.kind === "timeout" || base.kind === "silent-target") &&
    context.hasOtherTarget === false
  ) {
    retry = true;
  }
  if (base.kind === "content-filter" && context.fallbackOnContentFilter) fallback = true;
  const provider = ProviderError.isInstance(error) ? error : undefined;
  const shouldRetry = provider?.rateLimit?.shouldRetry;
  if (shouldRetry !== undefined && base.kind !== "quota") retry = shouldRetry;
  const retryAfterMs =
    provider?.retryAfterMs ?? (CircuitOpenError.isInstance(error) ? error.retryAfterMs : undefined);
  return { ...base, retry, fallback, retryAfterMs };
}

/** Node and undici error codes of a network failure worth retrying. */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENONET",
  "EPROTO",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

type Shape = {
  readonly name?: unknown;
  readonly status?: unknown;
  readonly statusCode?: unknown;
  readonly code?: unknown;
  readonly headers?: unknown;
  readonly response?: { readonly status?: unknown; readonly headers?: unknown } | null;
  readonly cause?: unknown;
};

/** The HTTP status an error of any library carries: `status`, `statusCode` or `response.status`. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as Shape;
  for (const value of [e.status, e.statusCode, e.response?.status]) {
    if (typeof value === "number" && Number.isInteger(value) && value >= 100 && value <= 599) {
      return value;
    }
  }
  return undefined;
}

/** A network error code (`ECONNRESET`, …) anywhere in the error's cause chain. */
function networkCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as Shape).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    current = (current as Shape).cause;
  }
  return undefined;
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (typeof headers !== "object" || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === "function") {
    const value: unknown = get.call(headers, name);
    return typeof value === "string" ? value : undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === "string") return value;
    if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  }
  return undefined;
}

/** `retry-after-ms`, else `retry-after` (seconds or an HTTP date), in milliseconds. */
function retryAfterOf(headers: unknown, now = Date.now()): number | undefined {
  const ms = headerOf(headers, "retry-after-ms");
  if (ms !== undefined && ms.trim() !== "" && Number.isFinite(Number(ms)) && Number(ms) >= 0) {
    return Number(ms);
  }
  const after = headerOf(headers, "retry-after");
  if (after === undefined || after.trim() === "") return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const PROGRAMMING_ERRORS = new Set(["TypeError", "RangeError", "SyntaxError", "ReferenceError"]);

/**
 * Classifies an error of any library by its shape (what `retry()` and `withRetry()` do with
 * the errors of the function they wrap):
 * - a numeric `status` / `statusCode` / `response.status` goes through the table by status:
 *   429 retried (a cooldown), 408/409/5xx retried, any other status not retried (an openai-node
 *   `APIError` with status 400 is not retried);
 * - `headers` (a `Headers` or a plain record, on the error or its `response`) are read for
 *   `retry-after-ms` / `retry-after` and `x-should-retry`;
 * - a Node network code (`ECONNRESET`, `ETIMEDOUT`, …) in the cause chain is retried;
 * - `TypeError`, `RangeError`, `SyntaxError` and `ReferenceError` are programming errors: not
 *   retried;
 * - anything else is retried.
 */
export function classifyByShape(error: unknown): FailureDecision {
  const status = statusOf(error);
  const e = (typeof error === "object" && error !== null ? error : {}) as Shape;
  const headers = e.headers ?? e.response?.headers;
  const retryAfterMs = retryAfterOf(headers);
  const shouldRetry = headerOf(headers, "x-should-retry");
  let decision: FailureDecision;
  if (status !== undefined) {
    const transient = status === 408 || status === 409 || status === 429 || status >= 500;
    decision = {
      ...row(
        status === 429 ? "rate-limit" : transient ? "server" : "bad-request",
        transient,
        transient,
        transient && status !== 429,
        status === 429,
      ),
      retryAfterMs,
    };
  } else if (networkCodeOf(error) !== undefined) {
    decision = { ...row("connection", true, true, true), retryAfterMs };
  } else if (error instanceof Error && PROGRAMMING_ERRORS.has(error.name)) {
    decision = { ...row("foreign", false, false, false), retryAfterMs: undefined };
  } else {
    decision = { ...row("unknown", true, true, true), retryAfterMs };
  }
  if (shouldRetry === "true") return { ...decision, retry: true };
  if (shouldRetry === "false") return { ...decision, retry: false };
  return decision;
}
