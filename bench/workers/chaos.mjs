// Child: one contestant through the chaos timeline. Sends streamed requests at a fixed rate
// (open loop: a slow client does not get fewer requests), each tagged `req-<i>` so the
// simulator's log can be grouped per logical request. Prints one JSON line per-request results.
import { performance } from "node:perf_hooks";
import { makeContestant } from "../lib/contestants.mjs";

const o = JSON.parse(process.argv[2]);
const c = await makeContestant(o.id, { ...o, chaos: true });
const total = Math.round((o.durationMs / 1000) * o.ratePerSecond);
const results = [];
const t0 = performance.now();
const sleepUntil = (t) =>
  new Promise((r) => setTimeout(r, Math.max(0, t - (performance.now() - t0))));

const pending = [];
for (let i = 0; i < total; i++) {
  await sleepUntil((i * 1000) / o.ratePerSecond);
  const startMs = performance.now() - t0;
  const p = c
    .stream(`req-${i}: tell me something`)
    .then(
      (r) =>
        r.text === o.expectText
          ? { ok: true }
          : { ok: false, error: `wrong text (${r.text.length} of ${o.expectText.length} chars)` },
      (error) => ({
        ok: false,
        error: `${error?.name ?? "Error"}: ${String(error?.message ?? error).slice(0, 160)}`,
      }),
    )
    .then((r) => {
      results[i] = { i, startMs, latencyMs: performance.now() - t0 - startMs, ...r };
    });
  pending.push(p);
}
// Bounded: whatever has not settled after the grace period counts as a failure.
await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, o.graceMs))]);
for (let i = 0; i < total; i++)
  results[i] ??= { i, ok: false, error: "unfinished after the grace period" };
process.stdout.write(`${JSON.stringify({ total, results })}\n`);
process.exit(0);
