// Child: retry-client (non-streaming) with one state store; CPU and latency per request, and for
// Redis the commands the server ran per request (INFO commandstats before and after).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { makeContestant } from "../lib/contestants.mjs";
import { quantile } from "../lib/stats.mjs";

const o = JSON.parse(process.argv[2]);
const lib = await import(`${o.dist}/index.node.js`);
let stateStore;
let dir;
let redis;
let storeClient;
const sent = new Map();
let writes = 0;
if (o.store === "memory") stateStore = new lib.MemoryStateStore();
else if (o.store === "file") {
  dir = mkdtempSync(join(tmpdir(), "retry-client-bench-"));
  stateStore = new lib.FileStateStore({ path: join(dir, "state.json") });
} else {
  const { RedisStateStore } = await import(`${o.dist}/redis.js`);
  const { Redis } = await import("ioredis");
  // Our own ioredis client (configured as the store configures the one it creates: with
  // auto-pipelining), so we can count what the store sends: commands by name, and round trips as
  // the writes on the socket (commands issued together go out in one write).
  storeClient = new Redis(o.redisUrl, { enableAutoPipelining: true });
  await new Promise((resolve) => storeClient.once("ready", resolve));
  const send = storeClient.sendCommand.bind(storeClient);
  storeClient.sendCommand = (command, stream) => {
    sent.set(command.name, (sent.get(command.name) ?? 0) + 1);
    return send(command, stream);
  };
  const socket = storeClient.stream;
  const write = socket.write.bind(socket);
  socket.write = (...args) => {
    writes++;
    return write(...args);
  };
  stateStore = new RedisStateStore({ client: storeClient, keyPrefix: `bench-${process.pid}:` });
  redis = new Redis(o.redisUrl);
}

/** Commands the Redis server has run so far, by name (INFO commandstats). */
async function commandStats() {
  const info = await redis.info("commandstats");
  const out = {};
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

const c = await makeContestant("retry-client", { ...o, stateStore });
async function phase(count, latencies) {
  let issued = 0;
  let errors = 0;
  let firstError;
  const worker = async () => {
    while (issued < count) {
      issued++;
      const t = performance.now();
      try {
        await c.complete("Hi");
        latencies?.push(performance.now() - t);
      } catch (error) {
        errors++;
        firstError ??= String(error?.message ?? error);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return { issued, errors, firstError };
}

await phase(o.warmup);
const before = redis ? await commandStats() : undefined;
sent.clear();
writes = 0;
const latencies = [];
const cpu0 = process.cpuUsage();
const r = await phase(o.requests, latencies);
const cpu = process.cpuUsage(cpu0);
let commandsPerRequest;
let clientCommands;
let roundTripsPerRequest;
let commands;
if (redis) {
  const after = await commandStats();
  commands = {};
  for (const [name, calls] of Object.entries(after)) {
    const d = calls - (before[name] ?? 0) - (name === "info" ? 1 : 0);
    if (d > 0) commands[name] = d / r.issued;
  }
  commandsPerRequest = Object.values(commands).reduce((s, x) => s + x, 0);
  clientCommands = Object.fromEntries([...sent].map(([name, n]) => [name, n / r.issued]));
  roundTripsPerRequest = writes / r.issued;
}
await c.client.close();
await stateStore.close?.();
redis?.disconnect();
storeClient?.disconnect();
if (dir) rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({
    requests: r.issued - r.errors,
    errors: r.errors,
    firstError: r.firstError,
    cpuUsPerRequest: (cpu.user + cpu.system) / r.issued,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    redisRoundTripsPerRequest: roundTripsPerRequest,
    redisClientCommands: clientCommands,
    redisServerCommandsPerRequest: commandsPerRequest,
    redisServerCommands: commands,
  })}\n`,
);
process.exit(0);
