// Child: one overhead measurement (one contestant, streaming or not, one concurrency).
// Prints a JSON line: CPU µs per request and per chunk, p50/p99 latency, RSS.
import { performance } from "node:perf_hooks";
import { makeContestant } from "../lib/contestants.mjs";
import { quantile } from "../lib/stats.mjs";

const o = JSON.parse(process.argv[2]);
const c = await makeContestant(o.id, o);
const prompt = "Say something long.";

async function one(latencies) {
  const t0 = performance.now();
  let chunks = 0;
  if (o.stream) {
    const r = await c.stream(prompt);
    // Clients may hand several content chunks to the reader at once (retry-client joins the
    // text of one network read): judge completeness by the text, count the chunks the server sent.
    if (r.text.length < o.expectChars) throw new Error(`short stream: ${r.text.length} chars`);
    chunks = o.expectChunks;
  } else {
    const text = await c.complete(prompt);
    if (typeof text !== "string" || text.length < o.expectChars)
      throw new Error(`short answer: ${String(text).length} chars`);
  }
  latencies?.push(performance.now() - t0);
  return chunks;
}

/** `count` requests, `concurrency` at a time, stopping early after `maxMs`. */
async function phase(count, maxMs, latencies) {
  let issued = 0;
  let chunks = 0;
  let errors = 0;
  let firstError;
  const stopAt = performance.now() + maxMs;
  const worker = async () => {
    while (issued < count && performance.now() < stopAt) {
      issued++;
      try {
        const n = await one(latencies);
        chunks += n;
      } catch (error) {
        errors++;
        firstError ??= String(error?.stack ?? error);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return { issued, chunks, errors, firstError };
}

await phase(o.warmup, (o.warmupSeconds ?? o.maxSeconds / 2) * 1000);
const latencies = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const r = await phase(o.requests, o.maxSeconds * 1000, latencies);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuUs = cpu.user + cpu.system;
const done = r.issued - r.errors;
process.stdout.write(
  `${JSON.stringify({
    requests: done,
    errors: r.errors,
    firstError: r.firstError,
    chunks: r.chunks,
    cpuUsPerRequest: cpuUs / r.issued,
    cpuUsPerChunk: r.chunks > 0 ? cpuUs / r.chunks : undefined,
    userUs: cpu.user / r.issued,
    systemUs: cpu.system / r.issued,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    requestsPerSecond: (r.issued / wallMs) * 1000,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  })}\n`,
);
process.exit(0);
