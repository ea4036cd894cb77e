import type { ProviderErrorOptions } from "../../errors/errors.js";
import { retryAfterMsFrom } from "../../http/rate-limit.js";
import { headerValue, type TransportHeaders } from "../../http/transport.js";
import type { RateLimitInfo } from "../../types.js";
import { redactSecrets } from "./redact.js";

/** What an error body said, in whichever of the common shapes it came. */
export interface ErrorBody {
  readonly type?: string;
  readonly code?: string;
  readonly message?: string;
  readonly param?: string;
}

function str(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

/**
 * Reads an error object: OpenAI `{ error: { message, type, code, param } }`, Anthropic
 * `{ type: "error", error: { type, message } }`, and the looser shapes OpenAI-compatible servers
 * send (`{ error: "text" }`, `{ message }`, `{ detail }`).
 */
export function readErrorObject(value: unknown): ErrorBody {
  if (typeof value !== "object" || value === null) return {};
  const root = value as Record<string, unknown>;
  const inner = root.error;
  if (typeof inner === "string") return compact({ message: inner, type: str(root.type) });
  const source =
    typeof inner === "object" && inner !== null ? (inner as Record<string, unknown>) : root;
  const type = str(source.type);
  return compact({
    type: type === "error" ? undefined : type,
    code: str(source.code),
    message: str(source.message) ?? str(root.detail) ?? str(root.message),
    param: str(source.param),
  });
}

/**
 * Parses an error response body. A body that is not JSON (a proxy's HTML page, plain text)
 * yields at most a short message: the status alone then decides the error class.
 */
export function parseErrorBody(text: string): ErrorBody {
  const trimmed = text.trim();
  if (trimmed === "") return {};
  if (trimmed.startsWith("{")) {
    try {
      return readErrorObject(JSON.parse(trimmed));
    } catch {
      // fall through: not JSON after all
    }
  }
  if (trimmed.startsWith("<")) return {};
  return { message: trimmed.length > 200 ? `${trimmed.slice(0, 199)}…` : trimmed };
}

function compact(body: Record<string, string | undefined>): ErrorBody {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) if (value !== undefined) out[key] = value;
  return out;
}

/** What identifies a failed request when its error is built. */
export interface ErrorContext {
  readonly provider: string;
  readonly model: string;
  /** The API key, removed from any message the server echoes. */
  readonly secret?: string | undefined;
  /** The clock for reset and date headers. @default Date.now() */
  readonly now?: number | undefined;
  /** An estimate of the tokens the request needs (input characters / 4 + its output limit). */
  readonly tokensNeeded?: number | undefined;
}

/**
 * The facts of a provider error, from its status, body and headers: the wait the server asked
 * for (reset headers count only for a 429) and the server's message with the key redacted.
 */
export function providerErrorOptions(
  status: number | undefined,
  body: ErrorBody,
  context: ErrorContext,
  requestId: string | undefined,
  rateLimit: RateLimitInfo | undefined,
): ProviderErrorOptions {
  return {
    provider: context.provider,
    model: context.model,
    status,
    type: body.type,
    code: body.code,
    requestId,
    rateLimit,
    retryAfterMs: retryAfterMsFrom(rateLimit, {
      useResets: status === 429,
      tokensNeeded: context.tokensNeeded,
    }),
    providerMessage: body.message,
    // The error clears every server-controlled text of it (message, type, code, request id).
    secret: context.secret,
  };
}

/**
 * The request id a provider sent (`x-request-id` for OpenAI, `request-id` for Anthropic),
 * cleared of `secret` and of anything shaped like a key (a server may echo the key there).
 */
export function requestIdOf(headers: TransportHeaders, secret?: string): string | undefined {
  const id = headerValue(headers, "x-request-id") ?? headerValue(headers, "request-id");
  return id === undefined ? undefined : redactSecrets(id, secret);
}
