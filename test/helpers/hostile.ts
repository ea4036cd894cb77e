/**
 * Hostile servers for the tests of issue 12: plain `node:http` servers written per test (not
 * the simulator), and the probes the tests measure with (event-loop gaps, peak memory).
 */
import "../../src/index.node.js";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { RetryClient } from "../../src/client/retry-client.js";
import type { ClientConfig } from "../../src/client/types.js";

export { RetryClient };

/** A loopback HTTP server running `handler`, with its request log and open sockets. */
export interface HostileServer {
  readonly url: string;
  readonly requests: Array<{ method: string; url: string; headers: IncomingMessage["headers"] }>;
  readonly sockets: Set<Socket>;
  close(): Promise<void>;
}

export async function hostileServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<HostileServer> {
  const requests: HostileServer["requests"] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    res.on("error", () => {});
    handler(req, res);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes `chunk` for as long as the peer reads (a body that never ends). */
export function sendForever(res: ServerResponse, chunk: string | Buffer): void {
  const pump = () => {
    while (!res.destroyed && res.write(chunk)) {
      // keep filling until the socket pushes back
    }
    if (!res.destroyed) res.once("drain", pump);
  };
  res.on("close", () => res.removeAllListeners("drain"));
  pump();
}

/** A client with one OpenAI-wire target on `server` (no retries, no fallback, no environment). */
export function openAIClient(server: HostileServer, config: ClientConfig = {}): RetryClient {
  return new RetryClient({
    env: {},
    defaultProvider: "openai",
    defaultModel: "gpt-4o",
    fallbackModels: [],
    retryEnabled: false,
    ...config,
    providers: {
      openai: { apiKey: "sk-test-hostile-openai", baseURL: `${server.url}/v1` },
      ...config.providers,
    },
  });
}

/** A client with one Anthropic-wire target on `server`. */
export function anthropicClient(server: HostileServer, config: ClientConfig = {}): RetryClient {
  return new RetryClient({
    env: {},
    defaultProvider: "anthropic",
    defaultModel: "claude-sonnet-4-5",
    fallbackModels: [],
    retryEnabled: false,
    ...config,
    providers: {
      anthropic: { apiKey: "sk-ant-test-hostile", baseURL: server.url },
      ...config.providers,
    },
  });
}

/** Measures the longest event-loop gap and the peak RSS / heap while `run` runs. */
export async function measured<T>(run: () => Promise<T>): Promise<{
  result: PromiseSettledResult<T>;
  ms: number;
  maxGapMs: number;
  peakRssDelta: number;
  peakHeapDelta: number;
}> {
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 5);
  const started = performance.now();
  const [result] = await Promise.allSettled([run()]);
  const ms = performance.now() - started;
  clearInterval(timer);
  maxGapMs = Math.max(maxGapMs, performance.now() - last);
  return {
    result,
    ms,
    maxGapMs,
    peakRssDelta: peakRss - base.rss,
    peakHeapDelta: peakHeap - base.heapUsed,
  };
}

/** The rejection of a settled result (fails the test when it was fulfilled). */
export function rejection(result: PromiseSettledResult<unknown>): unknown {
  if (result.status === "fulfilled") throw new Error("expected a rejection, got an answer");
  return result.reason;
}

/** Server-sent events text of an OpenAI chunk. */
export const sse = (data: unknown): string =>
  `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

/** An OpenAI stream chunk with text. */
export const textChunk = (text: string, finish?: string) => ({
  id: "c",
  model: "gpt-4o",
  choices: [{ index: 0, delta: { content: text }, finish_reason: finish ?? null }],
});
