import type { FetchFunction } from "../../http/fetch-transport.js";
import type { Transport } from "../../http/transport.js";
import { timerMs } from "../../options.js";

/** Options every provider accepts. Every field is optional. */
export interface ProviderOptions {
  /**
   * The API key; `null` for an endpoint that needs none (Ollama, vLLM, llama.cpp, LM Studio):
   * no auth header is sent and no variable is read. @default the provider's environment variable
   */
  readonly apiKey?: string | null | undefined;
  /** The API base URL. @default the provider's environment variable, else its public endpoint */
  readonly baseURL?: string | undefined;
  /** One attempt: a non-streaming call until its body is read; a stream until its first content delta. @default 600000 */
  readonly timeoutMs?: number | undefined;
  /** From sending the request to the response headers. @default none */
  readonly connectTimeoutMs?: number | undefined;
  /** Streams: from sending the request to the first content delta. @default none */
  readonly firstTokenTimeoutMs?: number | undefined;
  /** Streams: the longest gap between content or reasoning deltas, once content started. `Infinity`: none. @default 300000 */
  readonly idleTimeoutMs?: number | undefined;
  /** The largest 2xx body read, in bytes; past it, `ServerError` `response_too_large`. @default 33554432 */
  readonly maxResponseBytes?: number | undefined;
  /** Streams: the largest SSE event or line buffered; past it, `ServerError` `sse_event_too_large` / `sse_line_too_large`. @default 8388608 */
  readonly maxSseEventBytes?: number | undefined;
  /**
   * A connection that closes without a response byte after the target stayed silent this long
   * is a silent target (`ConnectionError.silentForMs` is set): handled like a timeout with no
   * answer, not retried while another target is available. A close sooner than this (a reset
   * right after sending) is a blip, retried. @default 5000
   */
  readonly silentTargetMs?: number | undefined;
  /** Default output token limit when a request gives none. */
  readonly maxTokens?: number | undefined;
  /** Extra headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Send requests through this `fetch` (proxies, tests). */
  readonly fetch?: FetchFunction | undefined;
  /** Send requests through this transport. Wins over `fetch`. @default the default transport */
  readonly transport?: Transport | undefined;
  /**
   * The provider name in responses, errors and target keys (e.g. "groq" for a compatible
   * endpoint). It also names the environment variables read: `GROQ_API_KEY`, `GROQ_BASE_URL`.
   */
  readonly name?: string | undefined;
  /** Where the key and base-URL variables are read from. @default the process environment */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** The default attempt timeout of a provider: 10 minutes, as the official SDKs. */
export const DEFAULT_TIMEOUT_MS = 600_000;

/** How long a target may stay silent before a connection it closes counts as a silent target. */
export const DEFAULT_SILENT_TARGET_MS = 5000;

/** The default idle bound of a stream after content started: 5 minutes. */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MAX_SSE_EVENT_BYTES = 8 * 1024 * 1024;

/** Checks a byte-size option: a positive integer. @throws RangeError naming it. */
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
  // Infinity means none; a finite wait past a timer's range would fire early: refused.
  if (value !== Number.POSITIVE_INFINITY) timerMs(name, value);
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

/** Strips trailing slashes (before any query string) so paths join cleanly. */
export function trimBaseURL(url: string): string {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(0, end) + (q < 0 ? "" : url.slice(q));
}

/**
 * Joins a base URL and a path, keeping the base URL's query string on the result:
 * `joinURL("https://h/x?api-version=1", "/chat/completions", "a=b")` →
 * `https://h/x/chat/completions?api-version=1&a=b`.
 */
export function joinURL(baseURL: string, path: string, query?: string): string {
  const q = baseURL.indexOf("?");
  const base = q < 0 ? baseURL : baseURL.slice(0, q);
  const queries = [q < 0 ? "" : baseURL.slice(q + 1), query ?? ""].filter((x) => x !== "");
  return `${base}${path}${queries.length > 0 ? `?${queries.join("&")}` : ""}`;
}
