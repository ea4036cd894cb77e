// `node bench/gateway/ab.mjs [--dists=dist,/tmp/other-dist[::--node-flag]] [--modes=json,stream]
//   [--concurrency=1,16] [--rounds=3] [--seconds=3] [--warmup=700] [--floor]
//   [--node-args="--trace-gc"] [--log=DIR] [--wrap="strace -f -c -o FILE"]`
// A quick interleaved A/B of gateway builds (and optionally the pass-through floor) in front of
// the gateway suite's fake upstream: req/s, p50/p99/p99.9 (added to the direct path of the same
// round), CPU per request and RSS of each gateway process, medians over rounds. For iterating on
// the gateway's own overhead; `npm run bench -- --suites=gateway` is the record. `--log` keeps
// each gateway's output (e.g. with `--node-args=--trace-gc`) in DIR/<name>.log.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR } from "../lib/proc.mjs";
import { cpuMs, KEY, load, rssMB, startGateway, startProcess, UPSTREAM_KEY } from "./suite.mjs";

const args = process.argv.slice(2);
const opt = (name, d) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? d : a.slice(name.length + 3);
};
const dists = opt("dists", join(BENCH_DIR, "../dist")).split(",");
const modes = opt("modes", "json,stream").split(",");
const concurrencies = opt("concurrency", "1,16").split(",").map(Number);
const rounds = Number(opt("rounds", 3));
const seconds = Number(opt("seconds", 3));
const warmupMs = Number(opt("warmup", 700));
const nodeArgs = opt("node-args", "").split(" ").filter(Boolean);
const logDir = opt("log");
// A command the gateway runs under (e.g. `--wrap="strace -f -c -o /tmp/gw.strace"`): its CPU
// and RSS columns then describe the wrapper, not the gateway.
const wrap = opt("wrap", "").split(" ").filter(Boolean);
if (logDir) mkdirSync(logDir, { recursive: true });

const BODIES = {
  json: { model: "gpt-4o-mini", messages: [{ role: "user", content: "What is 2+2?" }] },
  stream: {
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "What is 2+2?" }],
    stream: true,
    stream_options: { include_usage: true },
  },
};
const CHECK = { json: "four", stream: "[DONE]" };

const upstream = await startProcess(
  process.execPath,
  [join(BENCH_DIR, "gateway/fake-upstream.mjs")],
  /READY (\S+)/,
);
const contestants = [{ name: "direct", url: upstream.url, headers: {} }];
const started = [];
try {
  if (args.includes("--floor")) {
    const floor = await startProcess(
      process.execPath,
      [join(BENCH_DIR, "gateway/passthrough-proxy.mjs"), upstream.url],
      /READY (\S+)/,
    );
    started.push(floor);
    contestants.push({
      name: "floor",
      url: floor.url,
      pid: floor.pid,
      headers: { authorization: `Bearer ${UPSTREAM_KEY}` },
    });
  }
  for (const [i, entry] of dists.entries()) {
    // `DIR::--flag --flag`: node flags for this build only (e.g. a V8 heap setting).
    const [dist, own = ""] = entry.split("::");
    const name = `gw${i}`;
    const file = logDir ? join(logDir, `${name}.log`) : undefined;
    if (file) writeFileSync(file, "");
    const gateway = await startGateway(dist, upstream.url, {
      nodeArgs: [...nodeArgs, ...own.split(" ").filter(Boolean)],
      wrap,
      name: `ab-${name}`,
      output: file ? (c) => appendFileSync(file, c) : undefined,
    });
    started.push(gateway);
    contestants.push({
      name,
      dist: entry,
      file,
      url: gateway.url,
      pid: gateway.pid,
      headers: { authorization: `Bearer ${KEY}` },
    });
  }
  for (const c of contestants) if (c.dist) console.log(`${c.name}: ${c.dist}`);
  const median = (v) => {
    const s = v.filter(Number.isFinite).sort((a, b) => a - b);
    return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)];
  };
  for (const mode of modes) {
    for (const concurrency of concurrencies) {
      const rows = new Map(contestants.map((c) => [c.name, []]));
      for (let round = 0; round < rounds; round++) {
        let direct;
        for (const c of contestants) {
          if (c.file) appendFileSync(c.file, `\n=== ${mode} c=${concurrency} round ${round}\n`);
          const before = c.pid ? cpuMs(c.pid) : undefined;
          const r = await load({
            url: `${c.url}/v1/chat/completions`,
            headers: c.headers,
            body: BODIES[mode],
            check: CHECK[mode],
            concurrency,
            seconds,
            warmupMs,
          });
          const after = c.pid ? cpuMs(c.pid) : undefined;
          r.cpu = before === undefined ? Number.NaN : (after - before) / r.requests;
          r.rss = c.pid ? rssMB(c.pid) : Number.NaN;
          if (c.name === "direct") direct = r;
          r.addedP50 = r.p50 - direct.p50;
          r.addedP99 = r.p99 - direct.p99;
          r.addedP999 = r.p999 - direct.p999;
          if (r.errors) console.log(`${c.name}: ${r.errors} errors: ${r.firstError}`);
          rows.get(c.name).push(r);
        }
      }
      console.log(`\n${mode} c=${concurrency} (medians of ${rounds} × ${seconds} s)`);
      console.log(
        "            req/s   +p50 ms  +p99 ms +p99.9 ms  cpu ms/req  rss MB   (per round +p99)",
      );
      for (const [name, list] of rows) {
        const m = (k) => median(list.map((r) => r[k]));
        console.log(
          `${name.padEnd(8)} ${m("rps").toFixed(0).padStart(8)} ${m("addedP50").toFixed(2).padStart(9)} ${m("addedP99").toFixed(2).padStart(8)} ${m("addedP999").toFixed(2).padStart(9)} ${m("cpu").toFixed(3).padStart(11)} ${m("rss").toFixed(0).padStart(7)}   (${list.map((r) => r.addedP99.toFixed(2)).join(" ")})`,
        );
      }
    }
  }
} finally {
  await Promise.all(started.map((s) => s.stop()));
  await upstream.stop();
}
