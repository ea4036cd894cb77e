// `node bench/cell.mjs <ids> [--stream] [--concurrency=64] [--requests=N] [--warmup=N] [--rounds=3] [--dist=DIR]`
// A quick A/B of a few overhead contestants (comma-separated ids, the first one the reference),
// interleaved round by round against one simulator: CPU per request (user / system) and the
// ratio of the medians. `id@DIR` runs that contestant on another build (e.g. a copy of main's
// dist/ kept under node_modules/.ab/, where its imports resolve), to compare two builds.
// For iterating on the hot path; `npm run bench` is the record.
import { join } from "node:path";
import { prepareDist } from "./lib/dist.mjs";
import { BENCH_DIR, runChild, startSimulatorProcess } from "./lib/proc.mjs";
import { CHUNKS_PER_ANSWER, LONG_TEXT } from "./suites/overhead.mjs";

const args = process.argv.slice(2);
const opt = (name, d) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? d;
const ids = (args.find((a) => !a.startsWith("--")) ?? "floor-http,retry-client").split(
  /,(?![^{]*})/,
);
const stream = args.includes("--stream");
const concurrency = Number(opt("concurrency", 64));
const requests = Number(opt("requests", stream ? 1500 : 20_000));
const warmup = Number(opt("warmup", stream ? 500 : 5000));
const rounds = Number(opt("rounds", 3));
const dist = opt("dist") ?? prepareDist();
const sim = await startSimulatorProcess({ text: LONG_TEXT, tokenDelayMs: 0, maxLogEntries: 100 });
const cpu = new Map(ids.map((id) => [id, []]));
try {
  for (let round = 0; round < rounds; round++) {
    for (const id of ids) {
      const [contestant, build = dist] = id.split("@");
      const out = await runChild(
        join(BENCH_DIR, "workers/overhead.mjs"),
        {
          id: contestant,
          url: sim.url,
          dist: build,
          stream,
          concurrency,
          requests,
          warmup,
          maxSeconds: 120,
          expectChunks: CHUNKS_PER_ANSWER,
          expectChars: 200,
        },
        { timeoutMs: 600_000 },
      );
      cpu.get(id).push(out.cpuUsPerRequest);
      console.log(
        `  round ${round + 1} ${id.padEnd(20)} ${out.cpuUsPerRequest.toFixed(1).padStart(7)} µs/req (user ${out.userUs.toFixed(1)}, system ${out.systemUs.toFixed(1)})  rss ${out.rssMiB.toFixed(0)} MiB${out.errors ? `  errors ${out.errors}` : ""}`,
      );
    }
  }
} finally {
  await sim.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const reference = median(cpu.get(ids[0]));
console.log(
  `\n${stream ? "streaming" : "non-streaming"}, concurrency ${concurrency}, median of ${rounds}:`,
);
for (const [id, xs] of cpu) {
  const m = median(xs);
  console.log(
    `  ${id.padEnd(20)} ${m.toFixed(1).padStart(7)} µs/req  ${(m / reference).toFixed(2)}×`,
  );
}
