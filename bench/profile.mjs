// `node bench/profile.mjs [contestant] [--stream] [--concurrency=64] [--requests=N] [--dist=DIR] [--save=LABEL]`
// Runs one overhead cell under `node --cpu-prof` and prints where the client's CPU goes: self
// time by function and by file (dist/ files named as their src/ twins). Profiles land in
// bench/results/profiles/ (not committed). Builds like `npm run bench` when dist/ is stale;
// `--dist` profiles another build instead (e.g. one of `main`, for a before/after). `--save`
// keeps the top frames under LABEL in bench/results/profile-frames.json, which BENCHMARKS.md
// shows.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepareDist } from "./lib/dist.mjs";
import { BENCH_DIR, runChild, startSimulatorProcess } from "./lib/proc.mjs";
import { CHUNKS_PER_ANSWER, LONG_TEXT } from "./suites/overhead.mjs";

const args = process.argv.slice(2);
const id = args.find((a) => !a.startsWith("--")) ?? "retry-client";
const stream = args.includes("--stream");
const opt = (name, d) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? d);
const concurrency = opt("concurrency", 64);
const requests = opt("requests", stream ? 1500 : 15_000);
const dir = join(
  BENCH_DIR,
  "results/profiles",
  `${id}-${stream ? "stream" : "plain"}-c${concurrency}`,
);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const distArg = args.find((a) => a.startsWith("--dist="))?.split("=")[1];
const save = args.find((a) => a.startsWith("--save="))?.split("=")[1];
const dist = distArg ?? prepareDist();
const sim = await startSimulatorProcess({ text: LONG_TEXT, maxLogEntries: 100 });
let result;
try {
  result = await runChild(
    join(BENCH_DIR, "workers/overhead.mjs"),
    {
      id,
      url: sim.url,
      dist,
      stream,
      concurrency,
      requests,
      warmup: 200,
      maxSeconds: 60,
      expectChunks: CHUNKS_PER_ANSWER,
      expectChars: 200,
    },
    {
      // --no-inline: attribute time to the function that spends it, not to its inlining caller.
      nodeArgs: [
        "--cpu-prof",
        `--cpu-prof-dir=${dir}`,
        ...(args.includes("--no-inline") ? ["--no-turbo-inlining"] : []),
      ],
      timeoutMs: 180_000,
    },
  );
} finally {
  await sim.close();
}
console.log(
  `${id} ${stream ? "streaming" : "non-streaming"} c=${concurrency}: ${result.cpuUsPerRequest.toFixed(0)} µs/request (profiling on)`,
);

const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
const dt = new Map();
for (let i = 0; i < profile.samples.length; i++)
  dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
const total = [...dt.values()].reduce((s, x) => s + x, 0);
const byFn = new Map();
const byFile = new Map();
const short = (url) =>
  url
    .replace(/^file:\/\//, "")
    .replace(/.*\/node_modules\//, "node_modules/")
    .replace(/^\/.*\/dist[^/]*\//, "src/")
    .replace(/\.js$/, ".ts");
for (const node of profile.nodes) {
  const t = dt.get(node.id) ?? 0;
  if (t === 0) continue;
  const cf = node.callFrame;
  const where = cf.url ? short(cf.url) : `(${cf.functionName || "native"})`;
  const fn = `${cf.functionName || "(anonymous)"}  ${where}:${cf.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + t);
  byFile.set(where, (byFile.get(where) ?? 0) + t);
}
// Everything the process ran (warm-up and start-up included), spread over the requests it made.
const perRequest = (t) => t / (requests + 200);
const busy = total - (byFile.get("((idle))") ?? 0);
console.log(
  `busy ${(busy / 1000).toFixed(0)} ms in the profile, ≈ ${perRequest(busy).toFixed(0)} µs per request`,
);
const top = (m, n) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, t]) =>
        `  ${((t / busy) * 100).toFixed(1).padStart(5)} %  ${perRequest(t).toFixed(1).padStart(6)} µs/req  ${k}`,
    )
    .join("\n");
console.log(
  `\nSelf time (share of busy time, µs per request) by file (top 25):\n${top(byFile, 25)}`,
);
console.log(`\nSelf time by function (top 40):\n${top(byFn, 40)}`);

if (save) {
  const file = join(BENCH_DIR, "results/profile-frames.json");
  const saved = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const rows = (m, n) =>
    [...m]
      .filter(([k]) => k !== "((idle))" && !k.startsWith("(idle)"))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([frame, t]) => ({ frame, share: t / busy }));
  saved[`${save} ${stream ? "streaming" : "non-streaming"} c=${concurrency}`] = {
    label: save,
    stream,
    concurrency,
    at: new Date().toISOString(),
    cpuUsPerRequest: result.cpuUsPerRequest,
    byFile: rows(byFile, 12),
    byFunction: rows(byFn, 15),
  };
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`);
  console.log(`\nsaved under "${save}" in ${file}`);
}
