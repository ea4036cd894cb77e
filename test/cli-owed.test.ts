/**
 * What a terminal user is owed, one `describe` per duty: the BUILT binary against an in-process
 * simulator (plus hostile stand-ins for Redis written here), as a user runs it.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../src/simulator/index.js";
import {
  ANT_KEY,
  BIN,
  cliRunner,
  collect,
  ensureBuilt,
  expectNoKeys,
  KEY,
  type Run,
} from "./helpers/cli.js";

const TEXT = "The simulator says hello.";
/** A long, slow answer, so that a reader can close the pipe while it streams. */
const LONG = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");

let sim: Simulator;
let slow: Simulator;
let home: string;
let stateHome: string;

const { cli, env, outputs } = cliRunner(() => ({
  HOME: home,
  XDG_STATE_HOME: stateHome,
  XDG_CONFIG_HOME: join(home, "config"),
  OPENAI_BASE_URL: sim.openaiBaseURL,
  ANTHROPIC_BASE_URL: sim.anthropicBaseURL,
  OPENAI_API_KEY: KEY,
}));

let fresh = 0;
beforeEach(() => {
  sim.setScenario(undefined);
  sim.reset();
  // Each test its own state file: breakers tripped by one test never leak into another.
  stateHome = join(home, `state-${++fresh}`);
});

beforeAll(async () => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), "retry-client-owed-"));
  stateHome = join(home, "state");
  sim = await startSimulator({ text: TEXT });
  slow = await startSimulator({ text: LONG, tokenDelayMs: 3 });
}, 120_000);

afterAll(async () => {
  await sim?.close();
  await slow?.close();
  rmSync(home, { recursive: true, force: true });
});

const lines = (text: string) => text.split("\n").filter((l) => l !== "");

/** stdout holds exactly one JSON document; returns it. */
function oneJson(stdout: string): Record<string, unknown> {
  expect(lines(stdout)).toHaveLength(1);
  return JSON.parse(stdout) as Record<string, unknown>;
}

const ERROR_FIELDS = [
  "name",
  "message",
  "status",
  "code",
  "provider",
  "model",
  "requestId",
  "partialText",
  "attempts",
];

/** The one error shape under --json. */
function errorDocument(stdout: string): Record<string, unknown> {
  const doc = oneJson(stdout);
  const error = doc.error as Record<string, unknown>;
  expect(typeof error.name).toBe("string");
  expect(typeof error.message).toBe("string");
  expect(Object.keys(error).filter((k) => !ERROR_FIELDS.includes(k))).toEqual([]);
  return error;
}

function writeConfig(name: string, value: unknown): string {
  const file = join(home, name);
  writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

describe("an answer from another target than the one asked for is never silent", () => {
  const withAnthropic = { ANTHROPIC_API_KEY: ANT_KEY };

  it("a rejected key: the answer on stdout, one line on stderr naming both targets, exit 0", async () => {
    const r = await cli(["-m", "gpt-4o", "-k", "invalid-key-0000", "send", "hi"], {
      env: withAnthropic,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${TEXT}\n`);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^retry-client: answered by anthropic:claude-\S+ — openai:gpt-4o failed: 401 /,
    );
  });

  it("a missing model and an unreachable base URL are named too; --json keeps stdout one document", async () => {
    const missing = await cli(["--json", "-m", "gpt-4o~404", "send", "hi"], {
      env: withAnthropic,
    });
    expect(missing.code).toBe(0);
    expect(oneJson(missing.stdout)).toMatchObject({ provider: "anthropic" });
    expect(missing.stderr).toMatch(/answered by anthropic:\S+ — openai:gpt-4o~404 failed: 404 /);

    const dead = await cli(
      ["--no-retry", "--base-url", "http://127.0.0.1:9/v1", "-m", "gpt-4o", "send", "hi"],
      { env: withAnthropic },
    );
    expect(dead.code).toBe(0);
    expect(dead.stderr).toMatch(/answered by anthropic:\S+ — openai:gpt-4o failed: .*ECONNREFUSED/);
  });

  it("chat says it too; --no-fallback turns fallback off", async () => {
    const chat = await cli(["--no-retry", "-m", "gpt-4o~503", "chat"], {
      input: "hi\n",
      env: withAnthropic,
    });
    expect(chat.code).toBe(0);
    expect(chat.stdout).toBe(`${TEXT}\n`);
    expect(chat.stderr).toMatch(/answered by anthropic:\S+ — openai:gpt-4o~503 failed: 503 /);

    const off = await cli(["--no-fallback", "--no-retry", "-m", "gpt-4o~503", "send", "hi"], {
      env: withAnthropic,
    });
    expect(off.code).toBe(1);
    expect(off.stdout).toBe("");
    expect(sim.requests().filter((q) => q.wire === "anthropic")).toHaveLength(1); // chat's only
  });

  it("an answer from the target asked for prints nothing on stderr", async () => {
    const r = await cli(["send", "hi"], { env: withAnthropic });
    expect(r).toMatchObject({ code: 0, stdout: `${TEXT}\n`, stderr: "" });
  });
});

describe("health with nothing to probe", () => {
  const noKeys = { OPENAI_API_KEY: undefined, ANTHROPIC_API_KEY: undefined };

  it("exits 2 with the reason on stderr, never 'healthy'", async () => {
    for (const args of [["health"], ["health", "--all"]]) {
      const r = await cli(args, { env: noKeys });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/nothing to probe: no provider has an API key/);
      expect(r.stdout).not.toMatch(/healthy|\bok\b/);
    }
    expect(sim.requests()).toHaveLength(0);
  });

  it('--json says "healthy": false', async () => {
    const r = await cli(["--json", "health"], { env: noKeys });
    expect(r.code).toBe(2);
    const doc = oneJson(r.stdout);
    expect(doc.healthy).toBe(false);
    expect((doc.error as { name: string }).name).toBe("UsageError");
  });
});

describe("a closed pipe ends quietly", () => {
  const slowEnv = () => ({ OPENAI_BASE_URL: slow.openaiBaseURL });

  function piped(args: string[], input: string | undefined): Promise<Run> {
    // The user's shell pipeline, `retry-client … | head -c 5`, with the exit code of each side.
    const feed = input === undefined ? "" : `printf '${input}' | `;
    const child = spawn(
      "bash",
      [
        "-c",
        `${feed}"${process.execPath}" "${BIN}" ${args.join(" ")} | head -c 5; s=("\${PIPESTATUS[@]}"); echo; echo "status=\${s[${input === undefined ? 0 : 1}]}"`,
      ],
      { env: env(slowEnv()), stdio: ["ignore", "pipe", "pipe"] },
    );
    return collect(child);
  }

  it("send | head -c 5: five bytes, no stack trace, exit 0", async () => {
    const r = await piped(["send", "hi"], undefined);
    expect(r.stdout).toBe("word0\nstatus=0\n");
    expect(r.stderr).toBe("");
  });

  it("chat | head -c 5: the same", async () => {
    const r = await piped(["chat"], "hi\\nagain\\n");
    expect(r.stdout).toBe("word0\nstatus=0\n");
    expect(r.stderr).toBe("");
  });
});

describe("--json: exactly one JSON document on stdout, on every command and every error path", () => {
  it("successes: send, health, models, circuits, reset, --version, --help", async () => {
    const send = await cli(["--json", "send", "hi"]);
    expect(oneJson(send.stdout)).toMatchObject({ content: TEXT, provider: "openai" });
    expect(oneJson((await cli(["--json", "health"])).stdout)).toMatchObject({ healthy: true });
    expect(oneJson((await cli(["--json", "models"])).stdout)).toHaveProperty("catalogue");
    expect(oneJson((await cli(["--json", "circuits"])).stdout)).toHaveProperty("circuits");
    expect(oneJson((await cli(["--json", "reset"])).stdout)).toEqual({ reset: [] });
    expect(oneJson((await cli(["--json", "--version"])).stdout)).toHaveProperty("version");
    const help = oneJson((await cli(["--json", "send", "--help"])).stdout);
    expect(help.help).toContain("--system");
  });

  it("simulate --json: one document with the base URLs, the banner on stderr", async () => {
    const child = spawn(process.execPath, [BIN, "--json", "simulate", "--port", "0"], {
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        if (stdout.includes("\n")) resolve();
      });
    });
    const code = await new Promise<number | null>((resolve) => {
      child.on("close", resolve);
      child.kill("SIGINT");
    });
    expect(code).toBe(0);
    const doc = oneJson(stdout);
    expect(doc.openaiBaseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(stderr).toContain("OPENAI_BASE_URL=");
  });

  it("a failed request: name, message, status, code, provider, model, requestId, attempts", async () => {
    const r = await cli([
      "--json",
      "--no-fallback",
      "-k",
      "invalid-0000",
      "-m",
      "gpt-4o",
      "send",
      "hi",
    ]);
    expect(r.code).toBe(1);
    const error = errorDocument(r.stdout);
    expect(error).toMatchObject({
      name: "AuthenticationError",
      status: 401,
      code: "invalid_api_key",
      provider: "openai",
      model: "gpt-4o",
    });
    expect(error.requestId).toMatch(/^req_/);
    expect(error.attempts).toHaveLength(1);
  });

  it("a stream cut after content: partialText holds what was streamed", async () => {
    const r = await cli([
      "--json",
      "--no-fallback",
      "--no-retry",
      "-m",
      "gpt-4o~cut-after-2",
      "send",
      "hi",
    ]);
    expect(r.code).toBe(1);
    const error = errorDocument(r.stdout);
    expect(error.name).toBe("StreamInterruptedError");
    expect(TEXT.startsWith(error.partialText as string)).toBe(true);
    expect((error.partialText as string).length).toBeGreaterThan(0);
  });

  it("usage and configuration errors (exit 2) and failures of every command", async () => {
    const bad = writeConfig("bad-json.json", "{ not json");
    const cases: { args: string[]; env?: Record<string, string | undefined>; code: number }[] = [
      { args: ["send", "hi"], env: { OPENAI_API_KEY: undefined }, code: 2 },
      { args: ["-p", "anthropic", "send", "hi"], code: 2 },
      { args: ["--state", "postgres://x", "send", "hi"], code: 2 },
      { args: ["--state", "redis://:x@[bad", "circuits"], code: 2 },
      { args: ["--base-url", "not a url", "send", "hi"], code: 2 },
      { args: ["--config", bad, "models"], code: 2 },
      { args: ["--config", join(home, "missing.json"), "health"], code: 2 },
      { args: ["--bogus", "send", "hi"], code: 2 },
      { args: ["frobnicate"], code: 2 },
      { args: ["send", "--temperature", "hot", "hi"], code: 2 },
      { args: ["send"], code: 2 },
      { args: ["reset", "not-a-key"], code: 2 },
      { args: ["simulate", "--scenario", "no-such-scenario"], code: 2 },
      { args: ["chat"], env: { OPENAI_API_KEY: undefined }, code: 2 },
      { args: ["--no-fallback", "-m", "gpt-4o~401", "send", "hi"], code: 1 },
      { args: ["send", "--timeout", "1", "hi"], code: 1 },
    ];
    for (const c of cases) {
      const r = await cli(["--json", ...c.args], {
        ...(c.env ? { env: c.env } : {}),
        input: "",
      });
      expect({ args: c.args, code: r.code }).toEqual({ args: c.args, code: c.code });
      const error = errorDocument(r.stdout);
      if (c.code === 2) expect(["UsageError", "ConfigurationError"]).toContain(error.name);
      // The story still goes to stderr, for the human reading along.
      expect(r.stderr).not.toBe("");
    }
  }, 60_000);
});

describe("a usage or configuration error exits 2 naming what to change", () => {
  it("an invalid --base-url, or *_BASE_URL variable", async () => {
    const flag = await cli(["--base-url", "api.openai.com/v1", "send", "hi"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--base-url: "api\.openai\.com\/v1" is not an http\(s\) URL/);
    const variable = await cli(["send", "hi"], { env: { OPENAI_BASE_URL: "ftp://x" } });
    expect(variable.code).toBe(2);
    expect(variable.stderr).toContain("OPENAI_BASE_URL");
    expect(sim.requests()).toHaveLength(0);
  });

  it("config file: an unknown key (with a suggestion), a wrong type, a bad value — file and key named", async () => {
    const typo = writeConfig("typo.json", { retyr: { maxRetries: 1 } });
    const t = await cli(["--config", typo, "send", "hi"]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain(typo);
    expect(t.stderr).toContain('unknown key "retyr" (did you mean "retry"?)');

    const nested = writeConfig("nested.json", { circuitBreaker: { failureTreshold: 2 } });
    const n = await cli(["--config", nested, "send", "hi"]);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('unknown key "circuitBreaker.failureTreshold"');

    const wrongType = writeConfig("type.json", { defaultModel: 5 });
    const w = await cli(["--config", wrongType, "send", "hi"]);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain(`${wrongType}: "defaultModel" must be a string, got a number`);

    const range = writeConfig("range.json", { retry: { maxRetries: -1 } });
    const v = await cli(["--config", range, "send", "hi"]);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain(range);
    expect(v.stderr).toContain("retry.maxRetries");

    const hook = writeConfig("hook.json", { onRetry: "console.log" });
    const h = await cli(["--config", hook, "send", "hi"]);
    expect(h.code).toBe(2);
    expect(h.stderr).toContain('"onRetry" cannot be set in a config file');

    expect(sim.requests()).toHaveLength(0);
  });

  it("--state with a URL that does not parse: exit 2, the password never shown", async () => {
    const r = await cli(["--state", "redis://:hunter2secret@[bad", "circuits"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--state");
    expect(r.stderr).toContain("redis://[:password@]host[:port]");
    expect(r.stdout + r.stderr).not.toContain("hunter2secret");
  });

  it("hints are not repeated and use the CLI's words", async () => {
    const r = await cli(["-p", "anthropic", "send", "hi"]);
    expect(r.code).toBe(2);
    expect(r.stderr.match(/-k\/--api-key/g)).toHaveLength(1);
    expect(r.stderr).toContain("ANTHROPIC_API_KEY");
    const none = await cli(["send", "hi"], { env: { OPENAI_API_KEY: undefined } });
    expect(none.stderr).toMatch(/set OPENAI_API_KEY or pass -k\/--api-key/);
    expect(none.stderr).not.toContain("apiKey option");
  });
});

describe("send options and --help", () => {
  it("--system, --temperature, --max-tokens reach the request; --timeout is the call's deadline", async () => {
    const r = await cli([
      "send",
      "--system",
      "Be terse.",
      "--temperature",
      "0.25",
      "--max-tokens",
      "42",
      "hi",
    ]);
    expect(r.code).toBe(0);
    const body = sim.requests()[0]?.body as Record<string, unknown> & {
      messages: { role: string; content: unknown }[];
    };
    expect(body.messages[0]).toMatchObject({ role: "system", content: "Be terse." });
    expect(body.temperature).toBe(0.25);
    expect(body.max_completion_tokens ?? body.max_tokens).toBe(42);

    const started = Date.now();
    const late = await cli([
      "--no-fallback",
      "-m",
      "gpt-4o~hang",
      "send",
      "--timeout",
      "300",
      "hi",
    ]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/TimeoutError/);
    expect(Date.now() - started).toBeLessThan(5_000);

    for (const bad of [
      ["--temperature", "3"],
      ["--max-tokens", "0"],
      ["--timeout", "soon"],
    ]) {
      const b = await cli(["send", ...bad, "hi"]);
      expect(b.code).toBe(2);
      expect(b.stderr).toContain(bad[0]);
    }
  });

  it("every command's --help shows the global options, the environment variables and an example", async () => {
    const commands = [
      "",
      "send",
      "chat",
      "health",
      "circuits",
      "reset",
      "models",
      "simulate",
      "demo",
    ];
    for (const command of commands) {
      const r = await cli(command === "" ? ["--help"] : [command, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("--json");
      expect(r.stdout).toContain("--state");
      expect(r.stdout).toContain("OPENAI_API_KEY");
      expect(r.stdout).toContain("RETRY_CLIENT_STATE");
      expect(r.stdout).toMatch(/Example:\n {2}retry-client /);
    }
  });
});

describe("the terminal: spinner, partial text, --verbose, store warnings", () => {
  it("Ctrl-C erases the spinner line (a real terminal, through script(1))", async () => {
    const hasScript = spawnSync("script", ["--version"]).status === 0;
    if (!hasScript) return;
    const output = await new Promise<string>((resolve) => {
      const child = spawn(
        "script",
        [
          "-qfec",
          `"${process.execPath}" "${BIN}" --no-fallback -m gpt-4o~hang send hi`,
          "/dev/null",
        ],
        { env: env({ NO_COLOR: undefined }), stdio: ["pipe", "pipe", "pipe"] },
      );
      let out = "";
      let pressed = false;
      child.stdin.on("error", () => {}); // the terminal may be gone when the test writes
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        // The spinner is up: press Ctrl-C on the terminal, once.
        if (!pressed && out.includes("waiting for openai:gpt-4o~hang")) {
          pressed = true;
          child.stdin.write("\u0003");
        }
      });
      child.on("close", () => resolve(out));
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    });
    expect(output).toContain("waiting for openai:gpt-4o~hang");
    const lastSpin = output.lastIndexOf("waiting for");
    const erase = output.indexOf("\r\u001b[K", lastSpin);
    expect(erase).toBeGreaterThan(lastSpin);
    // After the erase, no spinner frame comes back; the line ends with the interruption.
    expect(output.slice(erase)).not.toContain("waiting for");
    expect(output.slice(erase)).toContain("interrupted");
  }, 20_000);

  it("partial streamed text is followed by a newline before the error", async () => {
    const r = await cli(["--no-fallback", "--no-retry", "-m", "gpt-4o~cut-after-2", "send", "hi"]);
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBeGreaterThan(1);
    expect(r.stdout.endsWith("\n")).toBe(true);
    expect(r.stderr).toMatch(/^retry-client: error: StreamInterruptedError/);
    // The target is named once, not twice.
    expect(r.stderr.match(/openai gpt-4o~cut-after-2/g)).toHaveLength(1);
  });

  it("-v prints each attempt once", async () => {
    const model = "gpt-4o~500-first-2";
    const r = await cli(["-v", "--no-fallback", "-m", model, "send", "hi"]);
    expect(r.code).toBe(0);
    for (const n of [1, 2, 3])
      expect(r.stderr.match(new RegExp(`attempt ${n}/3:`, "g"))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/attempt \d+ →/);
  });

  it("a corrupt state file: one warning on stderr without -v, and the request still answers", async () => {
    const dir = join(stateHome, "retry-client");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "state.json"), "{ this is not json");
    const r = await cli(["send", "hi"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${TEXT}\n`);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^retry-client: warning: .*corrupt/i);
  });

  it("Redis unreachable: one warning on stderr without -v, and the request still answers", async () => {
    const r = await cli(["--state", "redis://127.0.0.1:1", "send", "hi"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${TEXT}\n`);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^retry-client: warning: Redis state store unreachable/);
  });
});

describe("circuits and reset", () => {
  // Open for a minute: a slow machine must not see the breaker half-open between two runs.
  const trip = {
    circuitBreaker: { failureThreshold: 2, minResetTimeoutMs: 60_000, resetTimeoutMs: 60_000 },
    retry: { maxRetries: 0 },
  };

  it("an open breaker shows the failures that opened it; cooldowns show with their time left", async () => {
    const config = writeConfig("trip2.json", trip);
    for (let i = 0; i < 2; i++)
      expect(
        (await cli(["--config", config, "--no-fallback", "-m", "gpt-4.1~503", "send", "x"])).code,
      ).toBe(1);
    // No retry allowed: the call fails at once, and the target cools down for the 30 s asked.
    expect(
      (
        await cli([
          "--config",
          config,
          "--no-fallback",
          "-m",
          "gpt-4o~429-retry-after-30s",
          "send",
          "x",
        ])
      ).code,
    ).toBe(1);
    const table = await cli(["circuits"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/KEY\s+STATE\s+FAILURES\s+NEXT PROBE\s+COOLDOWN/);
    // A key may carry a digest of a non-default endpoint: openai@1a2b3c4d:gpt-4o.
    expect(table.stdout).toMatch(/openai(@[0-9a-f]{8})?:gpt-4\.1~503\s+open\s+2\s+in \d/);
    expect(table.stdout).toMatch(
      /openai(@[0-9a-f]{8})?:gpt-4o~429-retry-after-30s\s+closed\s+0\s+-\s+(2\d|30)\.\ds left/,
    );
    const json = oneJson((await cli(["--json", "circuits"])).stdout) as {
      circuits: { key: string; cooldownMs: number; failures: number }[];
    };
    expect(json.circuits.find((c) => c.key.endsWith(":gpt-4.1~503"))?.failures).toBe(2);
    expect(json.circuits.find((c) => c.key.includes("429"))?.cooldownMs).toBeGreaterThan(20_000);
    // reset clears both.
    expect((await cli(["reset"])).code).toBe(0);
    expect(oneJson((await cli(["--json", "circuits"])).stdout)).toMatchObject({ circuits: [] });
  });

  it("a target on a non-default endpoint shows its base URL (when the client reports it)", async () => {
    const config = writeConfig("trip3.json", trip);
    for (let i = 0; i < 2; i++)
      await cli(["--config", config, "--no-fallback", "-m", "gpt-4o~503", "send", "x"]);
    const json = oneJson((await cli(["--json", "circuits"])).stdout) as {
      circuits: { key: string; baseURL?: string }[];
    };
    const row = json.circuits.find((c) => c.key.endsWith(":gpt-4o~503"));
    expect(row).toBeDefined();
    // The library reports `baseURL` on circuit rows from the version that tracks endpoints.
    if (row?.baseURL === undefined) return;
    expect(row.baseURL).toBe(sim.openaiBaseURL);
    const table = await cli(["circuits"]);
    expect(table.stdout).toMatch(/KEY\s+STATE\s+FAILURES\s+NEXT PROBE\s+COOLDOWN\s+BASE URL/);
    expect(table.stdout).toContain(sim.openaiBaseURL);
  });

  describe("with a Redis that cannot be used, warn and exit non-zero (never 'no breakers')", () => {
    const servers: Server[] = [];
    const sockets: Socket[] = [];
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    });
    async function listen(onSocket: (socket: Socket) => void): Promise<number> {
      const server = createServer((socket) => {
        sockets.push(socket);
        onSocket(socket);
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      return (server.address() as { port: number }).port;
    }

    it("down, wrong password, silent server", async () => {
      const wrongPassword = await listen((socket) =>
        // What Redis answers to AUTH (and every later command) with a wrong password.
        socket.on("data", () =>
          socket.write("-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
        ),
      );
      const silent = await listen(() => {});
      const urls = [
        "redis://127.0.0.1:1",
        `redis://:not-the-password@127.0.0.1:${wrongPassword}`,
        `redis://127.0.0.1:${silent}`,
      ];
      for (const url of urls) {
        for (const command of [["circuits"], ["reset"]]) {
          const started = Date.now();
          const r = await cli(["--state", url, ...command]);
          expect({ url, command, code: r.code }).toEqual({ url, command, code: 1 });
          expect(Date.now() - started).toBeLessThan(8_000);
          expect(r.stderr).toMatch(/warning: Redis state store unreachable/);
          expect(r.stderr).toMatch(/could not be used/);
          expect(r.stdout).not.toMatch(/no breakers|reset \d/);
          expect(r.stdout + r.stderr).not.toContain("not-the-password");
        }
        const json = await cli(["--json", "--state", url, "circuits"]);
        expect(json.code).toBe(1);
        expect(errorDocument(json.stdout).message).toMatch(/could not be used/);
      }
    }, 90_000);
  });
});

describe("models", () => {
  it("aligns the live list's columns", async () => {
    const r = await cli(["models"], { env: { ANTHROPIC_API_KEY: ANT_KEY } });
    expect(r.code).toBe(0);
    const section = r.stdout.slice(r.stdout.indexOf("anthropic (live)"));
    const rows = section
      .split("\n")
      .slice(1)
      .filter((l) => l.startsWith("  ") && /\S\s{2,}\S/.test(l.trim()));
    expect(rows.length).toBeGreaterThan(1);
    // The display names start in one column, whatever the length of the id before them.
    const columns = new Set(rows.map((l) => /^ {2}\S+\s+/.exec(l)?.[0].length));
    expect(columns.size).toBe(1);
  });
});

describe("secrets", () => {
  it("no API key appeared in any output of this file", () => expectNoKeys(outputs));
});
