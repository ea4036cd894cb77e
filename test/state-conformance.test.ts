/**
 * One suite, three stores: memory, file and Redis must agree on every operation of the
 * StateStore contract (state-store.ts).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FileStateStore } from "../src/state/file-state-store.js";
import { MemoryStateStore } from "../src/state/memory-state-store.js";
import { RedisStateStore } from "../src/state/redis-state-store.js";
import type { StateStore } from "../src/state/state-store.js";
import { type RedisServer, redisAvailability, startRedis } from "./helpers/redis.js";

/** A clock that follows real time (Redis TTLs are real) and can jump ahead (windows). */
class Clock {
  offsetMs = 0;
  readonly now = () => Date.now() + this.offsetMs;
  advance(ms: number) {
    this.offsetMs += ms;
  }
}

interface Backend {
  /** A new, empty store; `twin` opens a second store on the same backing data. */
  create(clock: Clock): { store: StateStore; twin?: () => StateStore };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jsonRoundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function conformance(name: string, backend: () => Backend) {
  describe(`${name} store conformance`, () => {
    const opened: StateStore[] = [];
    const clock = new Clock();
    const open = () => {
      const { store, twin } = backend().create(clock);
      opened.push(store);
      return {
        store,
        twin: twin
          ? () => {
              const other = twin();
              opened.push(other);
              return other;
            }
          : undefined,
      };
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      clock.offsetMs = 0;
    });

    it("gets what it set, undefined for absent keys, in order for getMany", async () => {
      const { store } = open();
      expect(await store.get("missing")).toBeUndefined();
      await store.set("a", { state: "open", failures: 3 });
      await store.set("b", [1, "two", null]);
      expect(await store.get("a")).toEqual({ state: "open", failures: 3 });
      expect(await store.getMany(["b", "missing", "a"])).toEqual([
        [1, "two", null],
        undefined,
        { state: "open", failures: 3 },
      ]);
      expect(await store.getMany([])).toEqual([]);
      await store.set("a", "replaced");
      expect(await store.get("a")).toBe("replaced");
    });

    it("expires entries after their TTL, and set without TTL keeps them", async () => {
      const { store } = open();
      // Wide enough that the writes and the first read (file I/O on a busy machine) fit in it.
      await store.set("short", 1, 500);
      await store.set("long", 2, 60_000);
      await store.set("forever", 3);
      expect(await store.get("short")).toBe(1);
      await sleep(600);
      expect(await store.get("short")).toBeUndefined();
      expect(await store.getMany(["short", "long", "forever"])).toEqual([undefined, 2, 3]);
    });

    it("update reads the current value, writes fn's result, deletes on undefined", async () => {
      const { store } = open();
      const seen: Array<number | undefined> = [];
      const increment = (current: number | undefined) => {
        seen.push(current);
        return (current ?? 0) + 1;
      };
      expect(await store.update("n", increment)).toBe(1);
      expect(await store.update("n", increment)).toBe(2);
      expect(seen.slice(-2)).toEqual([undefined, 1]);
      expect(await store.get("n")).toBe(2);
      expect(await store.update<number>("n", () => undefined)).toBeUndefined();
      expect(await store.get("n")).toBeUndefined();
      expect(await store.update<number>("absent", () => undefined)).toBeUndefined();
    });

    it("update applies its TTL to the new value", async () => {
      const { store } = open();
      await store.update<string>("cooldown", () => "cooling", 40);
      expect(await store.get("cooldown")).toBe("cooling");
      await sleep(80);
      expect(await store.get("cooldown")).toBeUndefined();
      expect(await store.update<number>("cooldown", (current) => (current ?? 10) + 1)).toBe(11);
    });

    it("concurrent updates from one store lose nothing", async () => {
      const { store } = open();
      await Promise.all(
        Array.from({ length: 20 }, () => store.update<number>("count", (n) => (n ?? 0) + 1)),
      );
      expect(await store.get("count")).toBe(20);
    });

    it("delete removes the entry and is quiet for absent keys", async () => {
      const { store } = open();
      await store.set("k", "v");
      await store.delete("k");
      await store.delete("never-there");
      expect(await store.get("k")).toBeUndefined();
    });

    it("entries lists live entries under a prefix only", async () => {
      const { store } = open();
      await store.set("breaker:openai:gpt-4o", { state: "open" });
      await store.set("breaker:anthropic:claude", { state: "closed" });
      await store.set("breaker:gone", { state: "open" }, 30);
      await store.set("cooldown:openai:gpt-4o", 1);
      await store.set("breaker*glob", "literal");
      await sleep(60);
      const entries = await store.entries("breaker:");
      expect(entries.sort(([a], [b]) => a.localeCompare(b))).toEqual([
        ["breaker:anthropic:claude", { state: "closed" }],
        ["breaker:openai:gpt-4o", { state: "open" }],
      ]);
      expect(await store.entries("breaker*")).toEqual([["breaker*glob", "literal"]]);
      expect((await store.entries("")).length).toBe(4);
    });

    it("a lease has one holder at a time, is re-entrant, and frees itself after its TTL", async () => {
      const { store } = open();
      expect(await store.acquireLease("probe", "a", 60_000)).toBe(true);
      expect(await store.acquireLease("probe", "b", 60_000)).toBe(false);
      expect(await store.acquireLease("probe", "a", 60_000)).toBe(true);
      await store.releaseLease("probe", "b"); // not b's: no effect
      expect(await store.acquireLease("probe", "b", 60_000)).toBe(false);
      await store.releaseLease("probe", "a");
      expect(await store.acquireLease("probe", "b", 40)).toBe(true);
      expect(await store.acquireLease("probe", "a", 60_000)).toBe(false);
      await sleep(80);
      expect(await store.acquireLease("probe", "a", 60_000)).toBe(true);
    });

    it("only one of many concurrent lease requests wins", async () => {
      const { store } = open();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, index) => store.acquireLease("probe", `h${index}`, 60_000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("addToWindow sums each field over the window, amount 0 only reads", async () => {
      const { store } = open();
      const windowMs = 10_000;
      expect(await store.addToWindow("budget", "requests", 0, windowMs)).toEqual({});
      await store.addToWindow("budget", "requests", 1, windowMs);
      await store.addToWindow("budget", "requests", 1, windowMs);
      expect(await store.addToWindow("budget", "retries", 1, windowMs)).toEqual({
        requests: 2,
        retries: 1,
      });
      expect(await store.addToWindow("budget", "requests", 0, windowMs)).toEqual({
        requests: 2,
        retries: 1,
      });
      expect(await store.addToWindow("other", "requests", 0, windowMs)).toEqual({});
    });

    it("the window slides: old buckets stop counting", async () => {
      const { store } = open();
      const windowMs = 10_000;
      clock.offsetMs = windowMs - (clock.now() % windowMs) + 1; // start of a window-aligned bucket
      await store.addToWindow("budget", "requests", 5, windowMs);
      clock.advance(windowMs / 2);
      await store.addToWindow("budget", "requests", 3, windowMs);
      expect(await store.addToWindow("budget", "requests", 0, windowMs)).toEqual({ requests: 8 });
      clock.advance(windowMs / 2 + 10);
      expect(await store.addToWindow("budget", "requests", 0, windowMs)).toEqual({ requests: 3 });
      clock.advance(windowMs);
      expect(await store.addToWindow("budget", "requests", 1, windowMs)).toEqual({ requests: 1 });
    });

    it("delete clears a window too", async () => {
      const { store } = open();
      await store.addToWindow("budget", "requests", 2, 10_000);
      await store.delete("budget");
      expect(await store.addToWindow("budget", "requests", 0, 10_000)).toEqual({});
    });

    it("round-trips arbitrary JSON values (property)", async () => {
      const { store } = open();
      await fc.assert(
        fc.asyncProperty(fc.string(), fc.jsonValue(), async (key, generated) => {
          const value = jsonRoundTrip(generated);
          await store.set(key, value);
          expect(await store.get(key)).toEqual(value);
          expect(await store.update(key, (current) => current)).toEqual(value);
          expect(await store.getMany([key])).toEqual([value]);
        }),
        { numRuns: 60 },
      );
    });

    it("window totals equal the sum of what was added (property)", async () => {
      const { store } = open();
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({ field: fc.constantFrom("requests", "retries", "x:y"), amount: fc.nat(9) }),
            { maxLength: 15 },
          ),
          async (adds) => {
            const key = `w-${randomUUID()}`;
            const expected: Record<string, number> = {};
            for (const { field, amount } of adds) {
              await store.addToWindow(key, field, amount, 60_000);
              if (amount !== 0) expected[field] = (expected[field] ?? 0) + amount;
            }
            expect(await store.addToWindow(key, "requests", 0, 60_000)).toEqual(expected);
          },
        ),
        { numRuns: 25 },
      );
    });

    it("two stores on the same backing data see each other (shared stores)", async (context) => {
      const { store, twin } = open();
      if (!twin) return context.skip("process-local store");
      const other = twin();
      await store.set("breaker", { state: "open" }, 60_000);
      expect(await other.get("breaker")).toEqual({ state: "open" });
      await other.update<number>("n", (n) => (n ?? 0) + 1);
      await store.update<number>("n", (n) => (n ?? 0) + 1);
      expect(await other.get("n")).toBe(2);
      expect(await store.acquireLease("probe", "a", 60_000)).toBe(true);
      expect(await other.acquireLease("probe", "b", 60_000)).toBe(false);
      await store.addToWindow("budget", "requests", 2, 10_000);
      expect(await other.addToWindow("budget", "requests", 1, 10_000)).toEqual({ requests: 3 });
    });
  });
}

conformance("memory", () => ({
  create: (clock) => ({ store: new MemoryStateStore({ now: clock.now }) }),
}));

describe("file", () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), "retry-client-conformance-"));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  conformance("file", () => ({
    create: (clock) => {
      const path = join(directory, `${randomUUID()}.json`);
      return {
        store: new FileStateStore({ path, now: clock.now }),
        twin: () => new FileStateStore({ path, now: clock.now }),
      };
    },
  }));
});

const redis = redisAvailability();
describe.skipIf(!redis.available && !redis.mustFail)("redis", () => {
  if (redis.mustFail) {
    it("needs a redis-server under CI", () => {
      throw new Error(`CI=true but ${redis.reason}`);
    });
    return;
  }
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server?.stop());
  conformance("redis", () => ({
    create: (clock) => {
      const keyPrefix = `conformance:${randomUUID()}:`;
      const options = { url: server.url, keyPrefix, now: clock.now, commandTimeoutMs: 2000 };
      return {
        store: new RedisStateStore(options),
        twin: () => new RedisStateStore(options),
      };
    },
  }));
});
if (!redis.available && !redis.mustFail)
  console.warn(`[state-conformance] skipping the Redis store: ${redis.reason}`);
