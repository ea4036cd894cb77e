/**
 * Issue 12, items 12 and 15 (store side): a Redis at maxmemory (reads work, writes fail with
 * OOM) gives one warning per outage, and close() on a server with a wrong password or one that
 * does not speak RESP lets the process exit at once.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Message } from "../src/message.js";
import { RedisStateStore } from "../src/redis.js";
import type { Warning } from "../src/types.js";
import { hostileServer, openAIClient } from "./helpers/hostile.js";
import { type RedisServer, redisAvailability, startRedis } from "./helpers/redis.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const redis = redisAvailability({ needsOwnServer: true });

describe.skipIf(!redis.available && !redis.mustFail)("item 12: Redis at maxmemory", () => {
  if (redis.mustFail) {
    it("needs a redis-server under CI", () => {
      throw new Error(`CI=true but ${redis.reason}`);
    });
    return;
  }
  let server: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedis({ ownServer: true });
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it("item 8: Retry-After 1e308 stores a capped cooldown in Redis, with no false warning", async () => {
    let calls = 0;
    const api = await hostileServer((_req, res) => {
      calls++;
      res.writeHead(calls === 1 ? 429 : 200, {
        "content-type": "application/json",
        ...(calls === 1 ? { "retry-after": "1e308" } : {}),
      });
      res.end(
        calls === 1
          ? JSON.stringify({ error: { message: "slow down" } })
          : JSON.stringify({ choices: [{ message: { content: "ok" }, finish_reason: "stop" }] }),
      );
    });
    const warnings: Warning[] = [];
    const store = new RedisStateStore({ url: server.url, keyPrefix: "ra:" });
    const client = openAIClient(api, {
      stateStore: store,
      maxRetryAfterMs: 2000,
      onWarning: (w) => warnings.push(w),
    });
    try {
      await client.complete([Message.user("hi")]).catch(() => {});
      const key = client.stateKey({ provider: "openai", model: "gpt-4o" });
      const ttl = await admin.pttl(`ra:v:cooldown:${key}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2000);
      await client.resetCircuits();
      expect((await client.complete([Message.user("hi")])).content).toBe("ok");
      expect(warnings).toEqual([]);
    } finally {
      await store.close();
      await api.close();
    }
  });

  it("reads ok, writes OOM: one warning for the whole outage, one when it ends", async () => {
    const warnings: Warning[] = [];
    const store = new RedisStateStore({
      url: server.url,
      keyPrefix: "oom:",
      retryIntervalMs: 100,
      onWarning: (w) => warnings.push(w),
    });
    await store.set("breaker:a", { state: "closed" });
    await admin.config("SET", "maxmemory-policy", "noeviction");
    await admin.config("SET", "maxmemory", "1");
    try {
      // Two seconds of a request's mix: reads (which Redis still answers) and writes (OOM).
      const until = Date.now() + 2000;
      let operations = 0;
      while (Date.now() < until) {
        await store.getMany(["breaker:a", "cooldown:a"]);
        await store.update("cooldown:b", () => ({ until: Date.now() + 60_000 }), 60_000);
        await store.addToWindow("budget:a", "requests", 1, 10_000);
        await store.get("breaker:a");
        operations += 4;
        await sleep(10);
      }
      expect(operations).toBeGreaterThan(40);
      // Before: 11 warnings in 6 s (unreachable / recovered pairs, one per read that worked).
      expect(warnings.map((w) => w.code)).toEqual(["state-store-unreachable"]);
      expect(store.degraded).toBe(true);
    } finally {
      await admin.config("SET", "maxmemory", "0");
    }
    // Writes work again: the next write probe ends the outage, once.
    const until = Date.now() + 2000;
    while (store.degraded && Date.now() < until) {
      await store.get("breaker:a");
      await sleep(20);
    }
    expect(warnings.map((w) => w.code)).toEqual([
      "state-store-unreachable",
      "state-store-recovered",
    ]);
    // What was written locally during the outage, where Redis had nothing, reached Redis.
    await sleep(50);
    expect(await admin.get("oom:v:cooldown:b")).toContain("until");
    await store.close();
  });
});

describe("item 15: store.close() on a server that is not a usable Redis", () => {
  const entry = fileURLToPath(new URL("../dist/redis.js", import.meta.url));
  for (const kind of ["wrong password", "not RESP"] as const) {
    it(`${kind}: the process exits at once after close()`, async () => {
      const server = createServer((socket) => {
        socket.on("error", () => {});
        socket.on("data", () =>
          socket.write(
            kind === "wrong password"
              ? "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
              : "HTTP/1.1 400 Bad Request\r\n\r\n",
          ),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      const code = `
        import { RedisStateStore } from ${JSON.stringify(entry)};
        const store = new RedisStateStore({ url: "redis://:wrong@127.0.0.1:${port}" });
        await store.get("x");
        await new Promise((r) => setTimeout(r, 50));
        const closed = Date.now();
        await store.close();
        process.on("exit", () => console.log(Date.now() - closed));`;
      const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      await new Promise((resolve) => child.on("exit", resolve));
      server.close();
      const msFromCloseToExit = Number(out.trim());
      // Before: ioredis's 2 s disconnect timer kept the process alive (~2,300 ms).
      expect(msFromCloseToExit).toBeGreaterThanOrEqual(0);
      expect(msFromCloseToExit).toBeLessThan(500);
    });
  }
});
