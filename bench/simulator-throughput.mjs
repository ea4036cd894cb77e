// Simulator throughput: run `npm run build` first, then `node bench/simulator-throughput.mjs [seconds] [concurrency]`.
// Client and server share this process (one core), so the server alone does better than this.
import { measureThroughput } from "../dist/simulator/throughput.js";

const seconds = Number(process.argv[2] ?? 3);
const concurrency = Number(process.argv[3] ?? 32);
for (const [wire, stream] of [
  ["openai", false],
  ["anthropic", false],
  ["openai", true],
]) {
  const r = await measureThroughput({ seconds, concurrency, wire, stream });
  console.log(
    `${wire.padEnd(9)} ${stream ? "stream    " : "non-stream"}  ${Math.round(r.requestsPerSecond)} requests/s  (${r.requests} ok, ${r.errors} errors in ${r.seconds.toFixed(1)} s, concurrency ${concurrency})`,
  );
}
