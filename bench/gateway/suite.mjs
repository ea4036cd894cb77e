// `npm run bench -- --suites=gateway`: the gateway (`retry-client serve`, every resilience
// feature on) against a bare node:http pass-through proxy (the floor for any Node gateway) and
// Portkey's open-source gateway, pinned, installed on demand into bench/.cache — all in front of
// the same fake upstream that answers at once. Each contestant and the load generator run in
// processes of their own; "added" is the contestant minus the direct path, run by run.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { BENCH_DIR } from "../lib/proc.mjs";

/**
 * Portkey versions to try, in order: 1.13.5 is the one whose streaming works (the issue's
 * figures); the npm registry reachable here serves only 1.9.8 and 1.15.2, and 1.15.2 answers
 * streams with a 500 — a probe finds that out and its stream cells are then not run.
 */
export const PORTKEY_VERSIONS = ["1.13.5", "1.15.2"];
export const PORTKEY_VERSION = PORTKEY_VERSIONS[0];
const CONCURRENCY = [1, 16, 64];
export const KEY = "bench-gateway-key";
export const UPSTREAM_KEY = "sk-bench-upstream";

/** What the issue recorded for Portkey 1.13.5 on this kind of machine, when it cannot run here. */
export const PORTKEY_RECORDED = {
  source: "issue 15 (2 cores, Node 20, medians of 3)",
  json: { rps: [878, 1459, 1336] },
  stream: { rps: [35, 540, 1346] },
};

export function startProcess(command, args, ready, env = {}, { output } = {}) {
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not start: ${err.slice(-500)}`));
    }, 20_000);
    child.stderr.on("data", (c) => {
      err += c;
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited ${code}: ${err.slice(-500)}`));
    });
    const onData = (c) => {
      out += c;
      const m = ready.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      if (output) {
        output(out);
        child.stdout.on("data", output);
        child.stderr.on("data", output);
      }
      child.stdout.resume();
      resolve({
        url: m[1],
        pid: child.pid,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 5000).unref();
          }),
      });
    };
    child.stdout.on("data", onData);
  });
}

/** utime + stime of a process, in ms (Linux /proc; undefined elsewhere). */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

export function rssMB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return undefined;
  }
}

export function load(options) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(BENCH_DIR, "gateway/load.mjs"), JSON.stringify(options)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}`));
      resolve(JSON.parse(out.trim().split("\n").pop()));
    });
  });
}

/**
 * Starts `retry-client serve` from the build in `dist` in front of `upstreamUrl`, with every
 * resilience feature on. `nodeArgs` go to its node (e.g. `--cpu-prof`); `name` keeps the copies
 * of several builds apart.
 */
export function startGateway(
  dist,
  upstreamUrl,
  { nodeArgs = [], name = "gateway", output, wrap = [] } = {},
) {
  const dir = join(BENCH_DIR, ".cache");
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "gateway-bench.json");
  writeFileSync(
    config,
    JSON.stringify({
      providers: {
        openai: { apiKey: UPSTREAM_KEY, baseURL: `${upstreamUrl}/v1` },
        anthropic: { apiKey: UPSTREAM_KEY, baseURL: upstreamUrl },
      },
      defaultProvider: "openai",
      // Every resilience feature on: retries, breaker, retry budget, a fallback target.
      fallbackModels: [["anthropic", "claude-sonnet-4-5-20250929"]],
      gateway: { keys: [KEY] },
    }),
  );
  // The CLI reads its version from ../../package.json: give the dist snapshot one.
  const pkg = join(dir, `${name}-package`);
  rmSync(pkg, { recursive: true, force: true });
  cpSync(dist, join(pkg, "dist"), { recursive: true });
  cpSync(join(BENCH_DIR, "../package.json"), join(pkg, "package.json"));
  return startProcess(
    wrap[0] ?? process.execPath,
    [
      ...(wrap.length > 0 ? [...wrap.slice(1), process.execPath] : []),
      ...nodeArgs,
      join(pkg, "dist/cli/main.js"),
      "serve",
      "--port",
      "0",
      "--config",
      config,
      "--state",
      "memory",
    ],
    /listening on (\S+)/,
    { OPENAI_API_KEY: "", ANTHROPIC_API_KEY: "", XDG_CONFIG_HOME: dir },
    { output },
  );
}

/** Installs Portkey's gateway into bench/.cache (once); returns its start script or a reason. */
function installPortkey(log, version) {
  const dir = join(BENCH_DIR, ".cache", `portkey-${version}`);
  const pkg = join(dir, "node_modules/@portkey-ai/gateway/package.json");
  if (!existsSync(pkg)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), '{"private":true}\n');
    log(`installing @portkey-ai/gateway@${version} into ${dir}`);
    const r = spawnSync(
      "npm",
      ["install", "--no-audit", "--no-fund", "--no-save", `@portkey-ai/gateway@${version}`],
      { cwd: dir, encoding: "utf8", timeout: 300_000 },
    );
    if (r.status !== 0 || !existsSync(pkg)) {
      const why = (r.stderr || r.stdout || "").split("\n").find((l) => /ERR|error/.test(l)) ?? "";
      return {
        reason: `npm could not install @portkey-ai/gateway@${version}: ${why.trim()}`,
      };
    }
  }
  const meta = JSON.parse(readFileSync(pkg, "utf8"));
  const bin = typeof meta.bin === "string" ? meta.bin : Object.values(meta.bin ?? {})[0];
  if (!bin) return { reason: "the installed package has no start script (bin)" };
  return { script: join(dir, "node_modules/@portkey-ai/gateway", bin), version };
}

const median = (values) => {
  const v = values.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

export async function runGateway({ quick, dist, log, only }) {
  const seconds = quick ? 1.5 : 3;
  const runs = quick ? 1 : 3;
  const notes = [];
  const loadBefore = loadavg()[0];
  const upstream = await startProcess(
    process.execPath,
    [join(BENCH_DIR, "gateway/fake-upstream.mjs")],
    /READY (\S+)/,
  );
  const contestants = [];
  const started = [];
  try {
    contestants.push({
      id: "direct",
      label: "direct (no proxy)",
      url: upstream.url,
      headers: {},
      pid: undefined,
    });
    const want = (id) => !only || only.includes(id);
    if (want("floor")) {
      const floor = await startProcess(
        process.execPath,
        [join(BENCH_DIR, "gateway/passthrough-proxy.mjs"), upstream.url],
        /READY (\S+)/,
      );
      started.push(floor);
      contestants.push({
        id: "floor",
        label: "bare node:http pass-through (floor)",
        url: floor.url,
        headers: { authorization: `Bearer ${UPSTREAM_KEY}` },
        pid: floor.pid,
      });
    }
    if (want("retry-client")) {
      const gateway = await startGateway(dist, upstream.url);
      started.push(gateway);
      contestants.push({
        id: "retry-client",
        label: "retry-client serve",
        url: gateway.url,
        headers: { authorization: `Bearer ${KEY}` },
        pid: gateway.pid,
      });
    }
    let portkey = { reason: "not selected" };
    if (want("portkey")) {
      const reasons = [];
      for (const version of PORTKEY_VERSIONS) {
        portkey = installPortkey(log, version);
        if (portkey.script) break;
        reasons.push(portkey.reason);
      }
      if (!portkey.script) portkey = { reason: reasons.join("; ") };
      if (portkey.script) {
        try {
          const port = 20_000 + Math.floor(Math.random() * 20_000);
          const server = await startProcess(
            process.execPath,
            [portkey.script, `--port=${port}`],
            /(http:\/\/\S+:\d+)/,
            { PORT: String(port) },
          );
          started.push(server);
          contestants.push({
            id: "portkey",
            label: `@portkey-ai/gateway ${portkey.version}`,
            url: `http://127.0.0.1:${port}`,
            headers: {
              authorization: `Bearer ${UPSTREAM_KEY}`,
              "x-portkey-config": JSON.stringify({
                provider: "openai",
                api_key: UPSTREAM_KEY,
                custom_host: `${upstream.url}/v1`,
                retry: { attempts: 3 },
              }),
            },
            pid: server.pid,
          });
        } catch (error) {
          portkey = { reason: `it did not start: ${error.message.slice(0, 200)}` };
        }
      }
      if (!portkey.script || !contestants.some((c) => c.id === "portkey")) {
        const message = `Portkey skipped: ${portkey.reason}. Its row shows the numbers recorded in ${PORTKEY_RECORDED.source}.`;
        log(message);
        notes.push(message);
      }
    }

    const modes = [
      {
        id: "json",
        path: "/v1/chat/completions",
        body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "What is 2+2?" }] },
        check: "four",
      },
      {
        id: "stream",
        path: "/v1/chat/completions",
        body: {
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: "What is 2+2?" }],
          stream: true,
          stream_options: { include_usage: true },
        },
        check: "[DONE]",
      },
    ];
    // A contestant that cannot serve a mode at all (Portkey 1.15.2 answers every stream with a
    // 500) is not timed in it: its errors would read as requests per second.
    for (const c of contestants) {
      if (c.id !== "portkey") continue;
      for (const mode of modes) {
        const response = await fetch(`${c.url}${mode.path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...c.headers },
          body: JSON.stringify(mode.body),
        }).catch((error) => ({ status: 0, text: async () => String(error) }));
        const text = await response.text();
        if (response.status !== 200 || !text.includes(mode.check)) {
          c.skip ??= new Set();
          c.skip.add(mode.id);
          const message = `${c.label} is not timed on ${mode.id}: a probe got ${response.status} ${text.slice(0, 80)}`;
          log(message);
          notes.push(message);
        }
      }
    }
    const raw = {};
    for (const mode of modes) {
      for (const concurrency of CONCURRENCY) {
        for (let run = 0; run < runs; run++) {
          for (const c of contestants) {
            if (c.skip?.has(mode.id)) continue;
            const before = c.pid ? cpuMs(c.pid) : undefined;
            const r = await load({
              url: `${c.url}${mode.path}`,
              headers: c.headers,
              body: mode.body,
              check: mode.check,
              concurrency,
              seconds,
              warmupMs: quick ? 300 : 700,
            });
            const after = c.pid ? cpuMs(c.pid) : undefined;
            r.cpuMsPerRequest =
              before !== undefined && after !== undefined && r.requests > 0
                ? (after - before) / r.requests
                : null;
            r.rssMB = c.pid ? rssMB(c.pid) : null;
            if (r.errors > 0)
              log(`${c.id} ${mode.id} c=${concurrency}: ${r.errors} errors (${r.firstError})`);
            const key = `${c.id}/${mode.id}/${concurrency}`;
            raw[key] ??= [];
            raw[key].push(r);
            log(
              `${mode.id} c=${concurrency} run ${run + 1}: ${c.id.padEnd(12)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50?.toFixed(2)} ms  p99 ${r.p99?.toFixed(2)} ms  ttfb p50 ${r.ttfbP50?.toFixed(2)} ms  cpu ${r.cpuMsPerRequest?.toFixed(3) ?? "-"} ms/req`,
            );
          }
        }
      }
    }
    // Medians over runs; "added" is per run against the direct path of the same run.
    const table = {};
    for (const c of contestants) {
      for (const mode of modes) {
        for (const [i, concurrency] of CONCURRENCY.entries()) {
          const mine = raw[`${c.id}/${mode.id}/${concurrency}`] ?? [];
          const direct = raw[`direct/${mode.id}/${concurrency}`] ?? [];
          const cell = {
            rps: median(mine.map((r) => r.rps)),
            p50: median(mine.map((r) => r.p50)),
            p99: median(mine.map((r) => r.p99)),
            addedP50: median(mine.map((r, k) => r.p50 - (direct[k]?.p50 ?? Number.NaN))),
            addedP99: median(mine.map((r, k) => r.p99 - (direct[k]?.p99 ?? Number.NaN))),
            addedTtfbP50: median(
              mine.map((r, k) => r.ttfbP50 - (direct[k]?.ttfbP50 ?? Number.NaN)),
            ),
            cpuMsPerRequest: median(mine.map((r) => r.cpuMsPerRequest)),
            rssMB: median(mine.map((r) => r.rssMB)),
            errors: mine.reduce((s, r) => s + r.errors, 0),
          };
          table[c.id] ??= { label: c.label, json: [], stream: [] };
          table[c.id][mode.id][i] = cell;
        }
      }
    }
    return {
      loadAverage: [loadBefore, loadavg()[0]],
      seconds,
      runs,
      concurrency: CONCURRENCY,
      portkeyVersion: portkey.version ?? PORTKEY_VERSION,
      portkeyRecorded: PORTKEY_RECORDED,
      notes,
      table,
    };
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    await upstream.stop();
  }
}
