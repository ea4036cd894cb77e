import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryStateStore } from "./memory-state-store.js";
import { prefixedKeys } from "./state-store.js";

function setup() {
  let now = 1000;
  return { store: new MemoryStateStore({ now: () => now }), advance: (ms: number) => (now += ms) };
}

describe("MemoryStateStore", () => {
  it("round-trips any JSON value (property)", async () => {
    const { store } = setup();
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.jsonValue(), async (key, value) => {
        if (value === null) return;
        await store.set(key, value);
        expect(await store.get(key)).toEqual(value);
      }),
    );
  });

  it("expires values after their TTL", async () => {
    const { store, advance } = setup();
    await store.set("k", { a: 1 }, 100);
    advance(99);
    expect(await store.get("k")).toEqual({ a: 1 });
    advance(1);
    expect(await store.get("k")).toBeUndefined();
  });

  it("update is read-modify-write; undefined deletes", async () => {
    const { store } = setup();
    await Promise.all(
      Array.from({ length: 10 }, () => store.update<number>("n", (n) => (n ?? 0) + 1)),
    );
    expect(await store.get("n")).toBe(10);
    await store.update("n", () => undefined);
    expect(await store.get("n")).toBeUndefined();
  });

  it("lists entries by prefix and reads many", async () => {
    const { store } = setup();
    await store.set("breaker:a", 1);
    await store.set("breaker:b", 2);
    await store.set("cooldown:a", 3);
    expect((await store.entries("breaker:")).sort()).toEqual([
      ["breaker:a", 1],
      ["breaker:b", 2],
    ]);
    expect(await store.getMany(["breaker:b", "missing", "cooldown:a"])).toEqual([2, undefined, 3]);
  });

  it("leases are exclusive, re-entrant for their holder, and expire", async () => {
    const { store, advance } = setup();
    expect(await store.acquireLease("l", "a", 100)).toBe(true);
    expect(await store.acquireLease("l", "b", 100)).toBe(false);
    expect(await store.acquireLease("l", "a", 100)).toBe(true);
    await store.releaseLease("l", "b"); // not the holder: no effect
    expect(await store.acquireLease("l", "b", 100)).toBe(false);
    advance(100);
    expect(await store.acquireLease("l", "b", 100)).toBe(true);
    await store.releaseLease("l", "b");
    expect(await store.acquireLease("l", "a", 100)).toBe(true);
  });

  it("sliding windows sum the last windowMs", async () => {
    const { store, advance } = setup();
    await store.addToWindow("w", "requests", 3, 1000);
    advance(500);
    expect(await store.addToWindow("w", "retries", 1, 1000)).toEqual({ requests: 3, retries: 1 });
    advance(500);
    expect(await store.addToWindow("w", "requests", 0, 1000)).toEqual({ retries: 1 });
    advance(500);
    expect(await store.addToWindow("w", "requests", 0, 1000)).toEqual({});
  });
});

describe("prefixedKeys", () => {
  it("gives the same string for the same key, and starts over past 4,096 keys", () => {
    const key = prefixedKeys("cooldown:");
    const first = key("openai:gpt-4o");
    expect(first).toBe("cooldown:openai:gpt-4o");
    expect(key("openai:gpt-4o")).toBe(first);
    for (let i = 0; i < 5000; i++) expect(key(`m${i}`)).toBe(`cooldown:m${i}`);
    expect(key("openai:gpt-4o")).toBe("cooldown:openai:gpt-4o");
  });
});
