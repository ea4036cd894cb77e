import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { startSimulator } from "./server.js";

/** Options of {@link measureThroughput}. */
export interface ThroughputOptions {
  /** How long to measure, seconds. @default 3 */
  readonly seconds?: number;
  /** Requests in flight at once (keep-alive connections). @default 32 */
  readonly concurrency?: number;
  /** Measure streamed answers instead of plain ones. @default false */
  readonly stream?: boolean;
  /** Which wire to call. @default "openai" */
  readonly wire?: "openai" | "anthropic";
}

/** What {@link measureThroughput} measured. */
export interface ThroughputResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
}

/**
 * Starts a simulator in this process and hammers it with a bare keep-alive `node:http`
 * client, returning completed requests per second (client and server share one core, so
 * the real server capacity is higher).
 *
 * @example
 * const { requestsPerSecond } = await measureThroughput({ seconds: 3, concurrency: 32 });
 */
export async function measureThroughput(
  options: ThroughputOptions = {},
): Promise<ThroughputResult> {
  const seconds = options.seconds ?? 3;
  const concurrency = options.concurrency ?? 32;
  const wire = options.wire ?? "openai";
  const sim = await startSimulator({ maxLogEntries: 1000 });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(sim.url);
  const body =
    wire === "openai"
      ? JSON.stringify({
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: "Hi" }],
          stream: options.stream === true,
        })
      : JSON.stringify({
          model: "claude-sonnet-4-20250514",
          max_tokens: 256,
          messages: [{ role: "user", content: "Hi" }],
          stream: options.stream === true,
        });
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...(wire === "openai"
      ? { authorization: "Bearer sk-bench" }
      : { "x-api-key": "bench", "anthropic-version": "2023-06-01" }),
  };
  const path = wire === "openai" ? "/v1/chat/completions" : "/v1/messages";
  let done = 0;
  let errors = 0;
  const start = performance.now();
  const endAt = start + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(
        { host: url.hostname, port: url.port, path, method: "POST", headers, agent },
        (res) => {
          res.on("data", () => {});
          res.on("end", () => {
            if (res.statusCode === 200) done++;
            else errors++;
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (performance.now() < endAt) await one();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  await sim.close();
  return { requests: done, errors, seconds: elapsed, requestsPerSecond: done / elapsed };
}
