import type { AttemptRecord, RateLimitInfo } from "../types.js";
import { redactOptional } from "./redact.js";

const KINDS = Symbol.for("retry-client.error.kinds");

type ErrorClass = { readonly errorName: string };

/** Options every error of the package accepts. */
export interface RetryClientErrorOptions {
  readonly cause?: unknown;
  readonly attempts?: readonly AttemptRecord[];
}

/**
 * The base class of every error this package throws.
 *
 * `static isInstance` works across duplicate installs of the package (it checks a
 * `Symbol.for` marker, not the prototype chain), so prefer it to `instanceof`.
 */
export class RetryClientError extends Error {
  /** The class name, stable under minification. */
  static readonly errorName: string = "RetryClientError";
  /** Every attempt the client made for the call that failed (empty when thrown outside a call). */
  attempts: readonly AttemptRecord[];
  declare readonly [KINDS]: readonly string[];

  constructor(message: string, options: RetryClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const kinds: string[] = [];
    for (let c: unknown = new.target; c && c !== Error; c = Object.getPrototypeOf(c)) {
      const name = (c as Partial<ErrorClass>).errorName;
      if (typeof name === "string" && !kinds.includes(name)) kinds.push(name);
    }
    Object.defineProperty(this, KINDS, { value: kinds, enumerable: false });
    Object.defineProperty(this, "name", {
      value: (new.target as unknown as ErrorClass).errorName,
      enumerable: false,
      writable: true,
      configurable: true,
    });
    this.attempts = options.attempts ?? [];
  }

  /** True for an instance of this class or a subclass, from any copy of the package. */
  static isInstance<T extends abstract new (...args: never[]) => RetryClientError>(
    this: T & ErrorClass,
    value: unknown,
  ): value is InstanceType<T> {
    if (typeof value !== "object" || value === null) return false;
    const kinds = (value as { [KINDS]?: unknown })[KINDS];
    return Array.isArray(kinds) && kinds.includes(this.errorName);
  }

  /** A plain-object view for logs: name, message and the facts the error carries. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, message: this.message };
    for (const [key, value] of Object.entries(this)) {
      if (key === "attempts" && Array.isArray(value) && value.length === 0) continue;
      if (value !== undefined) out[key] = value;
    }
    if (this.cause !== undefined) out.cause = describeCause(this.cause);
    return out;
  }
}

function describeCause(cause: unknown): unknown {
  if (cause instanceof RetryClientError) return cause.toJSON();
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return String(cause);
}

/** Facts a provider error carries. */
export interface ProviderErrorOptions extends RetryClientErrorOptions {
  readonly provider: string;
  readonly model?: string | undefined;
  readonly status?: number | undefined;
  /** The provider's error type, e.g. `rate_limit_error`, `invalid_request_error`. */
  readonly type?: string | undefined;
  /** The provider's error code, e.g. `insufficient_quota`, `context_length_exceeded`. */
  readonly code?: string | undefined;
  readonly requestId?: string | undefined;
  readonly retryAfterMs?: number | undefined;
  readonly rateLimit?: RateLimitInfo | undefined;
  /** The provider's own message (never contains request headers). */
  readonly providerMessage?: string | undefined;
  /**
   * The API key of the request. Every text the server controls (`type`, `code`, `requestId`,
   * the message) is cleared of it, and of anything shaped like a key, before the error exists:
   * its message, stack, `toJSON()`, `util.inspect` and every copy made of them. It is never
   * stored on the error.
   */
  readonly secret?: string | undefined;
}

/** Any error answer from a provider: an HTTP error status or an in-band stream error event. */
export class ProviderError extends RetryClientError {
  static override readonly errorName: string = "ProviderError";
  readonly provider: string;
  readonly model: string | undefined;
  /** HTTP status (for an in-band stream error: the status of its HTTP twin). */
  readonly status: number | undefined;
  readonly type: string | undefined;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  /** How long the server asked us to wait, derived from the rate-limit headers. */
  readonly retryAfterMs: number | undefined;
  readonly rateLimit: RateLimitInfo | undefined;

  constructor(options: ProviderErrorOptions) {
    const clean = redacted(options);
    super(formatProviderMessage(clean), options);
    this.provider = options.provider;
    this.model = options.model;
    this.status = options.status;
    this.type = clean.type;
    this.code = clean.code;
    this.requestId = clean.requestId;
    this.retryAfterMs = options.retryAfterMs;
    this.rateLimit = options.rateLimit;
  }
}

/** The server-controlled texts of `o`, cleared of the key and of anything shaped like one. */
function redacted(o: ProviderErrorOptions): ProviderErrorOptions {
  const secret = o.secret;
  return {
    provider: o.provider,
    model: o.model,
    status: o.status,
    type: redactOptional(o.type, secret),
    code: redactOptional(o.code, secret),
    requestId: redactOptional(o.requestId, secret),
    retryAfterMs: o.retryAfterMs,
    providerMessage: redactOptional(o.providerMessage, secret),
  };
}

function formatProviderMessage(o: ProviderErrorOptions): string {
  const where = o.model ? `${o.provider} ${o.model}` : o.provider;
  const what = [o.status, o.code ?? o.type].filter((x) => x !== undefined).join(" ");
  let message = `${where}: ${what || "error"}`;
  if (o.providerMessage) message += `: ${truncate(o.providerMessage, 300)}`;
  if (o.retryAfterMs !== undefined) message += ` (retry after ${formatMs(o.retryAfterMs)})`;
  return message;
}

/** `1500` → `1.5s`, `250` → `250ms`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** 429: too many requests or tokens. Retried after the server's wait; sets a cooldown. */
export class RateLimitError extends ProviderError {
  static override readonly errorName: string = "RateLimitError";
  /**
   * The request alone exceeds the tokens-per-minute limit ("Request too large"): waiting will not
   * help, so it is not retried on the same model.
   */
  readonly requestTooLarge: boolean;
  constructor(options: ProviderErrorOptions & { readonly requestTooLarge?: boolean }) {
    super(options);
    this.requestTooLarge = options.requestTooLarge ?? false;
  }
}

/** 429 `insufficient_quota` / billing: the account is out of credit. Not retried; falls back. */
export class QuotaExceededError extends RateLimitError {
  static override readonly errorName: string = "QuotaExceededError";
}

/** 5xx (and 408/409): the provider failed. Retried, then falls back. */
export class ServerError extends ProviderError {
  static override readonly errorName: string = "ServerError";
}

/** 529 / `overloaded_error`: the provider is overloaded. */
export class OverloadedError extends ServerError {
  static override readonly errorName: string = "OverloadedError";
}

/** 401: the key is missing, wrong or revoked. */
export class AuthenticationError extends ProviderError {
  static override readonly errorName: string = "AuthenticationError";
}

/** 403: the key may not use this model or endpoint. */
export class PermissionDeniedError extends ProviderError {
  static override readonly errorName: string = "PermissionDeniedError";
}

/** 404: no such model (or endpoint). */
export class NotFoundError extends ProviderError {
  static override readonly errorName: string = "NotFoundError";
}

/** 400/413/422: the request is invalid. Not retried, no fallback. */
export class BadRequestError extends ProviderError {
  static override readonly errorName: string = "BadRequestError";
}

/** 400: the prompt does not fit the model's context window. Falls back to a larger window. */
export class ContextLengthExceededError extends BadRequestError {
  static override readonly errorName: string = "ContextLengthExceededError";
}

/** 400 content policy or a refusal. Not retried; fallback only when opted in. */
export class ContentFilterError extends BadRequestError {
  static override readonly errorName: string = "ContentFilterError";
}

/** The connection failed: refused, reset, DNS, TLS. */
export class ConnectionError extends RetryClientError {
  static override readonly errorName: string = "ConnectionError";
  readonly provider: string | undefined;
  readonly model: string | undefined;
  /** The system error code, e.g. `ECONNRESET`. */
  readonly code: string | undefined;
  /**
   * Set when the connection closed without a response byte after the target had stayed silent
   * this long (at least `silentTargetMs`): a silent target, handled like a timeout with no answer.
   */
  readonly silentForMs: number | undefined;
  constructor(
    message: string,
    options: RetryClientErrorOptions & {
      readonly provider?: string | undefined;
      readonly model?: string | undefined;
      readonly code?: string | undefined;
      readonly silentForMs?: number | undefined;
    } = {},
  ) {
    super(message, options);
    this.provider = options.provider;
    this.model = options.model;
    this.code = options.code;
    this.silentForMs = options.silentForMs;
  }
}

/** Which timeout fired. */
export type TimeoutKind = "connect" | "first-token" | "idle" | "attempt" | "deadline";

/** A timeout fired; `kind` says which. */
export class TimeoutError extends RetryClientError {
  static override readonly errorName: string = "TimeoutError";
  readonly kind: TimeoutKind;
  readonly timeoutMs: number;
  readonly provider: string | undefined;
  readonly model: string | undefined;
  constructor(
    kind: TimeoutKind,
    timeoutMs: number,
    options: RetryClientErrorOptions & {
      readonly provider?: string | undefined;
      readonly model?: string | undefined;
    } = {},
  ) {
    const where = options.provider
      ? `${options.provider}${options.model ? ` ${options.model}` : ""}: `
      : "";
    super(`${where}${kind} timeout after ${formatMs(timeoutMs)}`, options);
    this.kind = kind;
    this.timeoutMs = timeoutMs;
    this.provider = options.provider;
    this.model = options.model;
  }
}

/** The circuit breaker for `key` is open: the call was not made. */
export class CircuitOpenError extends RetryClientError {
  static override readonly errorName: string = "CircuitOpenError";
  readonly key: string;
  /** How long until the breaker lets a probe through. */
  readonly retryAfterMs: number;
  constructor(key: string, retryAfterMs: number, options: RetryClientErrorOptions = {}) {
    super(`circuit ${key} is open (next probe in ${formatMs(retryAfterMs)})`, options);
    this.key = key;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A stream failed after content had started; `partialText` is what arrived before it broke. */
export class StreamInterruptedError extends RetryClientError {
  static override readonly errorName: string = "StreamInterruptedError";
  readonly partialText: string;
  readonly provider: string | undefined;
  readonly model: string | undefined;
  constructor(
    message: string,
    options: RetryClientErrorOptions & {
      readonly partialText: string;
      readonly provider?: string | undefined;
      readonly model?: string | undefined;
    },
  ) {
    const where = options.provider
      ? `${options.provider}${options.model ? ` ${options.model}` : ""}: `
      : "";
    // The cause's message often names the same target: say it once.
    const detail =
      where !== "" && message.startsWith(where) ? message.slice(where.length) : message;
    super(
      `${where}stream interrupted after ${options.partialText.length} chars: ${detail}`,
      options,
    );
    this.partialText = options.partialText;
    this.provider = options.provider;
    this.model = options.model;
  }
}

/** Every target of a fallback chain failed. `errors` holds each target's last error, in order. */
export class FallbackExhaustedError extends RetryClientError {
  static override readonly errorName: string = "FallbackExhaustedError";
  readonly errors: readonly Error[];
  constructor(errors: readonly Error[], options: RetryClientErrorOptions = {}) {
    const lines = errors.map((e) => `  - ${e.message}`).join("\n");
    super(`all ${errors.length} targets failed:\n${lines}`, {
      ...options,
      cause: options.cause ?? errors[errors.length - 1],
    });
    this.errors = errors;
  }
}

/** Bad or missing configuration (e.g. a missing API key). */
export class ConfigurationError extends RetryClientError {
  static override readonly errorName: string = "ConfigurationError";
  /** The option at fault, when there is one. */
  readonly option: string | undefined;
  constructor(
    message: string,
    options: RetryClientErrorOptions & { readonly option?: string } = {},
  ) {
    super(message, options);
    this.option = options.option;
  }
}
