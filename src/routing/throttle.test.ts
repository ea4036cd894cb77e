import { describe, expect, it } from "vitest";
import { Message } from "../message.js";
import { estimateRequestTokens, Throttle } from "./throttle.js";

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
