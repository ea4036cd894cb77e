// Suite 5: routing — proactive throttling, hedged requests, deployment-group strategies. Each
// scenario runs in a child of its own with an in-process simulator (real per-key rate limit and
// latency table); real time throughout.
import { BENCH_DIR, runChild } from "../lib/proc.mjs";
import { round } from "../lib/stats.mjs";

const WORKER = `${BENCH_DIR}workers/routing.mjs`;

export async function runRouting({ quick, dist, log }) {
  const run = async (label, arg, timeoutMs = 600_000) => {
    log(`${label} …`);
    try {
      const r = await runChild(WORKER, { dist, quick, ...arg }, { timeoutMs });
      log(`${label}: ${JSON.stringify(r).slice(0, 300)}`);
      return r;
    } catch (error) {
      log(`${label} failed: ${error.message}`);
      return { failed: true, error: String(error.message).slice(0, 300) };
    }
  };
  const throttleOn = await run("throttling on", { scenario: "throttling", throttling: true });
  const throttleOff = await run("throttling off", { scenario: "throttling", throttling: false });
  const hedgeOff = await run("heavy tail, no hedge", {
    scenario: "hedging",
    hedge: false,
    afterMs: 150,
  });
  const hedgeOn = await run("heavy tail, hedge after 150 ms", {
    scenario: "hedging",
    hedge: true,
    afterMs: 150,
  });
  const slowdown = await run("provider-wide slowdown, hedge after 150 ms", {
    scenario: "hedging",
    hedge: true,
    afterMs: 150,
    slowdown: true,
  });
  const leastBusy = await run("least-busy, 64 concurrent", { scenario: "leastBusy" });
  const latency = await run("latency strategy, one member 5x slower then recovered", {
    scenario: "latencyStrategy",
  });
  return { throttleOn, throttleOff, hedgeOff, hedgeOn, slowdown, leastBusy, latency };
}

const pct = (x) => (Number.isFinite(x) ? `${round(x * 100, 1)} %` : "–");
const ms = (x) => (Number.isFinite(x) ? `${round(x, 0)} ms` : "–");

/** The routing suite's targets, for the report. */
export function routingTargets(r) {
  const out = [];
  if (!r) return out;
  const { throttleOn: on, throttleOff: off, hedgeOff, hedgeOn, slowdown, leastBusy, latency } = r;
  if (on && off && !on.failed && !off.failed) {
    out.push({
      name: "routing: 429s received with throttling, as a share of throttling off",
      value: `${on.received429} vs ${off.received429} (${off.received429 ? pct(on.received429 / off.received429) : "–"})`,
      limit: "≤ 5 %",
      met: off.received429 > 0 && on.received429 <= 0.05 * off.received429,
    });
    out.push({
      name: "routing: success with throttling",
      value: pct(on.succeeded / on.offered),
      limit: "100 %",
      met: on.succeeded === on.offered,
    });
    out.push({
      name: "routing: keys' shares with throttling (max − min) / max",
      value: pct(on.shareSpread),
      limit: "≤ 10 %",
      met: on.shareSpread <= 0.1,
    });
  }
  if (hedgeOn && hedgeOff && !hedgeOn.failed && !hedgeOff.failed) {
    out.push({
      name: "routing: heavy-tail p99 with hedging (without)",
      value: `${ms(hedgeOn.p99)} (${ms(hedgeOff.p99)})`,
      limit: "≤ 400 ms",
      met: hedgeOn.p99 <= 400,
    });
    out.push({
      name: "routing: extra upstream requests from hedging",
      value: pct(hedgeOn.extraShare),
      limit: "≤ 10 %",
      met: hedgeOn.extraShare <= 0.1,
    });
  }
  if (slowdown && !slowdown.failed)
    out.push({
      name: "routing: extra requests during a provider-wide slowdown (hedge budget 10 %)",
      value: pct(slowdown.extraShare),
      limit: "≤ 10 %",
      met: slowdown.extraShare <= 0.1,
    });
  if (leastBusy && !leastBusy.failed)
    out.push({
      name: "routing: least-busy, in-flight counts within ±1 of the mean whenever a request starts (at every start or end)",
      value: `${pct(leastBusy.withinOneAtStarts)} (${pct(leastBusy.withinOne)}, worst max − min ${leastBusy.worstSpread})`,
      limit: "all",
      met: leastBusy.withinOneAtStarts === 1,
    });
  if (latency && !latency.failed) {
    out.push({
      name: "routing: latency strategy, traffic moved off the 5× slower member",
      value: pct(latency.movedOff),
      limit: "≥ 80 %",
      met: latency.movedOff >= 0.8,
    });
    out.push({
      name: "routing: latency strategy, share back after recovery",
      value: pct(latency.shareAfterRecovery),
      limit: "> share while slow",
      met: latency.shareAfterRecovery > latency.shareWhileSlow,
    });
  }
  return out;
}

/** The routing section of BENCHMARKS.md. */
export function routingSection(r) {
  if (!r) return [];
  const { throttleOn: on, throttleOff: off, hedgeOff, hedgeOn, slowdown, leastBusy, latency } = r;
  const lines = ["## 5. Routing", ""];
  const failed = (x) => (x?.failed ? `failed: ${x.error}` : undefined);
  lines.push(
    "Each scenario runs in a child process of its own: the client from `dist/` and the simulator (`startSimulator` with `rateLimit` and `latency`) in that process, **real time**. Load is seeded, so every run offers the same requests.",
    "",
    "### Proactive throttling",
    "",
  );
  if (on && off && !on.failed && !off.failed) {
    lines.push(
      `A group of three keys (\`least-busy\`), each limited by the simulator to ${on.limit.requests} requests and ${on.limit.tokens} tokens per ${on.limit.windowMs} ms window (charged at admission: input estimate + \`max_tokens\`, as the providers do). Offered load: Poisson arrivals for ${on.seconds} s at ${round(on.offeredPerSecond, 1)} requests/s and ${round(on.offeredTokensPerSecond, 0)} tokens/s — about 2× one key's limit on both — with 80 % of requests asking for 200 output tokens and 20 % for 1500. Every call may retry (20 retries, no retry budget) so that success is not the difference; answers take 50 ms.`,
      "",
      "| throttling | requests | succeeded | 429s received | calls that waited (for a reset or a cooldown) | answers per key | spread (max − min) / max |",
      "|---|--:|--:|--:|--:|---|--:|",
      ...[on, off].map(
        (x) =>
          `| ${x.throttling ? "on (default)" : "off"} | ${x.offered} | ${x.succeeded} | ${x.received429} | ${x.callsThatWaited} | ${Object.entries(
            x.shares,
          )
            .map(([k, v]) => `${k} ${v}`)
            .join(", ")} | ${pct(x.shareSpread)} |`,
      ),
      "",
    );
  } else lines.push(failed(on) ?? failed(off) ?? "not run", "");
  lines.push("### Hedged requests", "");
  if (hedgeOn && hedgeOff && !hedgeOn.failed && !hedgeOff.failed) {
    lines.push(
      `One target whose answers take 100 ms (95 %) or 5 s (5 %), drawn per request; ${hedgeOn.requests} calls, ${hedgeOn.concurrency} at a time. Hedge: \`{ afterMs: ${hedgeOn.afterMs}, maxHedges: 1, budget: 0.1 }\` — alone in its chain, the target hedges on itself. The slowdown row: every answer takes 1 s.`,
      "",
      "| run | calls | p50 | p95 | p99 | max | upstream requests | extra |",
      "|---|--:|--:|--:|--:|--:|--:|--:|",
      ...[
        ["heavy tail, no hedge", hedgeOff],
        ["heavy tail, hedged", hedgeOn],
        ["every request slow (1 s), hedged", slowdown],
      ]
        .filter(([, x]) => x && !x.failed)
        .map(
          ([label, x]) =>
            `| ${label} | ${x.requests} | ${ms(x.p50)} | ${ms(x.p95)} | ${ms(x.p99)} | ${ms(x.max)} | ${x.upstream} | ${pct(x.extraShare)} |`,
        ),
      "",
    );
  } else lines.push(failed(hedgeOn) ?? failed(hedgeOff) ?? "not run", "");
  lines.push("### Group strategies", "");
  if (leastBusy && !leastBusy.failed)
    lines.push(
      `\`least-busy\`: three members, ${leastBusy.concurrency} calls in flight at all times (${leastBusy.requests} calls), answers taking 20 ms (60 %), 80 ms (30 %) or 300 ms (10 %). In-flight counts per member from the \`instrumentation\` listeners (attempt start → end), sampled at every event. Whenever a request started (the moment the strategy acts), every member was within ±1 of the mean (max − min ≤ 2) in ${pct(leastBusy.withinOneAtStarts)} of the samples; counting the samples taken when requests ended too, ${pct(leastBusy.withinOne)} of ${leastBusy.samples} — several answers from one member can land in the same turn of the event loop before the next calls start, and the worst max − min seen then was ${leastBusy.worstSpread}.`,
      "",
    );
  if (latency && !latency.failed)
    lines.push(
      `\`latency\`: three members answering in 100 ms, 16 calls in flight; member a turns 5× slower (500 ms) at ${latency.timelineS.slowAt} s and recovers at ${latency.timelineS.recoverAt} s; run ends at ${latency.timelineS.end} s. Share of answers from a: ${pct(latency.shareBefore)} before, ${pct(latency.shareWhileSlow)} from ${latency.bucketS} s after the slowdown to the recovery (${pct(latency.movedOff)} of its traffic moved off), ${pct(latency.shareAfterRecovery)} from ${latency.bucketS} s after the recovery. Per ${latency.bucketS} s bucket: ${latency.sharePerBucket.map((x) => (x === null ? "–" : pct(x))).join(", ")}.`,
      "",
    );
  return lines;
}
