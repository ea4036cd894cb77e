// Suite 4: what each state store costs per request (retry-client, non-streaming, healthy answers).
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { BENCH_DIR, runChild, startSimulatorProcess } from "../lib/proc.mjs";

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Starts a throwaway redis-server on a free loopback port; undefined when none is installed. */
async function startRedis() {
  if (spawnSync("redis-server", ["--version"]).status !== 0) return undefined;
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 50; i++) {
    if (
      spawnSync("redis-cli", ["-p", String(port), "ping"])
        .stdout?.toString()
        .includes("PONG")
    ) {
      const version = /v=(\S+)/.exec(
        spawnSync("redis-server", ["--version"]).stdout.toString(),
      )?.[1];
      return {
        url: `redis://127.0.0.1:${port}`,
        version,
        stop: () =>
          new Promise((r) => {
            child.once("exit", r);
            child.kill("SIGTERM");
          }),
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  return undefined;
}

export async function runStores({ quick, dist, log }) {
  const sim = await startSimulatorProcess({ maxLogEntries: 100 });
  const redis = await startRedis();
  const rows = [];
  const n = quick ? 500 : 3000;
  try {
    for (const store of ["memory", "file", "redis"]) {
      for (const concurrency of [1, 16]) {
        if (store === "redis" && !redis) {
          rows.push({
            store,
            concurrency,
            skipped: "redis-server is not installed (scripts/ensure-redis.sh installs it)",
          });
          continue;
        }
        try {
          const r = await runChild(
            `${BENCH_DIR}workers/stores.mjs`,
            {
              store,
              url: sim.url,
              dist,
              redisUrl: redis?.url,
              requests: n,
              warmup: quick ? 100 : 300,
              concurrency,
            },
            { timeoutMs: 180_000 },
          );
          rows.push({ store, concurrency, ...r });
          log(
            `  ${store.padEnd(6)} c=${String(concurrency).padEnd(2)} ${r.cpuUsPerRequest.toFixed(0).padStart(5)} µs/req  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms${r.redisRoundTripsPerRequest !== undefined ? `  redis round trips/request ${r.redisRoundTripsPerRequest.toFixed(2)} ${JSON.stringify(r.redisClientCommands)} (server ran ${r.redisServerCommandsPerRequest.toFixed(2)} incl. inside scripts)` : ""}${r.errors ? `  errors ${r.errors}: ${r.firstError}` : ""}`,
          );
        } catch (error) {
          log(`  ${store} failed: ${error.message}`);
          rows.push({ store, concurrency, failed: true, error: error.message });
        }
      }
    }
  } finally {
    await redis?.stop();
    await sim.close();
  }
  return { redisVersion: redis?.version, rows };
}
