// Suite 2: chaos goodput. One fault timeline for every contestant, each against its own simulator.
import { CHAOS_CONTESTANTS } from "../lib/contestants.mjs";
import { BENCH_DIR, runChild, startSimulatorProcess } from "../lib/proc.mjs";
import { quantile } from "../lib/stats.mjs";

export const PRIMARY = "gpt-4o";
export const FALLBACK = "gpt-4o-mini";
const TEXT =
  "Hello! This is the retry-client simulator. Every word of this answer arrives as its own token.";

/** The timeline: full length 60 s, outage 20 s from 20 s; quick mode compresses it 4×. */
export function chaosPlan(quick) {
  const scale = quick ? 0.25 : 1;
  return {
    scale,
    durationMs: 60_000 * scale,
    outageFromMs: 20_000 * scale,
    outageUntilMs: 40_000 * scale,
    // Amplification "once the breaker is open": requests started this long into the outage.
    breakerSettleMs: 3000 * scale,
    ratePerSecond: 10,
    tokenDelayMs: 10,
    graceMs: quick ? 30_000 : 90_000,
    rates: { "429-retry-after-1s": 0.3, 503: 0.1, "cut-after-5": 0.1 },
  };
}

function scenario(plan) {
  return {
    name: "bench-chaos",
    description:
      "primary: 30% 429 (Retry-After 1 s), 10% 503, 10% streams cut after 5 tokens, one 503 outage; fallback healthy",
    clock: "first-request",
    seed: 42,
    models: {
      [PRIMARY]: [{ fault: "503", fromMs: plan.outageFromMs, untilMs: plan.outageUntilMs }],
    },
    chaos: { models: [PRIMARY], rates: plan.rates },
  };
}

/** `429-retry-after-1s` → 1000 (ms); undefined for faults without a wait. */
function retryAfterMs(fault) {
  const m = /^429-retry-after-(?:ms-)?(\d+(?:\.\d+)?)(ms|s)$/.exec(fault ?? "");
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}

/** Metrics of one contestant from its own results and its simulator's log. */
export function analyse(plan, results, log) {
  const byTag = new Map();
  for (const e of log) {
    const m = /req-(\d+)/.exec(JSON.stringify(e.body ?? ""));
    if (!m) continue;
    const i = Number(m[1]);
    if (!byTag.has(i)) byTag.set(i, []);
    byTag.get(i).push(e);
  }
  let violations = 0;
  let retriesAfter429 = 0;
  for (const entries of byTag.values()) {
    entries.sort((a, b) => a.time - b.time || a.id - b.id);
    entries.forEach((e, k) => {
      const wait = retryAfterMs(e.fault);
      if (wait === undefined) return;
      const next = entries.slice(k + 1).find((x) => x.model === e.model);
      if (!next) return;
      retriesAfter429++;
      // Arrival times are whole ms on one clock; a retry sent after the wait arrives >= wait later.
      if (next.time - e.time < wait) violations++;
    });
  }
  const attemptsOf = (r) => byTag.get(r.i)?.length ?? 0;
  const amplification = (rs) =>
    rs.length === 0 ? undefined : rs.reduce((s, r) => s + attemptsOf(r), 0) / rs.length;
  const inOutage = results.filter(
    (r) => r.startMs >= plan.outageFromMs && r.startMs < plan.outageUntilMs,
  );
  const afterBreaker = inOutage.filter(
    (r) => r.startMs >= plan.outageFromMs + plan.breakerSettleMs,
  );
  const ok = results.filter((r) => r.ok);
  const errors = {};
  for (const r of results) if (!r.ok) errors[r.error] = (errors[r.error] ?? 0) + 1;
  const lat = ok.map((r) => r.latencyMs);
  return {
    requests: results.length,
    succeeded: ok.length,
    successRate: ok.length / results.length,
    successRateOutsideOutage:
      results.filter((r) => r.ok && !inOutage.includes(r)).length /
      Math.max(1, results.length - inOutage.length),
    successRateInOutage: inOutage.filter((r) => r.ok).length / Math.max(1, inOutage.length),
    upstreamAttempts: log.filter((e) => /req-\d+/.test(JSON.stringify(e.body ?? ""))).length,
    amplification: amplification(results),
    amplificationOutage: amplification(inOutage),
    amplificationBreakerOpen: amplification(afterBreaker),
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    retriesAfter429,
    retryAfterViolations: violations,
    errors: Object.entries(errors)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([message, count]) => ({ message, count })),
  };
}

export async function runChaos({ quick, dist, log, only }) {
  const plan = chaosPlan(quick);
  const contestants = CHAOS_CONTESTANTS.filter(([id]) => !only || only.includes(id));
  // Each contestant gets its own simulator (own log, own clock); they run side by side, the load
  // is light (10 requests/s each).
  const rows = await Promise.all(
    contestants.map(async ([id, label]) => {
      const sim = await startSimulatorProcess({
        scenario: scenario(plan),
        text: TEXT,
        tokenDelayMs: plan.tokenDelayMs,
      });
      try {
        const out = await runChild(
          `${BENCH_DIR}workers/chaos.mjs`,
          {
            id,
            url: sim.url,
            dist,
            model: PRIMARY,
            fallbackModel: FALLBACK,
            durationMs: plan.durationMs,
            ratePerSecond: plan.ratePerSecond,
            graceMs: plan.graceMs,
            expectText: TEXT,
          },
          { timeoutMs: plan.durationMs + plan.graceMs + 30_000 },
        );
        const row = { id, label, ...analyse(plan, out.results, await sim.requests()) };
        log(
          `  ${id.padEnd(13)} success ${(row.successRate * 100).toFixed(1)}%  amplification ${row.amplification?.toFixed(2)} (outage ${row.amplificationOutage?.toFixed(2)}, breaker open ${row.amplificationBreakerOpen?.toFixed(2)})  p50 ${row.p50Ms?.toFixed(0)} ms p99 ${row.p99Ms?.toFixed(0)} ms  Retry-After violations ${row.retryAfterViolations}/${row.retriesAfter429}`,
        );
        return row;
      } catch (error) {
        log(`  ${id} failed: ${error.message}`);
        return { id, label, failed: true, error: error.message };
      } finally {
        await sim.close();
      }
    }),
  );
  return { plan, scenario: scenario(plan), rows };
}
