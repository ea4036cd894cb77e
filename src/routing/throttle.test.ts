import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Message } from "../message.js";
import { estimateRequestTokens, type Headroom, Throttle } from "./throttle.js";

const T0 = 1_000_000;
/** An estimate that is all output tokens (no input to correct). */
const e = (tokens: number) => ({ input: 0, output: tokens });

describe("estimateRequestTokens", () => {
  it("is input characters / 4 (rounded up) plus maxTokens", () => {
    const messages = [Message.system("12345678"), Message.user("abcd")];
    expect(estimateRequestTokens(messages, 100)).toBe(3 + 100);
    expect(estimateRequestTokens(messages, undefined)).toBe(3);
    expect(estimateRequestTokens([Message.user([{ type: "text", text: "x".repeat(40) }])], 0)).toBe(
      10,
    );
  });
});

describe("Throttle", () => {
  it("blocks a target with no requests left until the reset, then lets it go", () => {
    const t = new Throttle();
    const ticket = t.dispatch("a", e(10), T0);
    t.settle(ticket, { remainingRequests: 0, resetRequestsMs: 500, limitRequests: 5 }, T0 + 10);
    expect(t.blockedUntil("a", undefined, e(10), T0 + 20)).toBe(T0 + 510);
    expect(t.blockedUntil("a", undefined, e(10), T0 + 510)).toBe(0);
    expect(t.blockedUntil("b", undefined, e(10), T0 + 20)).toBe(0);
  });

  it("blocks a target with fewer tokens left than the request needs", () => {
    const t = new Throttle();
    const ticket = t.dispatch("a", e(10), T0);
    t.settle(ticket, { remainingTokens: 300, resetTokensMs: 1000, limitTokens: 1000 }, T0 + 10);
    expect(t.blockedUntil("a", undefined, e(300), T0 + 20)).toBe(0);
    expect(t.blockedUntil("a", undefined, e(301), T0 + 20)).toBe(T0 + 1010);
    // A request larger than the whole limit never fits: the provider is left to say so.
    expect(t.blockedUntil("a", undefined, e(5000), T0 + 20)).toBe(0);
  });

  it("debits requests sent after the report it rests on, until they report themselves", () => {
    const t = new Throttle();
    const first = t.dispatch("a", e(10), T0);
    t.settle(first, { remainingRequests: 2, resetRequestsMs: 1000, limitRequests: 10 }, T0 + 5);
    const second = t.dispatch("a", e(10), T0 + 6);
    expect(t.blockedUntil("a", undefined, e(10), T0 + 7)).toBe(0);
    const third = t.dispatch("a", e(10), T0 + 7);
    expect(t.blockedUntil("a", undefined, e(10), T0 + 8)).toBe(T0 + 1005);
    t.settle(second, { remainingRequests: 1, resetRequestsMs: 990, limitRequests: 10 }, T0 + 15);
    // The newer report counted `second`; `third` is still in flight after it: nothing left.
    expect(t.blockedUntil("a", undefined, e(10), T0 + 16)).toBeGreaterThan(0);
    t.settle(third, undefined, T0 + 17);
    expect(t.blockedUntil("a", undefined, e(10), T0 + 18)).toBe(0);
  });

  it("after a reset, counts the requests sent in the new window against the whole limit", () => {
    const t = new Throttle();
    const ticket = t.dispatch("a", e(1), T0);
    t.settle(ticket, { remainingRequests: 0, resetRequestsMs: 100, limitRequests: 2 }, T0);
    t.dispatch("a", e(1), T0 + 150);
    expect(t.blockedUntil("a", undefined, e(1), T0 + 151)).toBe(0);
    t.dispatch("a", e(1), T0 + 152);
    // Both of the new window's requests are in flight: blocked until the next window.
    expect(t.blockedUntil("a", undefined, e(1), T0 + 153)).toBe(T0 + 200);
  });

  it("uses the fleet's report from the store when it is newer than its own", () => {
    const t = new Throttle();
    const shared = {
      at: T0 + 50,
      requests: 0,
      requestsResetAt: T0 + 800,
      limitRequests: 10,
      periodMs: 1000,
    };
    expect(t.blockedUntil("a", shared, e(1), T0 + 60)).toBe(T0 + 800);
    const ticket = t.dispatch("a", e(1), T0 + 100);
    t.settle(ticket, { remainingRequests: 5, resetRequestsMs: 700, limitRequests: 10 }, T0 + 100);
    expect(t.blockedUntil("a", shared, e(1), T0 + 110)).toBe(0);
  });

  it("returns a report to share only when the headroom runs low (10 % of the limit)", () => {
    const t = new Throttle();
    const info = (remaining: number) => ({
      remainingRequests: remaining,
      resetRequestsMs: 1000,
      limitRequests: 100,
    });
    expect(t.settle(t.dispatch("a", e(1), T0), info(50), T0)).toBeUndefined();
    const low = t.settle(t.dispatch("a", e(1), T0), info(10), T0);
    expect(low).toMatchObject({ requests: 10, requestsResetAt: T0 + 1000, limitRequests: 100 });
    expect(Throttle.merge({ ...low!, at: T0 + 5 }, low!).at).toBe(T0 + 5);
  });

  it("corrects the input estimate by the input tokens the target reports", () => {
    const t = new Throttle();
    const estimate = { input: 100, output: 50 };
    expect(t.tokensFor("a", estimate)).toBe(150);
    // The provider counted 130 input tokens where characters / 4 said 100.
    t.settle(t.dispatch("a", estimate, T0), undefined, T0 + 1, 130);
    expect(t.tokensFor("a", estimate)).toBe(180);
    expect(t.tokensFor("b", estimate)).toBe(150);
  });
});

/** blockedUntil as written before its fast path: every report rolled to `now` first. */
function reference(
  shared: Headroom,
  tickets: ReadonlyArray<{ at: number; tokens: number }>,
  tokens: number,
  now: number,
): number {
  const h = shared;
  let view: Headroom = h;
  const requestsReset = h.requestsResetAt !== undefined && h.requestsResetAt <= now;
  const tokensReset = h.tokensResetAt !== undefined && h.tokensResetAt <= now;
  if (requestsReset || tokensReset) {
    const next = { ...h } as { -readonly [K in keyof Headroom]: Headroom[K] };
    const roll = (resetAt: number) => {
      const step = Math.max(1, h.periodMs);
      return resetAt + Math.ceil((now - resetAt + 1) / step) * step;
    };
    const period = Math.max(1, h.periodMs) + (h.skewMs ?? 0);
    let since = h.at;
    if (requestsReset) {
      if (h.limitRequests === undefined) delete next.requests;
      else next.requests = h.limitRequests;
      next.requestsResetAt = roll(h.requestsResetAt!);
      since = Math.max(since, next.requestsResetAt - period);
    }
    if (tokensReset) {
      if (h.limitTokens === undefined) delete next.tokens;
      else next.tokens = h.limitTokens;
      next.tokensResetAt = roll(h.tokensResetAt!);
      since = Math.max(since, next.tokensResetAt - period);
    }
    next.at = since;
    view = next;
  }
  const counted = tickets.filter((t) => t.at >= view.at);
  const requests = counted.length;
  const spent = counted.reduce((sum, t) => sum + t.tokens, 0);
  let until = 0;
  if (view.requests !== undefined && view.requestsResetAt !== undefined) {
    if (view.requests - requests < 1) until = view.requestsResetAt;
  }
  if (view.tokens !== undefined && view.tokensResetAt !== undefined) {
    const fits = view.limitTokens === undefined || tokens <= view.limitTokens;
    if (fits && view.tokens - spent < tokens) until = Math.max(until, view.tokensResetAt);
  }
  return until > now ? until : 0;
}

describe("Throttle.blockedUntil's fast path", () => {
  it("answers as rolling every report to now would, for any report and requests in flight", () => {
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({
          at: fc.integer({ min: 0, max: 1000 }),
          periodMs: fc.integer({ min: 0, max: 500 }),
          skewMs: maybe(fc.integer({ min: 0, max: 50 })),
          requests: maybe(fc.integer({ min: 0, max: 6 })),
          limitRequests: maybe(fc.integer({ min: 0, max: 6 })),
          requestsResetAt: maybe(fc.integer({ min: 0, max: 2000 })),
          tokens: maybe(fc.integer({ min: 0, max: 300 })),
          limitTokens: maybe(fc.integer({ min: 0, max: 300 })),
          tokensResetAt: maybe(fc.integer({ min: 0, max: 2000 })),
        }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 2000 }), tokens: fc.nat(100) }), {
          maxLength: 8,
        }),
        fc.nat(120),
        fc.integer({ min: 0, max: 2500 }),
        (raw, sent, tokens, now) => {
          const shared = Object.fromEntries(
            Object.entries(raw).filter(([, v]) => v !== undefined),
          ) as unknown as Headroom;
          const t = new Throttle();
          for (const ticket of sent) t.dispatch("k", e(ticket.tokens), ticket.at);
          expect(t.blockedUntil("k", shared, e(tokens), now)).toBe(
            reference(shared, sent, tokens, now),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });
});
