/**
 * RedisStateStore against a real redis-server: atomicity across connections, round trips, and
 * what happens when Redis dies, hangs or comes back.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server, Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStateStore, type RedisStateStoreOptions } from "../src/redis.js";
import type { Warning } from "../src/types.js";
import { type RedisServer, redisAvailability, startRedis } from "./helpers/redis.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP proxy in front of Redis that counts client writes and can cut or black-hole traffic. */
class FaultyProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  mode: "pass" | "blackhole" | "refuse" = "pass";
  writes = 0;
  port = 0;

  constructor(targetPort: number) {
    this.#server = createServer((client) => {
      if (this.mode === "refuse") {
        client.destroy();
        return;
      }
      const upstream = new Socket();
      upstream.connect(targetPort, "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => {
          this.#sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on("data", (data) => {
        this.writes++;
        if (this.mode === "pass") upstream.write(data);
      });
      upstream.on("data", (data) => {
        if (this.mode === "pass") client.write(data);
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
    return this;
  }

  /** Drops every connection and refuses new ones, as a Redis that went away. */
  cut(): void {
    this.mode = "refuse";
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

const redis = redisAvailability({ needsOwnServer: true });
if (!redis.available && !redis.mustFail)
  console.warn(`[state-redis] skipping the Redis store tests: ${redis.reason}`);

describe.skipIf(!redis.available && !redis.mustFail)("RedisStateStore", () => {
  if (redis.mustFail) {
    it("needs a redis-server under CI", () => {
      throw new Error(`CI=true but ${redis.reason}`);
    });
    return;
  }

  let server: RedisServer;
  let admin: Redis;
  const stores: RedisStateStore[] = [];
  const open = (options: RedisStateStoreOptions = {}) => {
    const store = new RedisStateStore({
      url: server.url,
      keyPrefix: `t:${randomUUID()}:`,
      ...options,
    });
    stores.push(store);
    return store;
  };
  const collect = (store: RedisStateStore) => {
    const warnings: Warning[] = [];
    store.onWarning((warning) => warnings.push(warning));
    return warnings;
  };

  beforeAll(async () => {
    // Our own server, not REDIS_URL's: these tests kill and restart it.
    server = await startRedis({ ownServer: true });
    admin = new Redis(server.url);
    admin.on("error", () => {}); // it sees the server being killed
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    admin?.disconnect();
    await server?.stop();
  });

  it("concurrent updates from several connections lose nothing", async () => {
    const keyPrefix = `t:${randomUUID()}:`;
    const fleet = Array.from({ length: 6 }, () => open({ keyPrefix, commandTimeoutMs: 5000 }));
    await Promise.all(
      fleet.flatMap((store) =>
        Array.from({ length: 25 }, () => store.update<number>("count", (n) => (n ?? 0) + 1)),
      ),
    );
    expect(await fleet[0]!.get("count")).toBe(150);
    expect(fleet.every((store) => !store.degraded)).toBe(true);
  });

  it("exactly one of two processes' many concurrent lease requests wins, until it expires", async () => {
    const keyPrefix = `t:${randomUUID()}:`;
    const [a, b] = [open({ keyPrefix }), open({ keyPrefix })];
    const attempts = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        (index % 2 ? a! : b!).acquireLease("probe", `holder-${index}`, 150),
      ),
    );
    expect(attempts.filter(Boolean)).toHaveLength(1);
    expect(await a!.acquireLease("probe", "late", 150)).toBe(false);
    await sleep(250);
    expect(await b!.acquireLease("probe", "late", 60_000)).toBe(true);
    await a!.releaseLease("probe", "someone-else");
    expect(await admin.get(`${keyPrefix}v:probe`)).toBe('"late"');
    await b!.releaseLease("probe", "late");
    expect(await admin.exists(`${keyPrefix}v:probe`)).toBe(0);
  });

  it("stores TTLs as Redis expiries under the key prefix", async () => {
    const store = open({ keyPrefix: "ttl-test:" });
    await store.set("cooldown:openai:gpt-4o", { until: 1 }, 5000);
    const ttl = await admin.pttl("ttl-test:v:cooldown:openai:gpt-4o");
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
    await store.addToWindow("budget", "requests", 1, 10_000);
    expect(await admin.pttl("ttl-test:w:budget")).toBeGreaterThan(10_000);
  });

  it("reads issued in the same tick share one round trip (auto-pipelining)", async () => {
    const proxy = await new FaultyProxy(server.port).listen();
    try {
      const keyPrefix = `t:${randomUUID()}:`;
      const store = open({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix });
      await store.set("breaker", { state: "closed" });
      await store.addToWindow("budget", "requests", 0, 10_000);
      proxy.writes = 0;
      const [values, window, single] = await Promise.all([
        store.getMany(["breaker", "cooldown"]),
        store.addToWindow("budget", "requests", 1, 10_000),
        store.get("breaker"),
      ]);
      expect(values).toEqual([{ state: "closed" }, undefined]);
      expect(window).toEqual({ requests: 1 });
      expect(single).toEqual({ state: "closed" });
      expect(proxy.writes).toBe(1);
      // An update of a value just read is one compare-and-set: one round trip more.
      proxy.writes = 0;
      expect(await store.update<{ state: string }>("breaker", () => ({ state: "open" }))).toEqual({
        state: "open",
      });
      expect(proxy.writes).toBe(1);
      // A stale guess costs a second round trip, never a lost write.
      await admin.set(`${keyPrefix}v:breaker`, JSON.stringify({ state: "half-open" }));
      proxy.writes = 0;
      const seen: unknown[] = [];
      await store.update<{ state: string }>("breaker", (current) => {
        seen.push(current);
        return { state: "closed" };
      });
      expect(seen).toEqual([{ state: "open" }, { state: "half-open" }]);
      expect(proxy.writes).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it("an unreachable Redis answers from local state within the bound, warning once", async () => {
    const proxy = await new FaultyProxy(server.port).listen();
    proxy.mode = "refuse";
    try {
      const store = open({ url: `redis://127.0.0.1:${proxy.port}`, commandTimeoutMs: 100 });
      const warnings = collect(store);
      let started = Date.now();
      await store.set("k", 1);
      expect(await store.update<number>("k", (n) => (n ?? 0) + 1)).toBe(2);
      expect(await store.acquireLease("probe", "a", 1000)).toBe(true);
      expect(await store.acquireLease("probe", "b", 1000)).toBe(false);
      expect(await store.addToWindow("budget", "requests", 1, 10_000)).toEqual({ requests: 1 });
      expect(await store.entries("")).toEqual([
        ["k", 2],
        ["probe", "a"],
      ]);
      expect(Date.now() - started).toBeLessThan(500);
      expect(warnings.map((warning) => warning.code)).toEqual(["state-store-unreachable"]);
      expect(store.degraded).toBe(true);
      // While ioredis keeps trying to connect in the background, nothing waits any more.
      started = Date.now();
      for (let index = 0; index < 30; index++) {
        await store.getMany(["k", "probe"]);
        await sleep(5);
      }
      expect(Date.now() - started).toBeLessThan(30 * 5 + 200);
    } finally {
      await proxy.close();
    }
  });

  it("a Redis that never answers at startup costs the first operation connectTimeoutMs, no more", async () => {
    const proxy = await new FaultyProxy(server.port).listen();
    proxy.mode = "blackhole";
    try {
      const store = open({
        url: `redis://127.0.0.1:${proxy.port}`,
        commandTimeoutMs: 50,
        connectTimeoutMs: 100,
      });
      const warnings = collect(store);
      let started = Date.now();
      expect(await store.get("k")).toBeUndefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(Date.now() - started).toBeLessThan(300);
      started = Date.now();
      for (let index = 0; index < 50; index++) await store.update<number>("n", (n) => (n ?? 0) + 1);
      expect(Date.now() - started).toBeLessThan(100);
      expect(await store.get("n")).toBe(50);
      expect(warnings.map((warning) => warning.code)).toEqual(["state-store-unreachable"]);
    } finally {
      await proxy.close();
    }
  });

  it("a Redis that hangs costs one timeout, then local answers until the retry interval", async () => {
    const proxy = await new FaultyProxy(server.port).listen();
    try {
      const store = open({
        url: `redis://127.0.0.1:${proxy.port}`,
        commandTimeoutMs: 80,
        retryIntervalMs: 300,
      });
      const warnings = collect(store);
      await store.set("breaker", { state: "open" }, 60_000);
      proxy.mode = "blackhole";
      let started = Date.now();
      expect(await store.get("breaker")).toEqual({ state: "open" }); // from the local mirror
      expect(Date.now() - started).toBeGreaterThanOrEqual(70);
      expect(Date.now() - started).toBeLessThan(250);
      started = Date.now();
      for (let index = 0; index < 20; index++) await store.get("breaker");
      expect(Date.now() - started).toBeLessThan(50);
      expect(warnings.map((warning) => warning.code)).toEqual(["state-store-unreachable"]);
    } finally {
      await proxy.close();
    }
  });

  it("after an outage, re-sync pushes local writes only where the fleet wrote nothing", async () => {
    const proxy = await new FaultyProxy(server.port).listen();
    try {
      const keyPrefix = `t:${randomUUID()}:`;
      const store = open({
        url: `redis://127.0.0.1:${proxy.port}`,
        keyPrefix,
        retryIntervalMs: 50,
      });
      const fleet = open({ keyPrefix });
      const warnings = collect(store);
      await store.set("contested", "before");
      proxy.cut();
      await sleep(50);
      await store.set("contested", "local");
      await store.set("breaker:x", { state: "open" }, 60_000);
      await store.addToWindow("budget", "retries", 3, 60_000);
      await fleet.set("contested", "fleet");
      await fleet.addToWindow("budget", "retries", 1, 60_000);
      proxy.mode = "pass";
      // ioredis reconnects in the background; the first operation that reaches Redis re-syncs.
      const deadline = Date.now() + 5000;
      while (store.degraded && Date.now() < deadline) {
        await store.get("anything");
        await sleep(50);
      }
      expect(store.degraded).toBe(false);
      await sleep(100);
      expect(await fleet.get("contested")).toBe("fleet");
      expect(await fleet.get("breaker:x")).toEqual({ state: "open" });
      expect(await admin.pttl(`${keyPrefix}v:breaker:x`)).toBeGreaterThan(50_000);
      expect(await fleet.addToWindow("budget", "retries", 0, 60_000)).toEqual({ retries: 4 });
      expect(await store.get("contested")).toBe("fleet");
      expect(warnings.map((warning) => warning.code)).toEqual([
        "state-store-unreachable",
        "state-store-recovered",
      ]);
    } finally {
      await proxy.close();
    }
  });

  it("Redis killed mid-run: operations keep answering within the bound, then Redis is used again", async () => {
    const store = open({ commandTimeoutMs: 100, retryIntervalMs: 100 });
    const warnings = collect(store);
    let slowest = 0;
    let operations = 0;
    let failures = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        const started = Date.now();
        try {
          await Promise.all([
            store.update<number>("count", (n) => (n ?? 0) + 1),
            store.getMany(["breaker", "cooldown"]),
            store.addToWindow("budget", "requests", 1, 10_000),
          ]);
          operations++;
        } catch {
          failures++;
        }
        slowest = Math.max(slowest, Date.now() - started);
        await sleep(5);
      }
    })();
    await sleep(200);
    expect(store.degraded).toBe(false);
    await server.kill();
    await sleep(600);
    expect(store.degraded).toBe(true);
    const duringOutage = operations;
    await server.restart();
    const deadline = Date.now() + 8000;
    while (store.degraded && Date.now() < deadline) await sleep(50);
    await sleep(200);
    running = false;
    await loop;

    expect(failures).toBe(0);
    expect(operations).toBeGreaterThan(duringOutage);
    // Every operation answered within the bound (plus scheduling slack), none hung.
    expect(slowest).toBeLessThan(500);
    expect(store.degraded).toBe(false);
    expect(warnings.filter((warning) => warning.code === "state-store-unreachable")).toHaveLength(
      1,
    );
    expect(warnings.filter((warning) => warning.code === "state-store-recovered")).toHaveLength(1);
    // Back on Redis: the fresh server holds the counter (pushed by re-sync, then incremented).
    const fresh = new Redis(server.url);
    try {
      const keys = await fresh.keys("*v:count");
      expect(keys.length).toBe(1);
      expect(Number(await fresh.get(keys[0]!))).toBeGreaterThan(0);
    } finally {
      fresh.disconnect();
    }
  }, 30_000);

  it("accepts a password in the URL and leaves a user-supplied client open", async () => {
    await admin.config("SET", "requirepass", "s3cret");
    try {
      const store = open({ url: `redis://:s3cret@127.0.0.1:${server.port}` });
      const warnings = collect(store);
      await store.set("k", "v");
      expect(await store.get("k")).toBe("v");
      expect(warnings).toEqual([]);
      await store.close();
      expect(store.client.status).toBe("end");

      const client = new Redis(`redis://:s3cret@127.0.0.1:${server.port}`, { keyPrefix: "app:" });
      const shared = new RedisStateStore({ client, keyPrefix: "rc:" });
      await shared.set("breaker:a", 1);
      await shared.set("other", 2);
      expect(await shared.entries("breaker:")).toEqual([["breaker:a", 1]]);
      expect(await client.get("rc:v:breaker:a")).toBe("1"); // ioredis adds "app:"
      await shared.close();
      expect(client.status).toBe("ready");
      client.disconnect();
    } finally {
      await admin.config("SET", "requirepass", "");
    }
  });

  it("validates its options", () => {
    expect(() => new RedisStateStore({ commandTimeoutMs: 0, client: admin })).toThrow(
      /commandTimeoutMs.*0/,
    );
  });
});
