import { describe, expect, it } from "vitest";
import { HedgeBudget, resolveHedge } from "./hedge.js";

describe("hedge settings", () => {
  it("applies defaults and names a bad value", () => {
    expect(resolveHedge({ afterMs: 200 })).toEqual({ afterMs: 200, maxHedges: 1, budget: 0.1 });
    expect(() => resolveHedge({ afterMs: -1 })).toThrow(/hedge\.afterMs, got -1/);
    expect(() => resolveHedge({ afterMs: 1, maxHedges: 0 })).toThrow(/hedge\.maxHedges/);
    expect(() => resolveHedge({ afterMs: 1, budget: Number.NaN })).toThrow(/hedge\.budget/);
  });
});

describe("HedgeBudget", () => {
  it("allows hedges up to the share of requests over the window, and heals as it slides", () => {
    let now = 0;
    const budget = new HedgeBudget(1000, () => now);
    for (let i = 0; i < 20; i++) budget.recordRequest();
    expect(budget.tryAcquire(0.1)).toBe(true);
    expect(budget.tryAcquire(0.1)).toBe(true);
    expect(budget.tryAcquire(0.1)).toBe(false);
    now = 1500;
    for (let i = 0; i < 10; i++) budget.recordRequest();
    expect(budget.tryAcquire(0.1)).toBe(true);
    expect(budget.tryAcquire(0.1)).toBe(false);
  });
});
