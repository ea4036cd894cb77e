import { describe, expect, it } from "vitest";
import { GroupBalancer, type ResolvedGroup } from "./group-balancer.js";

const keys = ["a:m", "b:m", "c:m"];
const group = (strategy: ResolvedGroup["strategy"], weights = [1, 1, 1]): ResolvedGroup => ({
  name: "g",
  keys,
  strategy,
  weights,
});
const all = [0, 1, 2];

describe("GroupBalancer", () => {
  it("least-busy picks the member with the fewest requests in flight", () => {
    const b = new GroupBalancer();
    b.acquire("a:m");
    b.acquire("a:m");
    b.acquire("c:m");
    expect(b.pick(group("least-busy"), keys, all)).toBe(1);
    b.acquire("b:m");
    b.acquire("b:m");
    expect(b.pick(group("least-busy"), keys, all)).toBe(2);
  });

  it("least-busy breaks ties round-robin, and keeps counts within one when every pick is held", () => {
    const b = new GroupBalancer();
    const picks = [0, 1, 2, 3, 4, 5].map(() => b.pick(group("least-busy"), keys, all));
    expect(new Set(picks.slice(0, 3)).size).toBe(3);
    for (let i = 0; i < 64; i++) b.acquire(keys[b.pick(group("least-busy"), keys, all)]!);
    const counts = keys.map((k) => b.inFlight(k));
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    b.release("a:m");
    expect(b.inFlight("a:m")).toBe(counts[0]! - 1);
  });

  it("only picks among the candidates it is given", () => {
    const b = new GroupBalancer();
    for (let i = 0; i < 10; i++) expect(b.pick(group("round-robin"), keys, [0, 2])).not.toBe(1);
  });

  it("round-robin rotates over the members", () => {
    const b = new GroupBalancer();
    expect([0, 1, 2, 3].map(() => b.pick(group("round-robin"), keys, all))).toEqual([0, 1, 2, 0]);
  });

  it("weighted sends traffic in proportion to the weights, spread out", () => {
    const b = new GroupBalancer();
    const counts = [0, 0, 0];
    const seq: number[] = [];
    for (let i = 0; i < 600; i++) {
      const p = b.pick(group("weighted", [3, 2, 1]), keys, all);
      counts[p]!++;
      seq.push(p);
    }
    expect(counts).toEqual([300, 200, 100]);
    // Smooth: the heavy member never takes more than 3 picks of any 6 in a row.
    expect(seq.slice(0, 6).filter((p) => p === 0)).toHaveLength(3);
  });

  it("latency prefers the fastest member, weighed by its load", () => {
    const b = new GroupBalancer({ random: () => 0.99 });
    b.observeLatency("a:m", 500);
    b.observeLatency("b:m", 100);
    b.observeLatency("c:m", 100);
    const picks = [0, 1, 2, 3].map(() => b.pick(group("latency"), keys, all));
    expect(picks).not.toContain(0);
    // With five requests in flight on b and c each, a (5x slower, idle) is worth one.
    for (let i = 0; i < 5; i++) {
      b.acquire("b:m");
      b.acquire("c:m");
    }
    expect(b.pick(group("latency"), keys, all)).toBe(0);
  });

  it("latency explores: a share of picks goes to a random member, so a recovered one is measured", () => {
    const draws = [0.01, 0.1]; // explore, then pick index floor(0.1 * 3) = 0
    const b = new GroupBalancer({ random: () => draws.shift() ?? 0.99, exploration: 0.05 });
    b.observeLatency("a:m", 5000);
    b.observeLatency("b:m", 100);
    b.observeLatency("c:m", 100);
    expect(b.pick(group("latency"), keys, all)).toBe(0);
    for (let i = 0; i < 10; i++) b.observeLatency("a:m", 100);
    expect(b.latencyOf("a:m")).toBeLessThan(400);
  });

  it("latency treats an unmeasured member as the fastest measured one", () => {
    const b = new GroupBalancer({ random: () => 0.99 });
    b.observeLatency("a:m", 300);
    b.observeLatency("b:m", 100);
    expect([0, 1].map(() => b.pick(group("latency"), keys, all)).sort()).toEqual([1, 2]);
  });
});
