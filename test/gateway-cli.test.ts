/**
 * `retry-client serve` as a process (the built binary): the `listening on` line, a request
 * through it, SIGTERM with a stream in flight (the stream completes, exit 0), the refusal of a
 * public host without a key (exit 2), and `--workers 2`.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../src/simulator/index.js";
import { postJson, rawRequest, spawnServe } from "./helpers/gateway.js";

const root = resolve(import.meta.dirname, "..");
const BIN = join(root, "dist/cli/main.js");
const KEY = "gw-cli-key-5e1c";
const auth = { authorization: `Bearer ${KEY}` };
let sim: Simulator;
let config: string;
let home: string;

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync("npm", ["run", "build", "--silent"], { cwd: root });
  sim = await startSimulator({
    tokenDelayMs: 20,
    text: "a b c d e f g h i j k l m n o p q r s t u v w x y z",
  });
  home = mkdtempSync(join(tmpdir(), "rc-serve-"));
  config = join(home, "config.json");
  writeFileSync(
    config,
    JSON.stringify({
      providers: {
        openai: { apiKey: "sk-cli-upstream-1234", baseURL: sim.openaiBaseURL },
        anthropic: { apiKey: "sk-ant-cli-upstream-1234", baseURL: sim.anthropicBaseURL },
      },
      defaultProvider: "openai",
      retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
      gateway: {
        keys: [KEY],
        models: { fast: [["anthropic", "claude-sonnet-4-20250514"]] },
        drainTimeoutMs: 10000,
      },
    }),
  );
}, 120_000);

afterAll(async () => {
  await sim?.close();
});

const env = () => ({ XDG_CONFIG_HOME: home, XDG_STATE_HOME: home });

describe("retry-client serve", () => {
  it("prints listening on, answers, and on SIGTERM lets a stream in flight finish, then exits 0", async () => {
    const serve = await spawnServe(BIN, ["--port", "0", "--config", config], env());
    expect(serve.stdout()).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    const alias = await postJson(
      serve.url,
      "/v1/chat/completions",
      {
        model: "fast",
        messages: [{ role: "user", content: "Hi" }],
      },
      auth,
    );
    expect(alias.status).toBe(200);
    expect(alias.headers["x-retry-client-provider"]).toBe("anthropic");

    const streamed = postJson(
      serve.url,
      "/v1/chat/completions",
      { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }], stream: true },
      auth,
    );
    const before = sim.requests().length;
    while (sim.requests().length === before) await new Promise((r) => setTimeout(r, 10));
    serve.child.kill("SIGTERM");
    const res = await streamed;
    expect(res.body).toContain("data: [DONE]");
    expect(res.body.match(/"content"/g)?.length).toBeGreaterThan(20);
    expect(await serve.exited).toBe(0);
    expect(serve.stderr()).toContain("draining");
    expect(serve.stderr()).not.toContain("sk-cli-upstream-1234");
  }, 30_000);

  it("refuses a non-loopback host without a gateway key (exit 2)", async () => {
    const keyless = join(home, "keyless.json");
    writeFileSync(keyless, JSON.stringify({ providers: { openai: { apiKey: "k" } } }));
    const child = spawn(
      process.execPath,
      [BIN, "serve", "--host", "0.0.0.0", "--port", "0", "--config", keyless],
      {
        env: { PATH: process.env.PATH, ...env() },
      },
    );
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    const code = await new Promise((r) => child.on("exit", r));
    expect(code).toBe(2);
    expect(err).toMatch(/refusing to listen on 0\.0\.0\.0 without a gateway key/);
  });

  it("--workers 2 shares one port; a key from RETRY_CLIENT_GATEWAY_KEYS works; a dead worker is replaced; SIGTERM exits 0", async () => {
    const serve = await spawnServe(BIN, ["--port", "0", "--workers", "2", "--config", config], {
      ...env(),
      RETRY_CLIENT_GATEWAY_KEYS: "env-key-1,env-key-2",
    });
    expect(serve.stdout().match(/listening on/g)).toHaveLength(1);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        postJson(
          serve.url,
          "/v1/messages",
          {
            model: "claude-sonnet-4-20250514",
            max_tokens: 20,
            messages: [{ role: "user", content: "Hi" }],
          },
          { "x-api-key": "env-key-2" },
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await rawRequest(serve.url, { path: "/ready" })).status).toBe(200);

    // A worker that dies is replaced; the port keeps answering (Linux: workers read from /proc).
    const childrenFile = `/proc/${serve.child.pid}/task/${serve.child.pid}/children`;
    if (existsSync(childrenFile)) {
      const workers = () =>
        readFileSync(childrenFile, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      const [victim] = workers();
      expect(workers()).toHaveLength(2);
      process.kill(victim as number, "SIGKILL");
      while (!serve.stderr().includes("starting another"))
        await new Promise((r) => setTimeout(r, 20));
      const replaced = Date.now() + 10_000;
      while (
        (workers().length < 2 || workers().includes(victim as number)) &&
        Date.now() < replaced
      )
        await new Promise((r) => setTimeout(r, 50));
      expect(workers()).toHaveLength(2);
      expect((await rawRequest(serve.url, { path: "/health" })).status).toBe(200);
    }

    serve.child.kill("SIGTERM");
    expect(await serve.exited).toBe(0);
  }, 30_000);
});
