// `node bench/layers.mjs [--rounds=3]`: where retry-client's overhead over the bare node:http
// floor comes from, layer by layer (concurrency 64): its Node transport with hand parsing, then
// the OpenAI provider alone (request building, SSE decoding, response parsing), then the whole
// client (retries, breaker, budget, store, call bookkeeping).
import { join } from "node:path";
import { prepareDist } from "./lib/dist.mjs";
import { BENCH_DIR, runChild, startSimulatorProcess } from "./lib/proc.mjs";
import { CHUNKS_PER_ANSWER, LONG_TEXT } from "./suites/overhead.mjs";

const rounds = Number(process.argv.find((a) => a.startsWith("--rounds="))?.split("=")[1] ?? 3);
const LAYERS = ["floor-http", "layer-transport", "layer-provider", "retry-client"];
const dist = prepareDist();
const sim = await startSimulatorProcess({ text: LONG_TEXT, maxLogEntries: 100 });
try {
  for (const stream of [false, true]) {
    const cpu = new Map(LAYERS.map((id) => [id, []]));
    for (let r = 0; r < rounds; r++) {
      for (const id of LAYERS) {
        const out = await runChild(join(BENCH_DIR, "workers/overhead.mjs"), {
          id,
          url: sim.url,
          dist,
          stream,
          concurrency: 64,
          requests: stream ? 800 : 6000,
          warmup: stream ? 100 : 500,
          maxSeconds: 30,
          expectChunks: CHUNKS_PER_ANSWER,
          expectChars: 200,
        });
        cpu.get(id).push(out.cpuUsPerRequest);
      }
    }
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    console.log(
      `\n${stream ? "streaming (240 chunks)" : "non-streaming"}, concurrency 64, median of ${rounds}:`,
    );
    let previous;
    for (const id of LAYERS) {
      const m = med(cpu.get(id));
      const floor = med(cpu.get("floor-http"));
      console.log(
        `  ${id.padEnd(16)} ${m.toFixed(0).padStart(6)} µs/request  ${(m / floor).toFixed(2)}× floor${previous === undefined ? "" : `  +${(m - previous).toFixed(0)} µs over the layer below`}`,
      );
      previous = m;
    }
  }
} finally {
  await sim.close();
}
