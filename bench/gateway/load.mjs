// The load generator, in its own process: `concurrency` keep-alive connections sending the same
// request back to back for `seconds`. Prints one JSON line: requests, errors, req/s, latency
// (to the end of the body) and time to the first body byte, in ms.
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

const o = JSON.parse(process.argv[2]);
const url = new URL(o.url);
const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
const body = JSON.stringify(o.body);
const headers = {
  "content-type": "application/json",
  "content-length": Buffer.byteLength(body),
  ...o.headers,
};
const latencies = [];
const firstBytes = [];
let errors = 0;
let firstError;
let requests = 0;

function once() {
  return new Promise((resolve) => {
    const start = performance.now();
    let first = 0;
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers, agent },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => {
          if (first === 0) first = performance.now();
          if (o.check) text += c;
        });
        res.on("end", () => {
          const end = performance.now();
          const ok = res.statusCode === 200 && (!o.check || text.includes(o.check));
          if (!ok) {
            errors += 1;
            firstError ??= `${res.statusCode} ${text.slice(0, 200)}`;
          } else {
            latencies.push(end - start);
            firstBytes.push(first - start);
          }
          resolve();
        });
      },
    );
    req.on("error", (e) => {
      errors += 1;
      firstError ??= e.message;
      resolve();
    });
    req.end(body);
  });
}

async function worker(until) {
  while (performance.now() < until) {
    await once();
    requests += 1;
  }
}

// Warm-up, then the measured window.
const warm = performance.now() + (o.warmupMs ?? 500);
await Promise.all(Array.from({ length: o.concurrency }, () => worker(warm)));
latencies.length = 0;
firstBytes.length = 0;
errors = 0;
requests = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: o.concurrency }, () => worker(t0 + o.seconds * 1000)));
const elapsed = (performance.now() - t0) / 1000;
const q = (values, p) => {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
};
console.log(
  JSON.stringify({
    requests,
    errors,
    firstError,
    rps: requests / elapsed,
    p50: q(latencies, 0.5),
    p99: q(latencies, 0.99),
    p999: q(latencies, 0.999),
    max: q(latencies, 1),
    ttfbP50: q(firstBytes, 0.5),
    ttfbP99: q(firstBytes, 0.99),
  }),
);
agent.destroy();
