import { describe, expect, it } from "vitest";
import { parseGoDuration, parseRateLimitHeaders, retryAfterMsFrom } from "./rate-limit.js";

describe("parseGoDuration", () => {
  it.each([
    ["1s", 1000],
    ["6m0s", 360_000],
    ["20ms", 20],
    ["17.167s", 17_167],
    ["4h43m36.314s", 17_016_314],
    ["2m59.56s", 179_560],
    ["500us", 0.5],
    ["3", 3000],
    ["1.5", 1500],
    [" 2s ", 2000],
    [".5s", 500],
    ["1.s", 1000],
    ["1µs", 0.001],
    ["1μs", 0.001],
    ["1500ns", 0.002],
    ["1h", 3_600_000],
  ])("%s → %d ms", (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 6);
  });
  it.each([
    "",
    "soon",
    "1x",
    "1s garbage",
    "-1s",
    "+1s",
    ".5",
    "1.",
    ".",
    "s",
    "1 s",
    "1e3s",
    "1s2",
    "1..5s",
    "ms",
  ])("rejects %j", (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe("parseRateLimitHeaders", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it("reads the same from a plain record and from a Headers object, ignoring other headers", () => {
    const sent = {
      "content-type": "application/json",
      "retry-after": "3",
      "x-ratelimit-remaining-tokens": "7",
      "anthropic-ratelimit-requests-limit": "50",
      "x-ratelimit-other": "1",
      "x-request-id": "req_1",
    };
    const expected = { retryAfterMs: 3000, remainingTokens: 7, limitRequests: 50 };
    expect(parseRateLimitHeaders(sent, now)).toEqual(expected);
    expect(parseRateLimitHeaders(new Headers(sent), now)).toEqual(expected);
    expect(parseRateLimitHeaders({ "x-ratelimit-limit-requests": ["5", "6"] }, now)).toEqual({
      limitRequests: 5,
    });
    expect(parseRateLimitHeaders({ "content-type": "text/plain" }, now)).toEqual({});
  });

  it("reads OpenAI's headers", () => {
    expect(
      parseRateLimitHeaders({
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-remaining-requests": "9999",
        "x-ratelimit-reset-requests": "6ms",
        "x-ratelimit-limit-tokens": "30000",
        "x-ratelimit-remaining-tokens": "29000",
        "x-ratelimit-reset-tokens": "2s",
        "x-should-retry": "false",
      }),
    ).toEqual({
      limitRequests: 10000,
      remainingRequests: 9999,
      resetRequestsMs: 6,
      limitTokens: 30000,
      remainingTokens: 29000,
      resetTokensMs: 2000,
      shouldRetry: false,
    });
  });

  it("reads Anthropic's RFC 3339 resets against the injected clock", () => {
    const info = parseRateLimitHeaders(
      {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": "2026-01-01T00:00:30Z",
        "anthropic-ratelimit-input-tokens-remaining": "0",
        "anthropic-ratelimit-input-tokens-reset": "2026-01-01T00:00:05.500Z",
        "anthropic-ratelimit-output-tokens-reset": "2025-12-31T23:59:00Z",
      },
      now,
    );
    expect(info).toEqual({
      limitRequests: 50,
      remainingRequests: 0,
      resetRequestsMs: 30_000,
      remainingInputTokens: 0,
      resetInputTokensMs: 5_500,
      resetOutputTokensMs: 0,
    });
  });

  it("prefers retry-after-ms, then retry-after seconds or HTTP date", () => {
    expect(
      parseRateLimitHeaders({ "retry-after-ms": "1500", "retry-after": "9" }).retryAfterMs,
    ).toBe(1500);
    expect(parseRateLimitHeaders({ "retry-after": "2" }).retryAfterMs).toBe(2000);
    expect(
      parseRateLimitHeaders({ "retry-after": "Thu, 01 Jan 2026 00:00:07 GMT" }, now).retryAfterMs,
    ).toBe(7000);
    expect(
      parseRateLimitHeaders({ "retry-after": "Wed, 31 Dec 2025 00:00:07 GMT" }, now).retryAfterMs,
    ).toBe(0);
    expect(parseRateLimitHeaders({ "retry-after": "whenever" }).retryAfterMs).toBeUndefined();
  });

  it("reads a WHATWG Headers object too", () => {
    expect(parseRateLimitHeaders(new Headers({ "Retry-After": "3" })).retryAfterMs).toBe(3000);
  });
});

describe("retryAfterMsFrom", () => {
  it("uses the server's explicit wait first", () => {
    expect(
      retryAfterMsFrom({ retryAfterMs: 1200, remainingTokens: 0, resetTokensMs: 60_000 }),
    ).toBe(1200);
  });
  it("else waits for the longest reset among exhausted limits", () => {
    expect(
      retryAfterMsFrom({
        remainingRequests: 0,
        resetRequestsMs: 120,
        remainingTokens: 0,
        resetTokensMs: 360_000,
      }),
    ).toBe(360_000);
    expect(
      retryAfterMsFrom({
        remainingRequests: 3,
        resetRequestsMs: 120,
        remainingTokens: 0,
        resetTokensMs: 900,
      }),
    ).toBe(900);
  });
  it("ignores resets of limits not known to be exhausted, and resets when told to", () => {
    expect(retryAfterMsFrom({ remainingTokens: 10, resetTokensMs: 900 })).toBeUndefined();
    expect(retryAfterMsFrom({ resetTokensMs: 900 })).toBeUndefined();
    expect(
      retryAfterMsFrom({ remainingTokens: 0, resetTokensMs: 900 }, { useResets: false }),
    ).toBeUndefined();
    expect(retryAfterMsFrom(undefined)).toBeUndefined();
  });
  it("a token limit with fewer tokens left than the request needs ran out: wait its reset", () => {
    const info = {
      remainingRequests: 499,
      resetRequestsMs: 120,
      remainingTokens: 120,
      resetTokensMs: 943,
    };
    expect(retryAfterMsFrom(info, { tokensNeeded: 1200 })).toBe(943);
    // Requests are left: the tokens limit is what ran out, even without an estimate.
    expect(retryAfterMsFrom(info)).toBe(943);
    // Anthropic's input-token limit likewise.
    expect(
      retryAfterMsFrom({
        remainingRequests: 49,
        remainingInputTokens: 100,
        resetInputTokensMs: 700,
      }),
    ).toBe(700);
  });
});

describe("hostile waits", () => {
  it("every header wait is finite and at most 2^31 - 1 ms", () => {
    const now = Date.UTC(2026, 0, 1);
    const far = new Date(now + 50 * 365 * 86_400_000).toUTCString();
    for (const headers of [
      { "retry-after": "1e308" },
      { "retry-after-ms": "1e308" },
      { "retry-after": "999999999" },
      { "retry-after": far },
      { "x-ratelimit-reset-requests": "99999999h" },
      { "anthropic-ratelimit-tokens-reset": "2099-01-01T00:00:00Z" },
    ]) {
      const info = parseRateLimitHeaders(headers, now);
      for (const value of Object.values(info)) {
        expect(Number.isFinite(value)).toBe(true);
        expect(value).toBeLessThanOrEqual(2_147_483_647);
      }
    }
    expect(parseRateLimitHeaders({ "retry-after": "Infinity" }).retryAfterMs).toBeUndefined();
    expect(parseRateLimitHeaders({ "retry-after": "NaN" }).retryAfterMs).toBeUndefined();
    expect(parseRateLimitHeaders({ "retry-after": "-5" }).retryAfterMs).toBeUndefined();
  });
});
