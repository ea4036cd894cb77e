// Child: one routing scenario (throttling, hedging, least-busy, latency) against an in-process
// simulator with a real per-key rate limit and a latency table. Real time throughout.
import { performance } from "node:perf_hooks";
import { quantile } from "../lib/stats.mjs";

const o = JSON.parse(process.argv[2]);
const lib = await import(`${o.dist}/index.node.js`);
const { startSimulator } = await import(`${o.dist}/simulator/index.js`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A seeded PRNG (mulberry32) so every run offers the same load. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Three deployments of one model: three providers with their own key on the simulator. */
function deployments(sim, names = ["key-a", "key-b", "key-c"]) {
  const providers = {};
  for (const name of names) providers[name] = { apiKey: name, baseURL: sim.openaiBaseURL };
  return providers;
}

// 429s the simulator sent (a wait on a cooldown is recorded as "skipped" with status 429: not counted).
const count429 = (attempts) =>
  attempts.filter((a) => a.outcome === "error" && a.status === 429).length;

async function throttling() {
  const seconds = o.quick ? 15 : 60;
  const limit = { requests: 20, tokens: 10_000, windowMs: 1000 };
  const sim = await startSimulator({
    rateLimit: limit,
    latency: { "*": 50 },
    maxLogEntries: 200_000,
  });
  const client = new lib.RetryClient({
    env: {},
    providers: deployments(sim),
    groups: {
      pool: {
        targets: [
          ["key-a", "gpt-4o"],
          ["key-b", "gpt-4o"],
          ["key-c", "gpt-4o"],
        ],
      },
    },
    fallbackModels: [],
    throttling: o.throttling,
    retry: { maxRetries: 20, baseDelayMs: 100, maxDelayMs: 1000 },
    retryBudget: false,
  });
  // Offered load: Poisson arrivals at 2× one key's request limit; requests of two sizes (80 %
  // ask for 200 output tokens, 20 % for 1500), so tokens too run at ~2× one key's limit.
  const random = rng(7);
  const rate = 2 * limit.requests;
  const calls = [];
  const started = performance.now();
  let offered = 0;
  let offeredTokens = 0;
  for (let t = 0; t < seconds * 1000; ) {
    t += (-Math.log(1 - random()) / rate) * 1000;
    const wait = started + t - performance.now();
    if (wait > 0) await sleep(wait);
    const maxTokens = random() < 0.8 ? 200 : 1500;
    offered++;
    offeredTokens += maxTokens;
    calls.push(
      client
        .complete([lib.Message.user(`request ${offered}: say hello`)], { model: "pool", maxTokens })
        .then(
          (r) => ({
            ok: true,
            provider: r.provider,
            r429: count429(r.attempts),
            waits: r.attempts.filter((a) => a.outcome === "skipped").length,
          }),
          (e) => ({
            ok: false,
            r429: count429(e.attempts ?? []),
            error: String(e.message).slice(0, 120),
          }),
        ),
    );
  }
  const results = await Promise.all(calls);
  const elapsedS = (performance.now() - started) / 1000;
  const shares = {};
  for (const r of results) if (r.ok) shares[r.provider] = (shares[r.provider] ?? 0) + 1;
  const counts = Object.values(shares);
  const refusedBy = {};
  for (const e of sim.requests())
    if (e.status === 429) refusedBy[e.fault] = (refusedBy[e.fault] ?? 0) + 1;
  await sim.close();
  return {
    throttling: o.throttling,
    seconds,
    elapsedS,
    limit,
    offered,
    offeredPerSecond: offered / seconds,
    offeredTokensPerSecond: offeredTokens / seconds,
    succeeded: results.filter((r) => r.ok).length,
    received429: results.reduce((n, r) => n + r.r429, 0),
    refusedBy,
    callsThatWaited: results.filter((r) => r.waits > 0).length,
    shares,
    shareSpread: counts.length
      ? (Math.max(...counts) - Math.min(...counts)) / Math.max(...counts)
      : 1,
    errors: [...new Set(results.filter((r) => !r.ok).map((r) => r.error))].slice(0, 3),
  };
}

async function closedLoop(n, concurrency, fn) {
  let next = 0;
  const out = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out.push(await fn(i));
      }
    }),
  );
  return out;
}

async function hedging() {
  const n = o.quick ? 600 : 2000;
  const concurrency = 16;
  const latency = o.slowdown
    ? { "*": 1000 }
    : {
        "*": [
          { ms: 100, share: 0.95 },
          { ms: 5000, share: 0.05 },
        ],
      };
  const sim = await startSimulator({ latency, maxLogEntries: 100 });
  const client = new lib.RetryClient({
    env: {},
    providers: { openai: { apiKey: "sk-bench", baseURL: sim.openaiBaseURL } },
    defaultProvider: "openai",
    defaultModel: "gpt-4o",
    fallbackModels: [],
    hedge: o.hedge ? { afterMs: o.afterMs, budget: 0.1 } : false,
  });
  const requests = o.slowdown ? Math.min(n, 400) : n;
  const started = performance.now();
  const rows = await closedLoop(requests, concurrency, async () => {
    const t = performance.now();
    const r = await client.complete([lib.Message.user("hi")]);
    return {
      ms: performance.now() - t,
      upstream: r.attempts.length,
      hedged: r.attempts.some((a) => a.outcome === "cancelled"),
    };
  });
  const elapsedS = (performance.now() - started) / 1000;
  const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
  const upstream = rows.reduce((s, r) => s + r.upstream, 0);
  await sim.close();
  return {
    hedge: o.hedge,
    slowdown: !!o.slowdown,
    afterMs: o.afterMs,
    requests,
    concurrency,
    elapsedS,
    p50: quantile(ms, 0.5),
    p95: quantile(ms, 0.95),
    p99: quantile(ms, 0.99),
    max: ms[ms.length - 1],
    upstream,
    extraShare: (upstream - requests) / requests,
  };
}

async function leastBusy() {
  const n = o.quick ? 3000 : 10_000;
  const concurrency = 64;
  // Members answer at different speeds: least-busy must still keep their in-flight counts even.
  const latency = {
    "*": [
      { ms: 20, share: 0.6 },
      { ms: 80, share: 0.3 },
      { ms: 300, share: 0.1 },
    ],
  };
  const sim = await startSimulator({ latency, maxLogEntries: 100 });
  const inFlight = { "key-a": 0, "key-b": 0, "key-c": 0 };
  let samples = 0;
  let within = 0;
  let worst = 0;
  let startSamples = 0;
  let startWithin = 0;
  const sample = (atStart) => {
    const v = Object.values(inFlight);
    const spread = Math.max(...v) - Math.min(...v);
    samples++;
    if (spread <= 2) within++; // every member within ±1 of the mean
    worst = Math.max(worst, spread);
    if (atStart) {
      startSamples++;
      if (spread <= 2) startWithin++;
    }
  };
  const client = new lib.RetryClient({
    env: {},
    providers: deployments(sim),
    groups: {
      pool: {
        targets: [
          ["key-a", "gpt-4o"],
          ["key-b", "gpt-4o"],
          ["key-c", "gpt-4o"],
        ],
      },
    },
    fallbackModels: [],
    instrumentation: [
      {
        onAttemptStart: (e) => {
          inFlight[e.target.provider]++;
          sample(true);
        },
        onAttemptEnd: (e) => {
          inFlight[e.target.provider]--;
          sample(false);
        },
      },
    ],
  });
  const started = performance.now();
  await closedLoop(n, concurrency, () =>
    client.complete([lib.Message.user("hi")], { model: "pool" }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  await sim.close();
  return {
    requests: n,
    concurrency,
    elapsedS,
    samples,
    withinOne: within / samples,
    worstSpread: worst,
    withinOneAtStarts: startWithin / startSamples,
  };
}

async function latencyStrategy() {
  const scale = o.quick ? 0.25 : 1;
  const slowAt = 10_000 * scale;
  const recoverAt = 40_000 * scale;
  const endAt = 60_000 * scale;
  const bucketMs = 5000 * scale;
  const sim = await startSimulator({ latency: { "*": 100 }, maxLogEntries: 100 });
  const client = new lib.RetryClient({
    env: {},
    providers: deployments(sim),
    groups: {
      pool: {
        strategy: "latency",
        targets: [
          ["key-a", "gpt-4o-a"],
          ["key-b", "gpt-4o-b"],
          ["key-c", "gpt-4o-c"],
        ],
      },
    },
    fallbackModels: [],
  });
  const buckets = [];
  const started = performance.now();
  const timeline = (async () => {
    await sleep(slowAt);
    sim.setLatency({ "*": 100, "gpt-4o-a": 500 });
    await sleep(recoverAt - slowAt);
    sim.setLatency({ "*": 100 });
  })();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() - started < endAt) {
        const r = await client.complete([lib.Message.user("hi")], { model: "pool" });
        const b = Math.floor((performance.now() - started) / bucketMs);
        buckets[b] ??= { total: 0, a: 0 };
        buckets[b].total++;
        if (r.provider === "key-a") buckets[b].a++;
      }
    }),
  );
  await timeline;
  await sim.close();
  const share = (from, to) => {
    let total = 0;
    let a = 0;
    for (let b = Math.floor(from / bucketMs); b < Math.floor(to / bucketMs); b++) {
      total += buckets[b]?.total ?? 0;
      a += buckets[b]?.a ?? 0;
    }
    return total ? a / total : 0;
  };
  const before = share(0, slowAt);
  const slow = share(slowAt + bucketMs, recoverAt); // from 5 s (scaled) after the slowdown
  const after = share(recoverAt + bucketMs, endAt);
  return {
    scale,
    timelineS: { slowAt: slowAt / 1000, recoverAt: recoverAt / 1000, end: endAt / 1000 },
    bucketS: bucketMs / 1000,
    sharePerBucket: buckets.map((b) => (b ? Math.round((b.a / b.total) * 1000) / 1000 : null)),
    shareBefore: before,
    shareWhileSlow: slow,
    movedOff: before > 0 ? 1 - slow / before : 0,
    shareAfterRecovery: after,
  };
}

const scenarios = { throttling, hedging, leastBusy, latencyStrategy };
const result = await scenarios[o.scenario]();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
