// Suite 1: overhead per request and per streamed chunk against a healthy simulator.
import { OVERHEAD_CONTESTANTS } from "../lib/contestants.mjs";
import { BENCH_DIR, runChild, startSimulatorProcess } from "../lib/proc.mjs";

/** 240 words: every streamed answer is 240 content chunks. */
export const LONG_TEXT = Array.from({ length: 240 }, (_, i) => `word${i}`).join(" ");
export const CHUNKS_PER_ANSWER = 240;
/** A request count no phase reaches in its time: the phase is bounded by time alone. */
const UNCOUNTED = 1e9;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};

export async function runOverhead({ quick, dist, log, only }) {
  // Full runs are timed, not counted: every contestant warms up for `warmupSeconds` (the JIT
  // compiles its hot path: thousands of requests for the fast ones) and is then measured for
  // `maxSeconds`, whatever it completes in that time. Quick runs count a few requests.
  const plan = quick
    ? { rounds: 1, maxSeconds: 4, nonStream: [300, 1000], stream: [40, 120], warmup: [100, 20] }
    : {
        rounds: 3,
        warmupSeconds: 2,
        maxSeconds: 3,
        nonStream: [UNCOUNTED, UNCOUNTED],
        stream: [UNCOUNTED, UNCOUNTED],
        warmup: [UNCOUNTED, UNCOUNTED],
      };
  const sim = await startSimulatorProcess({ text: LONG_TEXT, tokenDelayMs: 0, maxLogEntries: 100 });
  const worker = `${BENCH_DIR}workers/overhead.mjs`;
  const cell = (id, stream, concurrency, n) =>
    runChild(
      worker,
      {
        id,
        url: sim.url,
        dist,
        stream,
        concurrency,
        requests: n,
        warmup: stream ? plan.warmup[1] : plan.warmup[0],
        warmupSeconds: plan.warmupSeconds,
        maxSeconds: plan.maxSeconds,
        expectChunks: CHUNKS_PER_ANSWER,
        expectChars: 200,
      },
      { timeoutMs: ((plan.warmupSeconds ?? plan.maxSeconds) + plan.maxSeconds) * 3000 + 30_000 },
    );
  const rows = [];
  try {
    // Warm the simulator's own JIT first, so the first contestant is not measured against a cold server.
    await cell("floor-http", false, 16, quick ? 1000 : 5000);
    await cell("floor-http", true, 16, quick ? 100 : 400);
    const contestants = OVERHEAD_CONTESTANTS.filter(([id]) => !only || only.includes(id));
    for (const stream of [false, true]) {
      for (const [ci, concurrency] of [1, 64].entries()) {
        const n = (stream ? plan.stream : plan.nonStream)[ci];
        const runs = new Map();
        // Rounds interleave the contestants, so a slow patch of the machine hits all of them.
        for (let round = 0; round < plan.rounds; round++) {
          for (const [id] of contestants) {
            try {
              const r = await cell(id, stream, concurrency, n);
              runs.set(id, [...(runs.get(id) ?? []), r]);
            } catch (error) {
              log(`  ${id} failed: ${error.message}`);
            }
          }
        }
        for (const [id, label] of contestants) {
          const rs = runs.get(id) ?? [];
          if (rs.length === 0) {
            rows.push({ id, label, stream, concurrency, failed: true });
            continue;
          }
          // The round with the median CPU per request stands for the contestant.
          const cpu = median(rs.map((r) => r.cpuUsPerRequest));
          const r = rs.find((x) => x.cpuUsPerRequest === cpu);
          rows.push({
            id,
            label,
            stream,
            concurrency,
            ...r,
            roundsCpuUsPerRequest: rs.map((x) => x.cpuUsPerRequest),
          });
          log(
            `  ${stream ? "stream " : "plain  "} c=${String(concurrency).padEnd(2)} ${id.padEnd(19)} ${r.cpuUsPerRequest.toFixed(0).padStart(6)} µs/req  p50 ${r.p50Ms.toFixed(1)} ms  rss ${r.rssMiB.toFixed(0)} MiB${r.errors ? `  errors ${r.errors}: ${r.firstError?.split("\n")[0]}` : ""}`,
          );
        }
      }
    }
  } finally {
    await sim.close();
  }
  // Ratios to the floors, per (stream, concurrency).
  for (const row of rows) {
    const floor = (fid) =>
      rows.find(
        (r) => r.id === fid && r.stream === row.stream && r.concurrency === row.concurrency,
      );
    const http = floor("floor-http");
    const fetchF = floor("floor-fetch");
    if (!row.failed && http && !http.failed)
      row.vsHttpFloor = row.cpuUsPerRequest / http.cpuUsPerRequest;
    if (!row.failed && fetchF && !fetchF.failed)
      row.vsFetchFloor = row.cpuUsPerRequest / fetchF.cpuUsPerRequest;
  }
  return { plan, chunksPerAnswer: CHUNKS_PER_ANSWER, rows };
}
