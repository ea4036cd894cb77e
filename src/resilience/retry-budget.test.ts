import { describe, expect, it } from "vitest";
import { MemoryStateStore } from "../state/memory-state-store.js";
import { RetryBudget } from "./retry-budget.js";

function setup(options = {}) {
  let now = 0;
  const store = new MemoryStateStore({ now: () => now });
  return { budget: new RetryBudget(options, store), advance: (ms: number) => (now += ms) };
}

async function drain(budget: RetryBudget, key: string, max = 1000): Promise<number> {
  let granted = 0;
  while (granted < max && (await budget.tryAcquireRetry(key))) granted++;
  return granted;
}

describe("RetryBudget", () => {
  it("recordRequestNow counts like recordRequest on an in-process store, and only there", async () => {
    const { budget } = setup({ minRetriesPerSecond: 0 });
    for (let i = 0; i < 10; i++) expect(budget.recordRequestNow("t")).toBe(true);
    expect(await drain(budget, "t")).toBe(2);
    const elsewhere = new RetryBudget({}, { ...new MemoryStateStore(), kind: "other" } as never);
    expect(elsewhere.recordRequestNow("t")).toBe(false);
  });

  it("a quiet client keeps its full retries on one call (the floor)", async () => {
    const { budget } = setup();
    await budget.recordRequest("t");
    // 0.2 × 1 + 1/s × 10 s = 10.2 → 10 retries: more than the default maxRetries of 5.
    expect(await drain(budget, "t")).toBe(10);
  });

  it("a busy client in an outage retries at most ratio × requests (+ the floor)", async () => {
    const { budget } = setup({ minRetriesPerSecond: 0 });
    for (let i = 0; i < 1000; i++) await budget.recordRequest("t");
    expect(await drain(budget, "t")).toBe(200);
  });

  it("heals by itself as the window slides", async () => {
    const { budget, advance } = setup();
    await budget.recordRequest("t");
    expect(await drain(budget, "t")).toBe(10);
    expect(await budget.tryAcquireRetry("t")).toBe(false);
    advance(5_000);
    expect(await budget.tryAcquireRetry("t")).toBe(false);
    advance(6_000); // the retries have slid out of the window
    expect(await drain(budget, "t")).toBe(10);
  });

  it("keeps one budget per key", async () => {
    const { budget } = setup();
    expect(await drain(budget, "a")).toBe(10);
    expect(await drain(budget, "b")).toBe(10);
  });

  it("concurrent withdrawals never overdraw it", async () => {
    const { budget } = setup();
    const grants = await Promise.all(Array.from({ length: 50 }, () => budget.tryAcquireRetry("t")));
    expect(grants.filter(Boolean)).toHaveLength(10);
  });

  it("validates options", () => {
    expect(() => new RetryBudget({ ratio: -1 })).toThrow(
      new RangeError("expected a non-negative number for retryBudget.ratio, got -1"),
    );
    expect(() => new RetryBudget({ windowMs: 0 })).toThrow(
      new RangeError("expected a positive number for retryBudget.windowMs, got 0"),
    );
  });
});
