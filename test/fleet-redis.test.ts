/**
 * A fleet sharing state through Redis (SPEC §5, §8): four processes, one breaker. Against a
 * simulator target that is down, the fleet's attempts on it stay near `failureThreshold`, not four
 * times it, and every request is still answered by the fallback. And a Redis that dies mid-run
 * is never the thing that fails a request.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryClient } from "../src/client/retry-client.js";
import { RedisStateStore } from "../src/redis.js";
import { type Simulator, startSimulator } from "../src/simulator/index.js";
import type { Warning } from "../src/types.js";
import { type RedisServer, redisAvailability, startRedis } from "./helpers/redis.js";

const root = resolve(import.meta.dirname, "..");
const availability = redisAvailability();
const PROCESSES = 4;
const REQUESTS = 10;
const THRESHOLD = 3;

/** One fleet member: sends REQUESTS calls through a client whose state lives in Redis. */
const worker = `
  const { RetryClient, Message } = await import(${JSON.stringify(`${root}/dist/index.node.js`)});
  const { RedisStateStore } = await import(${JSON.stringify(`${root}/dist/redis.js`)});
  const [redisUrl, keyPrefix, openaiURL, anthropicURL] = process.argv.slice(1);
  const store = new RedisStateStore({ url: redisUrl, keyPrefix, commandTimeoutMs: 1000 });
  const client = new RetryClient({
    env: {},
    stateStore: store,
    providers: { openai: { apiKey: "k", baseURL: openaiURL }, anthropic: { apiKey: "k", baseURL: anthropicURL } },
    defaultProvider: "openai",
    defaultModel: "gpt-4o~503",
    fallbackModels: [["anthropic", "claude-sonnet-4-5-20250929"]],
    retry: { maxRetries: 0 },
    circuitBreaker: { failureThreshold: ${THRESHOLD}, minResetTimeoutMs: 30000, resetTimeoutMs: 30000 },
  });
  const answered = [];
  for (let i = 0; i < ${REQUESTS}; i++) {
    const res = await client.complete([Message.user("hi")]);
    answered.push(res.provider);
    await new Promise((r) => setTimeout(r, 5));
  }
  await store.close();
  console.log(JSON.stringify(answered));
`;

function runWorker(args: string[]): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", worker, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) =>
      code === 0
        ? resolvePromise(JSON.parse(out))
        : reject(new Error(`worker exited ${code}: ${err}`)),
    );
  });
}

describe.runIf(availability.available || availability.mustFail)(
  "a fleet sharing one breaker through Redis",
  () => {
    let redis: RedisServer;
    let sim: Simulator;

    beforeAll(async () => {
      if (availability.mustFail) throw new Error(availability.reason);
      if (!existsSync(resolve(root, "dist/index.node.js"))) {
        execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
      }
      [redis, sim] = await Promise.all([startRedis(), startSimulator()]);
    }, 120_000);

    afterAll(async () => {
      await sim?.close();
      await redis?.stop();
    });

    it("trips once for everyone: attempts on the down target stay near the threshold", async () => {
      const keyPrefix = `fleet:${Date.now()}:`;
      const results = await Promise.all(
        Array.from({ length: PROCESSES }, () =>
          runWorker([redis.url, keyPrefix, sim.openaiBaseURL, sim.anthropicBaseURL]),
        ),
      );
      const answered = results.flat();
      expect(answered).toHaveLength(PROCESSES * REQUESTS);
      expect(answered.every((provider) => provider === "anthropic")).toBe(true);
      const downAttempts = sim.requests().filter((r) => r.model?.startsWith("gpt-4o")).length;
      console.log(
        `attempts on the down target: ${downAttempts} (threshold ${THRESHOLD}, ${PROCESSES} processes)`,
      );
      // Alone, each process would spend THRESHOLD attempts: 12. Shared, the breaker opens after the
      // fleet's third consecutive failure; only requests already in flight then can add to it.
      expect(downAttempts).toBeGreaterThanOrEqual(THRESHOLD);
      expect(downAttempts).toBeLessThanOrEqual(THRESHOLD + PROCESSES - 1);
    }, 60_000);
  },
);

describe.runIf(availability.available || availability.mustFail)("Redis dies mid-run", () => {
  let redis: RedisServer;
  let sim: Simulator;

  beforeAll(async () => {
    if (availability.mustFail) throw new Error(availability.reason);
    [redis, sim] = await Promise.all([startRedis({ ownServer: true }), startSimulator()]);
  });

  afterAll(async () => {
    await sim?.close();
    await redis?.stop();
  });

  it("requests keep succeeding on local state, with one warning, and Redis is used again when back", async () => {
    const warnings: Warning[] = [];
    const store = new RedisStateStore({ url: redis.url, keyPrefix: `kill:${Date.now()}:` });
    const client = new RetryClient({
      env: {},
      stateStore: store,
      onWarning: (warning) => warnings.push(warning),
      providers: { openai: { apiKey: "k", baseURL: sim.openaiBaseURL } },
      defaultProvider: "openai",
      defaultModel: "gpt-4o",
    });
    const ask = () => client.chat("hi");
    for (let i = 0; i < 5; i++) expect(await ask()).toContain("simulator");
    await redis.kill();
    const slowest = { ms: 0 };
    for (let i = 0; i < 20; i++) {
      const started = Date.now();
      expect(await ask()).toContain("simulator");
      slowest.ms = Math.max(slowest.ms, Date.now() - started);
    }
    // Each store operation is bounded (100 ms); a request makes a few, some in parallel.
    expect(slowest.ms).toBeLessThan(1000);
    expect(warnings.filter((w) => w.code === "state-store-unreachable")).toHaveLength(1);
    await redis.restart();
    await new Promise((r) => setTimeout(r, 1500)); // the store reconnects in the background
    for (let i = 0; i < 5; i++) expect(await ask()).toContain("simulator");
    expect(store.degraded).toBe(false);
    await store.close();
  }, 30_000);
});

describe.skipIf(availability.available || availability.mustFail)("fleet (skipped)", () => {
  it.skip(`needs Redis: ${availability.reason}`, () => {});
});
