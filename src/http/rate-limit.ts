import { MAX_TIMER_MS } from "../options.js";
import type { RateLimitInfo } from "../types.js";
import { headerValue, type TransportHeaders } from "./transport.js";

/** Headers as a plain lower-case record (transport) or a WHATWG `Headers`-like object. */
export type HeaderSource = TransportHeaders | { get(name: string): string | null };

function read(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  return headerValue(headers as TransportHeaders, name);
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const isDigit = (code: number) => code >= 48 && code <= 57;

/**
 * Parses a Go-style duration as OpenAI sends in `x-ratelimit-reset-*` (`1s`, `6m0s`, `20ms`,
 * `17.167s`, `4h43m36.314s`) into milliseconds. A bare number is read as seconds. Returns
 * `undefined` for anything else.
 *
 * @example
 * parseGoDuration("6m0s") // 360000
 */
export function parseGoDuration(text: string): number | undefined {
  const value = text.trim();
  const length = value.length;
  if (length === 0) return undefined;
  // A scanner, not a regular expression: it runs on every response that carries the headers.
  let total = 0;
  let i = 0;
  while (i < length) {
    // A number: digits with an optional fraction, or a fraction alone (`.5`).
    const start = i;
    while (i < length && isDigit(value.charCodeAt(i))) i++;
    const whole = i > start;
    if (i < length && value.charCodeAt(i) === 46 /* . */) {
      i++;
      const fraction = i;
      while (i < length && isDigit(value.charCodeAt(i))) i++;
      if (!whole && i === fraction) return undefined;
    } else if (!whole) return undefined;
    const amount = Number(value.slice(start, i));
    if (i === length) {
      // A bare number is seconds (digits with an optional fraction, nothing else).
      return start === 0 && whole && value.charCodeAt(length - 1) !== 46
        ? amount * 1000
        : undefined;
    }
    const unitStart = i;
    while (i < length && !isDigit(value.charCodeAt(i)) && value.charCodeAt(i) !== 46) i++;
    const unit = UNIT_MS[value.slice(unitStart, i)];
    if (unit === undefined) return undefined;
    total += amount * unit;
  }
  if (!Number.isFinite(total)) return undefined;
  return Math.round(total * 1000) / 1000;
}

function number(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The longest wait a header can ask for: {@link MAX_TIMER_MS} (about 24.8 days). A server
 * asking for more (`Retry-After: 1e308`, a date 50 years ahead, `99999999h`) gets this: still
 * far beyond any `maxRetryAfterMs`, so the call falls back at once, and always a finite number.
 */
export const MAX_HEADER_WAIT_MS = MAX_TIMER_MS;

/** A wait read from a header: finite, never negative, at most {@link MAX_HEADER_WAIT_MS}. */
function wait(ms: number | undefined): number | undefined {
  if (ms === undefined || Number.isNaN(ms) || ms < 0) return undefined;
  return Math.min(ms, MAX_HEADER_WAIT_MS);
}

/** `retry-after`: delay-seconds or an HTTP date, in milliseconds from `now` (never negative). */
function retryAfter(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const seconds = number(text);
  if (seconds !== undefined) return seconds >= 0 ? wait(seconds * 1000) : undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : wait(Math.max(0, date - now));
}

/**
 * The longest reset a rate-limit window can have: one day (the longest window providers use
 * is per day). A reset header further out (`99999999h`, a date years ahead) is not believed and
 * is ignored, so neither a wait nor proactive throttling can hold a target for weeks.
 */
export const MAX_RESET_MS = 86_400_000;

/** A reset read from a header: ignored when further out than {@link MAX_RESET_MS}. */
function reset(ms: number | undefined): number | undefined {
  return ms !== undefined && ms <= MAX_RESET_MS ? wait(ms) : undefined;
}

/** An Anthropic reset (RFC 3339 time) as milliseconds from `now` (never negative). */
function resetAt(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const date = Date.parse(text);
  if (!Number.isNaN(date)) return reset(Math.max(0, date - now));
  return reset(parseGoDuration(text));
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Parses the rate-limit headers of a response (success or error) into {@link RateLimitInfo}:
 * - `retry-after-ms` (milliseconds), else `retry-after` (seconds or an HTTP date) → `retryAfterMs`;
 * - `x-should-retry: true|false` → `shouldRetry`;
 * - OpenAI `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (resets are Go durations);
 * - Anthropic `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`
 *   (resets are RFC 3339 times, turned into milliseconds from `now`).
 * Fields without a header are absent. Every wait is finite and at most
 * {@link MAX_HEADER_WAIT_MS}, whatever the server sent; a reset more than a day away
 * ({@link MAX_RESET_MS}) is ignored.
 *
 * @param now - The clock for HTTP dates and RFC 3339 resets. @default Date.now()
 * @example
 * parseRateLimitHeaders({ "retry-after": "2", "x-ratelimit-reset-tokens": "6m0s" })
 * // { retryAfterMs: 2000, resetTokensMs: 360000 }
 */
export function parseRateLimitHeaders(headers: HeaderSource, now = Date.now()): RateLimitInfo {
  const info: Mutable<RateLimitInfo> = {};
  const retryAfterMs =
    wait(number(read(headers, "retry-after-ms"))) ?? retryAfter(read(headers, "retry-after"), now);
  if (retryAfterMs !== undefined && retryAfterMs >= 0) info.retryAfterMs = retryAfterMs;
  const shouldRetry = read(headers, "x-should-retry");
  if (shouldRetry === "true") info.shouldRetry = true;
  else if (shouldRetry === "false") info.shouldRetry = false;

  let value = number(read(headers, "x-ratelimit-limit-requests"));
  if (value !== undefined) info.limitRequests = value;
  value = number(read(headers, "x-ratelimit-remaining-requests"));
  if (value !== undefined) info.remainingRequests = value;
  let text = read(headers, "x-ratelimit-reset-requests");
  value = text === undefined ? undefined : reset(parseGoDuration(text));
  if (value !== undefined) info.resetRequestsMs = value;
  value = number(read(headers, "x-ratelimit-limit-tokens"));
  if (value !== undefined) info.limitTokens = value;
  value = number(read(headers, "x-ratelimit-remaining-tokens"));
  if (value !== undefined) info.remainingTokens = value;
  text = read(headers, "x-ratelimit-reset-tokens");
  value = text === undefined ? undefined : reset(parseGoDuration(text));
  if (value !== undefined) info.resetTokensMs = value;
  value = number(read(headers, "anthropic-ratelimit-requests-limit"));
  if (value !== undefined) info.limitRequests ??= value;
  value = number(read(headers, "anthropic-ratelimit-requests-remaining"));
  if (value !== undefined) info.remainingRequests ??= value;
  value = resetAt(read(headers, "anthropic-ratelimit-requests-reset"), now);
  if (value !== undefined) info.resetRequestsMs ??= value;
  value = number(read(headers, "anthropic-ratelimit-tokens-limit"));
  if (value !== undefined) info.limitTokens ??= value;
  value = number(read(headers, "anthropic-ratelimit-tokens-remaining"));
  if (value !== undefined) info.remainingTokens ??= value;
  value = resetAt(read(headers, "anthropic-ratelimit-tokens-reset"), now);
  if (value !== undefined) info.resetTokensMs ??= value;
  value = number(read(headers, "anthropic-ratelimit-input-tokens-limit"));
  if (value !== undefined) info.limitInputTokens = value;
  value = number(read(headers, "anthropic-ratelimit-input-tokens-remaining"));
  if (value !== undefined) info.remainingInputTokens = value;
  value = resetAt(read(headers, "anthropic-ratelimit-input-tokens-reset"), now);
  if (value !== undefined) info.resetInputTokensMs = value;
  value = number(read(headers, "anthropic-ratelimit-output-tokens-limit"));
  if (value !== undefined) info.limitOutputTokens = value;
  value = number(read(headers, "anthropic-ratelimit-output-tokens-remaining"));
  if (value !== undefined) info.remainingOutputTokens = value;
  value = resetAt(read(headers, "anthropic-ratelimit-output-tokens-reset"), now);
  if (value !== undefined) info.resetOutputTokensMs = value;
  return info;
}

/** Options of {@link retryAfterMsFrom}. */
export interface RetryAfterOptions {
  /**
   * Derive a wait from the reset headers when no `retry-after(-ms)` was sent. Only meaningful
   * for a 429: for other statuses a reset time says nothing about when to retry.
   * @default true
   */
  readonly useResets?: boolean | undefined;
  /**
   * What the request needs from the token limit (estimated): a token limit with fewer tokens
   * left than this ran out, even when its `remaining` is not 0.
   */
  readonly tokensNeeded?: number | undefined;
}

/**
 * The wait the server asked for, in milliseconds, or `undefined` when it said nothing usable.
 * Order:
 * 1. `retry-after-ms`, then `retry-after` (seconds or HTTP date) — as parsed into `retryAfterMs`;
 * 2. with `useResets` (a 429): the reset time of every limit that is exhausted (its `remaining`
 *    is 0, or for a token limit below `tokensNeeded`) — the longest of them, since the request
 *    needs all of them free again;
 * 3. with `useResets`, when no limit shows exhausted but requests remain: a token limit is what
 *    ran out, so the longest token reset. Otherwise the caller's backoff applies.
 *
 * @example
 * retryAfterMsFrom({ remainingTokens: 0, resetTokensMs: 1500, remainingRequests: 10, resetRequestsMs: 20 })
 * // 1500
 */
export function retryAfterMsFrom(
  info: RateLimitInfo | undefined,
  options: RetryAfterOptions = {},
): number | undefined {
  if (info === undefined) return undefined;
  if (info.retryAfterMs !== undefined) return info.retryAfterMs;
  if (options.useResets === false) return undefined;
  let wait: number | undefined;
  const need = options.tokensNeeded ?? 1;
  const consider = (remaining: number | undefined, resetMs: number | undefined, least = 1) => {
    if (remaining !== undefined && remaining < least && resetMs !== undefined) {
      wait = wait === undefined ? resetMs : Math.max(wait, resetMs);
    }
  };
  consider(info.remainingRequests, info.resetRequestsMs);
  consider(info.remainingTokens, info.resetTokensMs, need);
  consider(info.remainingInputTokens, info.resetInputTokensMs, need);
  consider(info.remainingOutputTokens, info.resetOutputTokensMs);
  if (wait !== undefined) return wait;
  // Requests are left, so a token limit is what ran out (its `remaining` counts tokens the
  // request would have needed more of than we can estimate): wait for the token limits.
  if (info.remainingRequests !== undefined && info.remainingRequests > 0) {
    for (const reset of [info.resetTokensMs, info.resetInputTokensMs, info.resetOutputTokensMs]) {
      if (reset !== undefined) wait = Math.max(wait ?? 0, reset);
    }
  }
  return wait;
}

/** True when the info holds at least one field. */
export function hasRateLimitInfo(info: RateLimitInfo): boolean {
  for (const _ in info) return true;
  return false;
}
