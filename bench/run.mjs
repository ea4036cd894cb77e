// `npm run bench [-- --quick] [-- --suites=overhead,chaos,memory,stores,routing,gateway] [-- --only=retry-client,floor-http]`
// Builds dist/ if it is missing or older than src/, copies it to bench/.dist (so a rebuild by
// someone else cannot pull it away mid-run), runs the suites, and writes BENCHMARKS.md, the
// JSON results and the SVG chart.
import { execSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  gatewayTargets,
  renderGatewaySection,
  renderReadmeTable,
  spliceGatewaySection,
  spliceReadmeTable,
} from "./gateway/report.mjs";
import { runGateway } from "./gateway/suite.mjs";
import { prepareDist } from "./lib/dist.mjs";
import { machine, versions } from "./lib/machine.mjs";
import { BENCH_DIR } from "./lib/proc.mjs";
import { evaluateTargets, renderMarkdown, renderSvg } from "./lib/report.mjs";
import { runChaos } from "./suites/chaos.mjs";
import { runMemory } from "./suites/memory.mjs";
import { runOverhead } from "./suites/overhead.mjs";
import { runRouting } from "./suites/routing.mjs";
import { runStores } from "./suites/stores.mjs";

const ROOT = join(BENCH_DIR, "..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const pick = (name) =>
  args
    .find((a) => a.startsWith(`--${name}=`))
    ?.split("=")[1]
    .split(",");
const ALL_SUITES = ["overhead", "chaos", "memory", "stores", "routing", "gateway"];
const suites = pick("suites") ?? ALL_SUITES;
const only = pick("only");
const log = (line) => console.log(line);

const dist = prepareDist(log);

const git = (cmd) => {
  try {
    return execSync(`git ${cmd}`, { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
};
const results = {
  quick,
  startedAt: new Date().toISOString(),
  commit: `${git("rev-parse --short HEAD")}${git("status --porcelain -- src") ? " + uncommitted src/ changes" : ""}`,
  retryClientVersion: JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version,
  machine: machine(),
  versions: versions([
    "openai",
    "@anthropic-ai/sdk",
    "ai",
    "@ai-sdk/openai",
    "cockatiel",
    "p-retry",
    "ioredis",
  ]),
  notes: [],
};
const t0 = performance.now();
const runners = {
  overhead: runOverhead,
  chaos: runChaos,
  memory: runMemory,
  stores: runStores,
  routing: runRouting,
  gateway: runGateway,
};
const run = async (name) => {
  const t = performance.now();
  log(`== ${name}${quick ? " (quick)" : ""}`);
  results[name] = await runners[name]({ quick, dist, log: (l) => log(`[${name}] ${l}`), only });
  log(`== ${name}: ${((performance.now() - t) / 1000).toFixed(0)} s`);
};
if (quick && suites.includes("chaos")) {
  // Quick mode: the chaos run is mostly waiting (10 requests/s), so memory and stores run beside
  // it; overhead, which measures CPU, runs alone first.
  if (suites.includes("overhead")) await run("overhead");
  // Routing measures latency in real time: it runs alone, last.
  const rest = suites.filter(
    (s) => s !== "overhead" && s !== "chaos" && s !== "routing" && s !== "gateway",
  );
  await Promise.all([
    run("chaos"),
    (async () => {
      for (const name of rest) await run(name);
    })(),
  ]);
  if (suites.includes("routing")) await run("routing");
  // The gateway measures CPU and latency: alone too.
  if (suites.includes("gateway")) await run("gateway");
} else {
  for (const name of suites) await run(name);
}
results.finishedAt = new Date().toISOString();
if (!quick && pick("suites")) {
  // A full run of some suites keeps the other suites' figures from the last full run, saying so.
  try {
    const previous = JSON.parse(readFileSync(join(BENCH_DIR, "results", "latest.json"), "utf8"));
    for (const name of ALL_SUITES) {
      if (suites.includes(name) || !previous[name]) continue;
      results[name] = previous[name];
      results.notes.push(
        `Section "${name}" is carried over from the full run of ${previous.finishedAt} (commit ${previous.commit}); the other sections were measured in this run.`,
      );
    }
  } catch {}
}
results.seconds = (performance.now() - t0) / 1000;
results.targets = [...evaluateTargets(results), ...gatewayTargets(results.gateway)];

mkdirSync(join(BENCH_DIR, "results"), { recursive: true });
writeFileSync(
  join(BENCH_DIR, "results", quick ? "quick.json" : "latest.json"),
  `${JSON.stringify(results, null, 2)}\n`,
);
if (results.overhead) writeFileSync(join(BENCH_DIR, "results/overhead.svg"), renderSvg(results));
// The gateway has its own section (between markers) and a copy of its table in the README.
const gatewaySection = renderGatewaySection(results.gateway, results);
const markdown = renderMarkdown(results);
writeFileSync(
  join(ROOT, "BENCHMARKS.md"),
  gatewaySection ? spliceGatewaySection(markdown, gatewaySection) : markdown,
);
if (results.gateway && !quick && suites.includes("gateway")) {
  const readmePath = join(ROOT, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  writeFileSync(readmePath, spliceReadmeTable(readme, renderReadmeTable(results.gateway, results)));
}
log(`\nTargets (${results.seconds.toFixed(0)} s):`);
for (const t of results.targets)
  log(`  ${t.met ? "met   " : "MISSED"} ${t.name}: ${t.value} (${t.limit})`);
log("wrote BENCHMARKS.md, bench/results/");
