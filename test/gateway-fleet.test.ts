/**
 * Two gateway processes sharing a real redis-server (`--state redis://…`) behave as one: the
 * breaker one of them opens is open for the other (no upstream call), and when the open period
 * ends exactly one half-open probe goes out across both.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../src/simulator/index.js";
import { postJson, type ServeProcess, spawnServe } from "./helpers/gateway.js";
import { type RedisServer, redisAvailability, startRedis } from "./helpers/redis.js";

const root = resolve(import.meta.dirname, "..");
const BIN = join(root, "dist/cli/main.js");
const availability = redisAvailability();
const KEY = "gw-fleet-key";
const auth = { authorization: `Bearer ${KEY}` };
const OPEN_MS = 1500;

describe.runIf(availability.available || availability.mustFail)(
  "two gateways sharing Redis",
  () => {
    let redis: RedisServer;
    let sim: Simulator;
    let a: ServeProcess;
    let b: ServeProcess;

    beforeAll(async () => {
      if (availability.mustFail) throw new Error(availability.reason);
      if (!existsSync(BIN)) execFileSync("npm", ["run", "build", "--silent"], { cwd: root });
      [redis, sim] = await Promise.all([startRedis(), startSimulator()]);
      const home = mkdtempSync(join(tmpdir(), "rc-fleet-"));
      const config = join(home, "config.json");
      writeFileSync(
        config,
        JSON.stringify({
          providers: { openai: { apiKey: "sk-fleet", baseURL: sim.openaiBaseURL } },
          defaultProvider: "openai",
          fallbackModels: [],
          retry: { maxRetries: 0 },
          circuitBreaker: {
            failureThreshold: 2,
            successThreshold: 1,
            minResetTimeoutMs: OPEN_MS,
            resetTimeoutMs: OPEN_MS,
          },
          gateway: { keys: [KEY] },
        }),
      );
      const env = { XDG_CONFIG_HOME: home, XDG_STATE_HOME: home };
      const args = ["--port", "0", "--config", config, "--state", `${redis.url}/0`];
      [a, b] = await Promise.all([spawnServe(BIN, args, env), spawnServe(BIN, args, env)]);
    }, 120_000);

    afterAll(async () => {
      for (const p of [a, b]) {
        p?.child.kill("SIGTERM");
        await p?.exited;
      }
      await sim?.close();
      await redis?.stop();
    });

    const ask = (gateway: ServeProcess) =>
      postJson(
        gateway.url,
        "/v1/chat/completions",
        {
          model: "gpt-4o",
          messages: [{ role: "user", content: "Hi" }],
        },
        auth,
      );

    it("a breaker opened through one gateway is open in the other; one probe goes out in total", async () => {
      // Both gateways answer once while the target is healthy (their Redis connections are up).
      expect((await ask(a)).status).toBe(200);
      expect((await ask(b)).status).toBe(200);
      sim.setScenario({ models: { "gpt-4o": [{ fault: "500" }] } });
      expect((await ask(a)).status).toBe(502);
      expect((await ask(a)).status).toBe(502);
      const opened = Date.now();
      expect(sim.requests()).toHaveLength(4);

      // Gateway B never failed a request itself: it sees A's open breaker and calls nobody.
      const fromB = await ask(b);
      expect(fromB.status).toBe(503);
      expect(JSON.parse(fromB.body).error.message).toMatch(/circuit openai(@\w+)?:gpt-4o is open/);
      expect(fromB.headers["retry-after"]).toBeDefined();
      expect(sim.requests()).toHaveLength(4);

      // The target recovers but answers slowly: the probe is in flight while the others arrive.
      sim.setScenario({ models: { "gpt-4o": [{ fault: "slow-800ms" }] } });
      await new Promise((r) => setTimeout(r, Math.max(0, opened + OPEN_MS + 100 - Date.now())));
      const before = sim.requests().length;
      const burst = await Promise.all([ask(a), ask(b), ask(a), ask(b), ask(a), ask(b)]);
      const statuses = burst.map((r) => r.status).sort();
      expect(sim.requests().length - before).toBe(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 503)).toHaveLength(5);
      // The probe succeeded: both gateways now use the target again.
      expect((await ask(b)).status).toBe(200);
      expect((await ask(a)).status).toBe(200);
    }, 30_000);
  },
);
