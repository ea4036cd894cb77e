import type { FetchFunction } from "../../http/fetch-transport.js";
import type { Transport } from "../../http/transport.js";
import { MAX_TIMER_MS } from "../../options.js";

/** Options every provider accepts. Every field is optional. */
export interface ProviderOptions {
  /** The API key. @default the provider's environment variable */
  readonly apiKey?: string;
  /** The API base URL. @default the provider's environment variable, else its public endpoint */
  readonly baseURL?: string;
  /** One attempt: a non-streaming call until its body is read; a stream until its first content delta. @default 600000 */
  readonly timeoutMs?: number;
  /** From sending the request to the response headers. @default none */
  readonly connectTimeoutMs?: number;
  /** Streams: from sending the request to the first content delta. @default none */
  readonly firstTokenTimeoutMs?: number;
  /**
   * Streams: the longest gap between content deltas once content started (keep-alive comments
   * and pings do not count; reasoning deltas do). `Infinity` turns it off.
   * @default 300000 (5 minutes)
   */
  readonly idleTimeoutMs?: number;
  /**
   * The largest non-streaming response body read, in bytes. A longer body is cut off as soon as
   * it passes the limit: `ServerError` with code `response_too_large`. Error bodies (non-2xx)
   * are read up to 1 MiB (or this limit, when smaller); past that the status alone decides.
   * @default 33554432 (32 MiB)
   */
  readonly maxResponseBytes?: number;
  /**
   * Streams: the largest server-sent event (and so the longest line) buffered, in bytes. A line
   * that never ends, or `data:` lines that never reach their blank line, fail as soon as they
   * pass it: `ServerError` with code `sse_line_too_large` / `sse_event_too_large`.
   * @default 8388608 (8 MiB)
   */
  readonly maxSseEventBytes?: number;
  /** Default output token limit when a request gives none. */
  readonly maxTokens?: number;
  /** Extra headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Send requests through this `fetch` (proxies, tests). */
  readonly fetch?: FetchFunction;
  /** Send requests through this transport. Wins over `fetch`. @default the default transport */
  readonly transport?: Transport;
  /**
   * The provider name in responses, errors and target keys (e.g. "groq" for a compatible
   * endpoint). It also names the environment variables read: `GROQ_API_KEY`, `GROQ_BASE_URL`.
   */
  readonly name?: string;
  /** Where the key and base-URL variables are read from. @default the process environment */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The default attempt timeout of a provider: 10 minutes, as the official SDKs. */
export const DEFAULT_TIMEOUT_MS = 600_000;

/**
 * The default idle bound of a stream after content started: 5 minutes without a content or
 * reasoning delta. Long enough for any pause a model takes mid-answer (reasoning streams its
 * thinking deltas, which count), short enough that a server sending only keep-alives cannot
 * hold a call for ever.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/** The default `maxResponseBytes`: 32 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** The default `maxSseEventBytes`: 8 MiB. */
export const DEFAULT_MAX_SSE_EVENT_BYTES = 8 * 1024 * 1024;

/**
 * Checks a byte-size option: a positive integer.
 * @throws RangeError naming the option and the bad value.
 */
export function checkBytes(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(
      `expected a positive integer number of bytes for ${name}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Checks a millisecond option: a positive number up to 2³¹ − 1 (about 24.8 days; a longer
 * timer would fire early), or `Infinity` for "none".
 * @throws RangeError naming the option and the bad value.
 */
export function checkMs(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || Number.isNaN(value) || value <= 0) {
    throw new RangeError(
      `expected a positive number of milliseconds for ${name}, got ${String(value)}`,
    );
  }
  if (value !== Number.POSITIVE_INFINITY && value > MAX_TIMER_MS) {
    // Node fires a timer longer than 2^31 - 1 ms after about 1 ms: refuse rather than fire early.
    throw new RangeError(
      `expected at most ${MAX_TIMER_MS} ms (or Infinity for none) for ${name}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Checks a token count option: a positive integer.
 * @throws RangeError naming the option and the bad value.
 */
export function checkTokens(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`expected a positive integer for ${name}, got ${String(value)}`);
  }
  return value;
}

/** Strips trailing slashes so paths join cleanly. */
export function trimBaseURL(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 47) end--;
  return url.slice(0, end);
}
