import { describe, expect, it } from "vitest";
import { parseRateLimitHeaders } from "../http/rate-limit.js";
import { drawLatency } from "./latency.js";
import { KeyRateLimiter, rateLimitHeadersFor } from "./rate-limiter.js";

describe("KeyRateLimiter", () => {
  it("counts requests and tokens per key and window, and refuses past either limit", () => {
    const limiter = new KeyRateLimiter({ requests: 2, tokens: 100, windowMs: 1000 });
    expect(limiter.admit("k1", 40, 10_000).admitted).toBe(true);
    expect(limiter.admit("k1", 70, 10_100)).toMatchObject({ admitted: false, exceeded: "tokens" });
    const second = limiter.admit("k1", 60, 10_200);
    expect(second.state).toMatchObject({ remainingRequests: 0, remainingTokens: 0, resetMs: 800 });
    expect(limiter.admit("k1", 1, 10_300)).toMatchObject({ admitted: false, exceeded: "requests" });
    expect(limiter.admit("k2", 1, 10_300).admitted).toBe(true);
    expect(limiter.admit("k1", 1, 11_000).admitted).toBe(true);
  });

  it("writes headers the client reads back to the same numbers, on both wires", () => {
    const limiter = new KeyRateLimiter({ requests: 10, tokens: 1000, windowMs: 60_000 });
    const { state } = limiter.admit("k", 100, 120_000 + 15_000);
    for (const wire of ["openai", "anthropic"] as const) {
      const info = parseRateLimitHeaders(rateLimitHeadersFor(wire, state), 135_000);
      expect(info).toMatchObject({
        limitRequests: 10,
        remainingRequests: 9,
        resetRequestsMs: 45_000,
        limitTokens: 1000,
        remainingTokens: 900,
        resetTokensMs: 45_000,
      });
    }
  });
});

describe("drawLatency", () => {
  it("draws a heavy tail in the configured shares, deterministically", () => {
    const table = {
      m: [
        { ms: 100, share: 0.95 },
        { ms: 5000, share: 0.05 },
      ],
      "*": 7,
    };
    const draws = Array.from({ length: 4000 }, (_, i) => drawLatency(table, "m", "m", i, 1));
    const slow = draws.filter((d) => d === 5000).length / draws.length;
    expect(slow).toBeGreaterThan(0.035);
    expect(slow).toBeLessThan(0.065);
    expect(drawLatency(table, "m", "m", 3, 1)).toBe(draws[3]);
    expect(drawLatency(table, "other", "other", 0, 1)).toBe(7);
    expect(drawLatency(undefined, "m", "m", 0, 1)).toBe(0);
  });
});
