import {
  BadRequestError,
  ContentFilterError,
  ContextLengthExceededError,
  type ProviderError,
  QuotaExceededError,
  RateLimitError,
  ServerError,
} from "../../errors/errors.js";
import { parseRateLimitHeaders } from "../../http/rate-limit.js";
import type { TransportHeaders } from "../../http/transport.js";
import type { RateLimitInfo } from "../../types.js";
import {
  type ErrorBody,
  type ErrorContext,
  parseErrorBody,
  providerErrorOptions,
  readErrorObject,
  requestIdOf,
} from "../shared/error-body.js";
import { errorClassForStatus, type ProviderErrorClass } from "../shared/status-error.js";

/** Error codes OpenAI and OpenAI-compatible services (Azure) use for a content-policy block. */
const CONTENT_FILTER_CODES = new Set([
  "content_filter",
  "content_policy_violation",
  "content_policy",
  // What OpenAI answers when a prompt is flagged by its usage policies.
  "invalid_prompt",
  "moderation_blocked",
  "responsible_ai_policy_violation",
]);

/** What identifies the failed request (see `ErrorContext`). */
export type OpenAIErrorContext = ErrorContext;

function refine(
  status: number | undefined,
  body: ErrorBody,
  base: ProviderErrorClass,
): ProviderErrorClass {
  const code = body.code;
  const type = body.type;
  if (code === "insufficient_quota" || type === "insufficient_quota") return QuotaExceededError;
  if (code === "context_length_exceeded" || code === "string_above_max_length") {
    return ContextLengthExceededError;
  }
  if ((code && CONTENT_FILTER_CODES.has(code)) || (type && CONTENT_FILTER_CODES.has(type))) {
    return ContentFilterError;
  }
  if (status === undefined) return base;
  if (status === 400 && /maximum context length|context window/i.test(body.message ?? "")) {
    return ContextLengthExceededError;
  }
  return base;
}

function build(
  cls: ProviderErrorClass,
  status: number | undefined,
  body: ErrorBody,
  context: OpenAIErrorContext,
  requestId: string | undefined,
  rateLimit: RateLimitInfo | undefined,
): ProviderError {
  const options = providerErrorOptions(status, body, context, requestId, rateLimit);
  if (cls === RateLimitError) {
    // "Request too large for gpt-4 ... on tokens per min (TPM): Limit 10000, Requested 24000."
    const requestTooLarge = /request too large/i.test(body.message ?? "");
    return new RateLimitError({ ...options, requestTooLarge });
  }
  return new cls(options);
}

/**
 * The typed error for a non-2xx Chat Completions response: the status picks the class, the
 * body's `code`/`type` refine it (`insufficient_quota` → {@link QuotaExceededError},
 * `context_length_exceeded` → {@link ContextLengthExceededError}, content-policy codes →
 * {@link ContentFilterError}, a 429 "Request too large" → `RateLimitError` with
 * `requestTooLarge`). A body that is not JSON still gets the class of its status.
 */
export function openAIErrorFromResponse(
  status: number,
  bodyText: string,
  headers: TransportHeaders,
  context: OpenAIErrorContext,
): ProviderError {
  const body = parseErrorBody(bodyText);
  const rateLimit = parseRateLimitHeaders(headers, context.now);
  const requestId = requestIdOf(headers);
  return build(
    refine(status, body, errorClassForStatus(status)),
    status,
    body,
    context,
    requestId,
    rateLimit,
  );
}

/**
 * The typed error for an in-band `data: {"error": …}` chunk, classed as its HTTP twin:
 * `server_error` → `ServerError` (500), `rate_limit_exceeded` / `requests` / `tokens` →
 * `RateLimitError` (429), `insufficient_quota` → `QuotaExceededError` (429), invalid requests →
 * `BadRequestError` (400), anything else → `ServerError` (500).
 */
export function openAIStreamError(
  error: unknown,
  context: OpenAIErrorContext,
  requestId: string | undefined,
): ProviderError {
  const body = readErrorObject({ error });
  const kind = body.code ?? body.type;
  let status = 500;
  let cls: ProviderErrorClass = ServerError;
  if (kind === "insufficient_quota" || body.type === "insufficient_quota") {
    status = 429;
    cls = QuotaExceededError;
  } else if (
    kind === "rate_limit_exceeded" ||
    body.type === "requests" ||
    body.type === "tokens" ||
    body.type === "rate_limit_error"
  ) {
    status = 429;
    cls = RateLimitError;
  } else if (body.type === "invalid_request_error") {
    status = 400;
    cls = BadRequestError;
  }
  return build(refine(status, body, cls), status, body, context, requestId, undefined);
}
