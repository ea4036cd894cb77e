import { request } from "node:http";
import { createGateway, type Gateway, type GatewayOptions } from "../../src/gateway/index.js";
import type { ClientConfig } from "../../src/index.node.js";
import { type Simulator, startSimulator } from "../../src/simulator/index.js";

/** Upstream keys the gateway holds: none may ever reach a caller, a log or /metrics. */
export const UPSTREAM_OPENAI_KEY = "sk-upstream-openai-7c1d2e9f0a";
export const UPSTREAM_ANTHROPIC_KEY = "sk-ant-upstream-4b8e6a2c1d";

/** A gateway in front of a simulator, with fast retries. */
export interface GatewayFixture {
  readonly sim: Simulator;
  readonly gateway: Gateway;
  readonly url: string;
  readonly logs: string[];
  close(): Promise<void>;
}

export async function startGatewayFixture(
  options: Omit<GatewayOptions, "client"> & { client?: Partial<ClientConfig> } = {},
  sim?: Simulator,
): Promise<GatewayFixture> {
  const simulator = sim ?? (await startSimulator());
  const logs: string[] = [];
  const { client, ...rest } = options;
  const gateway = createGateway({
    log: (line) => logs.push(line),
    ...rest,
    client: {
      env: {},
      providers: {
        openai: { apiKey: UPSTREAM_OPENAI_KEY, baseURL: simulator.openaiBaseURL },
        anthropic: { apiKey: UPSTREAM_ANTHROPIC_KEY, baseURL: simulator.anthropicBaseURL },
      },
      defaultProvider: "openai",
      defaultModel: "gpt-4o",
      fallbackModels: [],
      retry: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 5 },
      ...client,
    },
  });
  const { url } = await gateway.listen(0, "127.0.0.1");
  return {
    sim: simulator,
    gateway,
    url,
    logs,
    async close() {
      await gateway.drain();
      if (!sim) await simulator.close();
    },
  };
}

/** One raw HTTP exchange (no SDK, no retries): status, headers and the whole body. */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  },
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const target = new URL(options.path, url);
    const req = request(
      target,
      {
        method: options.method ?? (options.body === undefined ? "GET" : "POST"),
        headers: {
          ...(options.body === undefined ? {} : { "content-type": "application/json" }),
          ...options.headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** POSTs JSON to the gateway. */
export function postJson(
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): ReturnType<typeof rawRequest> {
  return rawRequest(url, { path, body: JSON.stringify(body), headers });
}

/** A `retry-client serve` process (the built binary). */
export interface ServeProcess {
  readonly url: string;
  readonly child: import("node:child_process").ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** Spawns `dist/cli/main.js serve ARGS` and waits for its `listening on` line. */
export async function spawnServe(
  bin: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<ServeProcess> {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, [bin, "serve", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NO_COLOR: "1",
      ...env,
    },
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 15_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${err}`));
    });
  });
  return { url, child, stdout: () => out, stderr: () => err, exited };
}
