import {
  BadRequestError,
  ContentFilterError,
  ContextLengthExceededError,
  OverloadedError,
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

/** What identifies the failed request (see `ErrorContext`). */
export type AnthropicErrorContext = ErrorContext;

const CONTEXT_LENGTH =
  /prompt is too long|exceed(s|ed)? (the )?context (limit|window)|context window|too many total text bytes/i;
const BILLING = /credit balance is too low|billing/i;

/** The HTTP twin of each Anthropic error type, for in-band stream errors. */
const TYPE_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

function refine(status: number, body: ErrorBody, base: ProviderErrorClass): ProviderErrorClass {
  const message = body.message ?? "";
  if (body.type === "overloaded_error") return OverloadedError;
  if (body.type === "billing_error" || (status === 400 && BILLING.test(message)))
    return QuotaExceededError;
  if (status === 400 || status === 413) {
    if (CONTEXT_LENGTH.test(message)) return ContextLengthExceededError;
    if (/content filtering policy/i.test(message)) return ContentFilterError;
  }
  if (status === 402) return QuotaExceededError;
  return base;
}

function build(
  status: number,
  body: ErrorBody,
  context: AnthropicErrorContext,
  requestId: string | undefined,
  rateLimit: RateLimitInfo | undefined,
  base: ProviderErrorClass,
): ProviderError {
  const cls = refine(status, body, base);
  return new cls(providerErrorOptions(status, body, context, requestId, rateLimit));
}

/**
 * The typed error for a non-2xx Messages API response (`{"type":"error","error":{"type",
 * "message"}}`): the status picks the class (413 `request_too_large` → `BadRequestError`, 529 →
 * `OverloadedError`), the body refines it ("prompt is too long" → `ContextLengthExceededError`,
 * a billing error → `QuotaExceededError`). A body that is not JSON still gets its status's class.
 */
export function anthropicErrorFromResponse(
  status: number,
  bodyText: string,
  headers: TransportHeaders,
  context: AnthropicErrorContext,
): ProviderError {
  const body = parseErrorBody(bodyText);
  const rateLimit = parseRateLimitHeaders(headers, context.now);
  const requestId = requestIdOf(headers);
  return build(status, body, context, requestId, rateLimit, errorClassForStatus(status));
}

/**
 * The typed error for an in-band `event: error`, classed as its HTTP twin: `overloaded_error` →
 * `OverloadedError` (529), `api_error` → `ServerError` (500), `rate_limit_error` →
 * `RateLimitError` (429), `invalid_request_error` → `BadRequestError` (400); an unknown type is a
 * `ServerError` (500).
 */
export function anthropicStreamError(
  error: unknown,
  context: AnthropicErrorContext,
  requestId: string | undefined,
): ProviderError {
  const body = readErrorObject({ error });
  const status = (body.type !== undefined ? TYPE_STATUS[body.type] : undefined) ?? 500;
  const base =
    status === 529
      ? OverloadedError
      : status === 429
        ? RateLimitError
        : status === 400
          ? BadRequestError
          : status >= 500
            ? ServerError
            : errorClassForStatus(status);
  return build(status, body, context, requestId, undefined, base);
}
