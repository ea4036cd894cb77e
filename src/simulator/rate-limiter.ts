import { formatGoDuration } from "./duration.js";
import { rfc3339Ceil, type WireName } from "./wire.js";

/**
 * A real per-key rate limit: requests and tokens per fixed window. Every answer (success or 429)
 * carries headers that tell the truth about it.
 */
export interface SimulatedRateLimit {
  /** Requests per window and key. @default unlimited */
  readonly requests?: number;
  /** Tokens per window and key, charged at admission: input estimate + `max_tokens`. @default unlimited */
  readonly tokens?: number;
  /** The window, aligned to multiples of it on the simulator clock. @default 60000 */
  readonly windowMs?: number;
}

/** One key's standing after an admission decision. */
export interface RateLimitState {
  readonly limitRequests: number | undefined;
  readonly remainingRequests: number;
  readonly limitTokens: number | undefined;
  readonly remainingTokens: number;
  /** Until the window ends (both limits reset together). */
  readonly resetMs: number;
  readonly nowMs: number;
}

/** An admission decision. */
export interface Admission {
  readonly admitted: boolean;
  /** Which limit refused the request. */
  readonly exceeded?: "requests" | "tokens";
  readonly state: RateLimitState;
}

const UNLIMITED = 1_000_000_000;

/** Counts requests and tokens per key in fixed windows. */
export class KeyRateLimiter {
  readonly #limit: SimulatedRateLimit;
  readonly #windowMs: number;
  readonly #usage = new Map<string, { window: number; requests: number; tokens: number }>();

  constructor(limit: SimulatedRateLimit) {
    for (const name of ["requests", "tokens", "windowMs"] as const) {
      const value = limit[name];
      if (value !== undefined && (!Number.isFinite(value) || value <= 0))
        throw new RangeError(
          `simulator: expected a positive number for rateLimit.${name}, got ${value}`,
        );
    }
    this.#limit = limit;
    this.#windowMs = limit.windowMs ?? 60_000;
  }

  /** Admits (and charges) one request of `tokens` tokens for `key`, or refuses it. */
  admit(key: string, tokens: number, nowMs: number): Admission {
    const window = Math.floor(nowMs / this.#windowMs);
    let usage = this.#usage.get(key);
    if (!usage || usage.window !== window) {
      usage = { window, requests: 0, tokens: 0 };
      this.#usage.set(key, usage);
    }
    const maxRequests = this.#limit.requests ?? UNLIMITED;
    const maxTokens = this.#limit.tokens ?? UNLIMITED;
    let exceeded: "requests" | "tokens" | undefined;
    if (usage.requests + 1 > maxRequests) exceeded = "requests";
    else if (usage.tokens + tokens > maxTokens) exceeded = "tokens";
    if (!exceeded) {
      usage.requests++;
      usage.tokens += tokens;
    }
    const state: RateLimitState = {
      limitRequests: this.#limit.requests,
      remainingRequests: Math.max(0, maxRequests - usage.requests),
      limitTokens: this.#limit.tokens,
      remainingTokens: Math.max(0, maxTokens - usage.tokens),
      resetMs: (window + 1) * this.#windowMs - nowMs,
      nowMs,
    };
    return exceeded ? { admitted: false, exceeded, state } : { admitted: true, state };
  }

  reset(): void {
    this.#usage.clear();
  }
}

/** The wire's rate-limit headers for `state` (OpenAI `x-ratelimit-*`, Anthropic `anthropic-ratelimit-*`). */
export function rateLimitHeadersFor(wire: WireName, state: RateLimitState): Record<string, string> {
  const headers: Record<string, string> = {};
  if (wire === "openai") {
    if (state.limitRequests !== undefined) {
      headers["x-ratelimit-limit-requests"] = String(state.limitRequests);
      headers["x-ratelimit-remaining-requests"] = String(state.remainingRequests);
      headers["x-ratelimit-reset-requests"] = formatGoDuration(state.resetMs);
    }
    if (state.limitTokens !== undefined) {
      headers["x-ratelimit-limit-tokens"] = String(state.limitTokens);
      headers["x-ratelimit-remaining-tokens"] = String(state.remainingTokens);
      headers["x-ratelimit-reset-tokens"] = formatGoDuration(state.resetMs);
    }
    return headers;
  }
  const reset = rfc3339Ceil(state.nowMs + state.resetMs);
  if (state.limitRequests !== undefined) {
    headers["anthropic-ratelimit-requests-limit"] = String(state.limitRequests);
    headers["anthropic-ratelimit-requests-remaining"] = String(state.remainingRequests);
    headers["anthropic-ratelimit-requests-reset"] = reset;
  }
  if (state.limitTokens !== undefined) {
    headers["anthropic-ratelimit-tokens-limit"] = String(state.limitTokens);
    headers["anthropic-ratelimit-tokens-remaining"] = String(state.remainingTokens);
    headers["anthropic-ratelimit-tokens-reset"] = reset;
  }
  return headers;
}
