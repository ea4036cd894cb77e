// Child: hold `n` streams open at once (the simulator stalls each after 2 tokens), then report RSS.
// Run with --expose-gc so both readings follow a full collection.
import { performance } from "node:perf_hooks";
import { makeContestant } from "../lib/contestants.mjs";

const o = JSON.parse(process.argv[2]);
const c = await makeContestant(o.id, { ...o, model: o.warmModel });
const stalled = await makeContestant(o.id, o);
// Warm up on healthy answers so both readings include the contestant's loaded code.
for (let i = 0; i < 20; i++) await c.stream("warm up");
globalThis.gc?.();
const mem = () => process.memoryUsage();
const before = mem();

let ready = 0;
let failed = 0;
let firstError;
const t0 = performance.now();
const deadline = t0 + o.maxSeconds * 1000;
const batch = 500;
for (let started = 0; started < o.n && performance.now() < deadline; started += batch) {
  const target = Math.min(o.n, started + batch);
  let batchReady = 0;
  await new Promise((resolve) => {
    for (let i = started; i < target; i++) {
      let seen = false;
      stalled
        .stream(`mem-${i}`, () => {
          if (seen) return;
          seen = true;
          ready++;
          if (++batchReady === target - started) resolve();
        })
        .catch((error) => {
          failed++;
          firstError ??= String(error?.message ?? error);
          if (!seen && ++batchReady === target - started) resolve();
        });
    }
    setTimeout(resolve, Math.max(0, deadline - performance.now()));
  });
}
const openMs = performance.now() - t0;
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 300));
globalThis.gc?.();
const after = mem();
const MiB = 2 ** 20;
process.stdout.write(
  `${JSON.stringify({
    streams: ready,
    failed,
    firstError,
    openMs,
    rssBeforeMiB: before.rss / MiB,
    rssMiB: after.rss / MiB,
    rssDeltaMiB: (after.rss - before.rss) / MiB,
    heapUsedMiB: after.heapUsed / MiB,
    kibPerStream: ready > 0 ? (after.rss - before.rss) / 1024 / ready : undefined,
  })}\n`,
);
// Exiting closes every socket; the simulator sees the clients go away.
process.exit(0);
