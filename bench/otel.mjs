// `node bench/otel.mjs [--rounds=3]`: the CPU the telemetry listeners add to one call, without
// the network's noise: `complete()` on an in-process provider that answers at once, with
//   none          no listener (the hot path checks one field and builds no event),
//   empty-list    instrumentation: [] (the same),
//   listener      one listener with no methods (events are built and dispatched),
//   otel-noop     openTelemetry() with the API's global no-op providers (no SDK registered),
//   otel-sdk      openTelemetry() on a real SDK tracer and meter (spans recorded, never exported).

import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, NoopSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { prepareDist } from "./lib/dist.mjs";

const rounds = Number(process.argv.find((a) => a.startsWith("--rounds="))?.split("=")[1] ?? 3);
const dist = prepareDist();
const { RetryClient } = await import(`${dist}/index.node.js`);
const { openTelemetry } = await import(`${dist}/otel/index.js`);

const response = {
  content: "hi",
  provider: "fake",
  model: "m",
  responseModel: "m",
  finishReason: "stop",
  rawFinishReason: "stop",
  toolCalls: [],
  usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
  requestId: "r",
  rateLimit: undefined,
};
const fake = {
  name: "fake",
  supportsPrefill: false,
  baseURL: "https://api.example.com/v1",
  complete: async () => response,
  stream: async function* () {},
  listModels: async () => [],
};
const client = (instrumentation) =>
  new RetryClient({
    env: {},
    defaultProvider: "fake",
    defaultModel: "m",
    providers: { fake },
    ...(instrumentation ? { instrumentation } : {}),
  });
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] });
const meterProvider = new MeterProvider();
const variants = {
  none: client(),
  "empty-list": client([]),
  listener: client([{}]),
  "otel-noop": client([openTelemetry()]),
  "otel-sdk": client([
    openTelemetry({ tracer: tracerProvider.getTracer("b"), meter: meterProvider.getMeter("b") }),
  ]),
};
const messages = [{ role: "user", content: "hi" }];
const run = async (c, n) => {
  for (let i = 0; i < n; i++) await c.complete(messages);
};
for (const c of Object.values(variants)) await run(c, 20_000);
const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, c] of Object.entries(variants)) {
    const n = 50_000;
    const t = process.cpuUsage();
    await run(c, n);
    const u = process.cpuUsage(t);
    results[name].push((u.user + u.system) / n);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const base = median(results.none);
console.log(`CPU per complete() on an in-process provider, median of ${rounds} rounds:`);
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(
    `  ${name.padEnd(11)} ${m.toFixed(2).padStart(6)} µs  (+${(m - base).toFixed(2)} µs over none)`,
  );
}
