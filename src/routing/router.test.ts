import { describe, expect, it } from "vitest";
import { Router } from "./router.js";

const group = {
  name: "pool",
  keys: ["a:m", "b:m"],
  strategy: "least-busy" as const,
  weights: [1, 1],
};

describe("Router", () => {
  const router = () =>
    new Router({ groups: [group], throttling: true, hedgeWindowMs: 1000, now: () => 0 });

  it("knows its groups, and has throttling without hedging unless asked", () => {
    const r = router();
    expect(r.group("pool")).toBe(group);
    expect(r.group("gpt-4o")).toBeUndefined();
    expect(r.throttle).toBeDefined();
    expect(r.hedge).toBeUndefined();
    expect(
      new Router({ throttling: false, hedgeWindowMs: 1, now: () => 0 }).throttle,
    ).toBeUndefined();
  });

  it("counts a preselected member in flight at once, so concurrent calls spread", () => {
    const r = router();
    const keys = ["a:m", "b:m", "openai:fallback"];
    const first = r.preselect(group, keys);
    const second = r.preselect(group, keys);
    expect([first, second].sort()).toEqual([0, 1]);
    expect(r.balancer.inFlight("a:m")).toBe(1);
    expect(r.balancer.inFlight("b:m")).toBe(1);
  });

  it("keeps the preselected member when usable, else moves its count to the new pick", () => {
    const r = router();
    const keys = ["a:m", "b:m"];
    const pre = r.preselect(group, keys);
    expect(r.choose(group, keys, [0, 1], pre)).toBe(pre);
    const other = 1 - pre;
    const again = r.preselect(group, keys); // the other one now
    expect(again).toBe(other);
    expect(r.choose(group, keys, [pre], again)).toBe(pre);
    expect(r.balancer.inFlight(keys[pre]!)).toBe(2);
    expect(r.balancer.inFlight(keys[other]!)).toBe(0);
  });

  it("releases the count when no member is usable, and ignores a call with no member left", () => {
    const r = router();
    const keys = ["a:m", "b:m"];
    const pre = r.preselect(group, keys);
    expect(r.choose(group, keys, [], pre)).toBeUndefined();
    expect(r.balancer.inFlight("a:m") + r.balancer.inFlight("b:m")).toBe(0);
    expect(r.preselect(group, ["openai:fallback"])).toBe(-1);
    expect(r.choose(group, ["openai:fallback"], [], -1)).toBeUndefined();
  });
});
