import type { FetchFunction } from "../../http/fetch-transport.js";
import type { Transport } from "../../http/transport.js";

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
  /** Streams: the longest gap between content deltas. @default none */
  readonly idleTimeoutMs?: number;
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
 * Checks a millisecond option: a positive number (or `Infinity` for "none").
 * @throws RangeError naming the option and the bad value.
 */
export function checkMs(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || Number.isNaN(value) || value <= 0) {
    throw new RangeError(
      `expected a positive number of milliseconds for ${name}, got ${String(value)}`,
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
