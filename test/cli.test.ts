/**
 * End-to-end tests of the `retry-client` command: the BUILT binary (dist/cli/main.js) spawned
 * against an in-process simulator, with a temporary HOME / XDG dirs and no inherited keys.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../src/simulator/index.js";
import { ANT_KEY, BIN, cliRunner, ensureBuilt, expectNoKeys, KEY } from "./helpers/cli.js";
import { redisAvailability, startRedis } from "./helpers/redis.js";

const TEXT = "The simulator says hello.";
const DEAD_URL = "http://127.0.0.1:9/v1";

let sim: Simulator;
let home: string;

const {
  cli,
  env: baseEnv,
  outputs,
} = cliRunner(() => ({
  HOME: home,
  XDG_STATE_HOME: join(home, "state"),
  XDG_CONFIG_HOME: join(home, "config"),
  OPENAI_BASE_URL: sim.openaiBaseURL,
  ANTHROPIC_BASE_URL: sim.anthropicBaseURL,
  OPENAI_API_KEY: KEY,
}));

beforeAll(async () => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), "retry-client-cli-"));
  sim = await startSimulator({ text: TEXT });
}, 120_000);

afterAll(async () => {
  await sim?.close();
  rmSync(home, { recursive: true, force: true });
});

beforeEach(() => {
  sim.setScenario(undefined);
  sim.reset();
});

describe("send", () => {
  it("streams the answer to stdout, nothing on stderr, exit 0", async () => {
    const r = await cli(["send", "Hello"]);
    expect(r).toMatchObject({ code: 0, stdout: `${TEXT}\n`, stderr: "" });
    expect(sim.requests()).toHaveLength(1);
    expect(sim.requests()[0]).toMatchObject({ stream: true, model: "gpt-5-mini" });
  });

  it("reads the message from stdin with no argument and with -", async () => {
    for (const args of [["send"], ["send", "-"]]) {
      sim.reset();
      const r = await cli(args, { input: "What is on stdin?\n" });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${TEXT}\n`);
      const body = sim.requests()[0]?.body as { messages: { content: unknown }[] };
      expect(JSON.stringify(body.messages)).toContain("What is on stdin?");
    }
  });

  it("--json prints one object: content, provider, model, usage, attempts", async () => {
    const r = await cli(["--json", "-m", "gpt-4o", "send", "Hi"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0] ?? "");
    expect(json).toMatchObject({ content: TEXT, provider: "openai", model: "gpt-4o" });
    expect(json.usage.outputTokens).toBeGreaterThan(0);
    expect(json.attempts).toHaveLength(1);
    expect(json.attempts[0]).toMatchObject({ provider: "openai", outcome: "success" });
  });

  it("--verbose prints every attempt on stderr and keeps stdout clean", async () => {
    const model = "gpt-4o~429-retry-after-ms-200ms-first-1";
    const r = await cli(["-v", "-m", model, "send", "Hi"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${TEXT}\n`);
    expect(r.stderr).toContain(
      `attempt 1/2: provider=openai model=${model} outcome=error status=429`,
    );
    expect(r.stderr).toMatch(/retry 1 in 200ms \(the server's Retry-After\)/);
    expect(r.stderr).toMatch(
      new RegExp(
        `attempt 2/2: provider=openai model=${model.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} outcome=success status=200 duration=\\d+ms waited=200ms`,
      ),
    );
  });

  it("exit 2 naming the variable when the key is missing", async () => {
    const openai = await cli(["send", "Hi"], { env: { OPENAI_API_KEY: undefined } });
    expect(openai.code).toBe(2);
    expect(openai.stderr).toContain("OPENAI_API_KEY");
    expect(openai.stdout).toBe("");
    const anthropic = await cli(["-p", "anthropic", "send", "Hi"]);
    expect(anthropic.code).toBe(2);
    expect(anthropic.stderr).toContain("ANTHROPIC_API_KEY");
    expect(sim.requests()).toHaveLength(0);
  });

  it("exit 1 on a failed request (a permanent 400), with a JSON error under --json", async () => {
    const r = await cli(["-m", "gpt-4o~400", "send", "Hi"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/BadRequestError: openai gpt-4o~400: 400 /);
    const j = await cli(["--json", "-m", "gpt-4o~400", "send", "Hi"]);
    expect(j.code).toBe(1);
    const json = JSON.parse(j.stdout);
    expect(json.error).toMatchObject({ name: "BadRequestError", status: 400 });
    expect(json.error.attempts).toHaveLength(1);
  });

  it("-k gives the selected provider its key; --base-url its endpoint (flags beat env)", async () => {
    const r = await cli(
      ["-p", "anthropic", "-k", ANT_KEY, "--base-url", sim.anthropicBaseURL, "send", "Hi"],
      { env: { ANTHROPIC_BASE_URL: "http://127.0.0.1:9" } },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${TEXT}\n`);
    expect(sim.requests()[0]).toMatchObject({ wire: "anthropic" });
  });

  it("a rejected key never shows, not in --verbose, errors or --json", async () => {
    const bad = "invalid-FAKEKEY-0123456789abcdef";
    const r = await cli(["-v", "--json", "--no-fallback", "-k", bad, "send", "Hi"]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/AuthenticationError|401/);
    expect(r.stdout + r.stderr).not.toContain(bad);
    expect(r.stdout + r.stderr).not.toContain("0123456789abcdef");
  });

  it("--no-retry makes one attempt; retries are on by default", async () => {
    const model = "gpt-4o~500-first-1";
    const once = await cli(["--no-retry", "--no-fallback", "-m", model, "send", "Hi"]);
    expect(once.code).toBe(1);
    expect(sim.requests()).toHaveLength(1);
    sim.reset();
    const retried = await cli(["--json", "--no-fallback", "-m", model, "send", "Hi"]);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout).attempts).toHaveLength(2);
  });

  it("falls back to the other provider; --no-fallback does not", async () => {
    const env = { ANTHROPIC_API_KEY: ANT_KEY };
    const fell = await cli(["--json", "--no-retry", "-m", "gpt-4o~503", "send", "Hi"], { env });
    expect(fell.code).toBe(0);
    expect(JSON.parse(fell.stdout)).toMatchObject({
      provider: "anthropic",
      model: "claude-sonnet-4-5-20250929",
    });
    const stuck = await cli(
      ["-v", "--no-retry", "--no-fallback", "-m", "gpt-4o~503", "send", "Hi"],
      {
        env,
      },
    );
    expect(stuck.code).toBe(1);
    expect(stuck.stderr).toContain("attempt 1/1: provider=openai");
    expect(stuck.stderr).not.toContain("anthropic");
  });

  it("reads the config file (--config, else $XDG_CONFIG_HOME/retry-client/config.json); env beats it", async () => {
    const configDir = join(home, "config", "retry-client");
    mkdirSync(configDir, { recursive: true });
    const file = join(home, "explicit.json");
    writeFileSync(
      file,
      JSON.stringify({
        defaultModel: "gpt-4o-mini",
        providers: { openai: { apiKey: KEY, baseURL: sim.openaiBaseURL } },
      }),
    );
    const explicit = await cli(["--json", "--config", file, "send", "Hi"], {
      env: { OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined },
    });
    expect(explicit.code).toBe(0);
    expect(JSON.parse(explicit.stdout).model).toBe("gpt-4o-mini");

    writeFileSync(
      join(configDir, "config.json"),
      JSON.stringify({ defaultModel: "gpt-4.1", providers: { openai: { baseURL: DEAD_URL } } }),
    );
    try {
      // The environment's base URL (the simulator) beats the config file's dead one.
      const implicit = await cli(["--json", "send", "Hi"]);
      expect(implicit.code).toBe(0);
      expect(JSON.parse(implicit.stdout).model).toBe("gpt-4.1");
      // A flag beats both.
      const flagged = await cli(["--json", "-m", "gpt-4o", "send", "Hi"]);
      expect(JSON.parse(flagged.stdout).model).toBe("gpt-4o");
    } finally {
      rmSync(join(configDir, "config.json"));
    }
    const missing = await cli(["--config", join(home, "nope.json"), "send", "Hi"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.json");
  });

  it("-m takes a deployment group from the config file", async () => {
    const file = join(home, "groups.json");
    const deployment = { type: "openai", apiKey: KEY, baseURL: sim.openaiBaseURL };
    writeFileSync(
      file,
      JSON.stringify({
        providers: { east: deployment, west: deployment },
        groups: {
          pool: {
            targets: [
              ["east", "gpt-4o"],
              ["west", "gpt-4o"],
            ],
          },
        },
      }),
    );
    const run = await cli(["--json", "--config", file, "-m", "pool", "send", "Hi"]);
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout);
    expect(["east", "west"]).toContain(answer.provider);
    expect(answer.model).toBe("gpt-4o");
  });

  it("usage errors exit 2", async () => {
    expect((await cli(["--bogus", "send", "Hi"])).code).toBe(2);
    expect((await cli(["frobnicate"])).code).toBe(2);
    const state = await cli(["--state", "postgres://x", "send", "Hi"]);
    expect(state.code).toBe(2);
    expect(state.stderr).toContain("--state");
    expect((await cli(["send"], { input: "" })).code).toBe(2);
    expect((await cli(["--help"])).code).toBe(0);
  });
});

describe("chat", () => {
  it("keeps history, switches model, resets and exits, driven over stdin", async () => {
    const input = [
      "first question",
      "/model claude-sonnet-4-20250514",
      "second question",
      "/reset",
      "third question",
      "/exit",
      "never sent",
      "",
    ].join("\n");
    const r = await cli(["--json", "chat"], { input, env: { ANTHROPIC_API_KEY: ANT_KEY } });
    expect(r.code).toBe(0);
    const turns = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(turns.map((t) => `${t.provider}:${t.model}`)).toEqual([
      "openai:gpt-5-mini",
      "anthropic:claude-sonnet-4-20250514",
      "anthropic:claude-sonnet-4-20250514",
    ]);
    const bodies = sim.requests().map((q) => q.body as { messages: unknown[] });
    expect(bodies).toHaveLength(3);
    expect(bodies[0]?.messages).toHaveLength(1);
    expect(bodies[1]?.messages).toHaveLength(3); // user, assistant, user
    expect(JSON.stringify(bodies[1]?.messages)).toContain("first question");
    expect(bodies[2]?.messages).toHaveLength(1); // after /reset
    expect(JSON.stringify(bodies)).not.toContain("never sent");
  });

  it("streams plain answers to stdout, one per line", async () => {
    const r = await cli(["chat"], { input: "hi\nagain\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${TEXT}\n${TEXT}\n`);
  });

  it("a failed turn is reported and the session goes on (exit 1 over a pipe)", async () => {
    const r = await cli(["-m", "gpt-4o~400", "chat"], {
      input: "fails\n/model gpt-4o\nworks\n",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("BadRequestError");
    expect(r.stdout).toBe(`${TEXT}\n`);
  });
});

describe("health", () => {
  it("prints a table of each provider with a key and exits 0 when healthy", async () => {
    const r = await cli(["health"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /PROVIDER\s+MODEL\s+STATUS\s+LATENCY\s+REQUESTS LEFT\s+TOKENS LEFT\s+BREAKER/,
    );
    expect(r.stdout).toMatch(/openai\s+gpt-5-mini\s+ok\s+\d+ms\s+\S+\/\S+ \(\d+%\)/);
    expect(r.stdout).not.toContain("anthropic");
  });

  it("--all lists providers without a key; --json gives one object", async () => {
    const r = await cli(["--json", "health", "--all"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.healthy).toBe(true);
    expect(
      json.providers.map((p: { provider: string; status: string }) => `${p.provider}:${p.status}`),
    ).toEqual(["openai:ok", "anthropic:skipped"]);
    expect(json.providers[0].rateLimit.remainingRequests).toBeGreaterThan(0);
    expect(json.providers[1].detail).toContain("ANTHROPIC_API_KEY");
  });

  it("exits 1 when a probed provider is unhealthy", async () => {
    const r = await cli(["-m", "gpt-4o~503", "health"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/openai\s+gpt-4o~503\s+DOWN/);
    expect(r.stdout).toContain("503");
  });
});

describe("circuits and reset", () => {
  // A long open period: on a loaded machine the CLI runs of one test can take longer than the
  // default 2 s, and a breaker that turned half-open meanwhile would let a probe through.
  const trip = {
    circuitBreaker: { failureThreshold: 1, minResetTimeoutMs: 60_000, resetTimeoutMs: 60_000 },
    retry: { maxRetries: 0 },
  };

  it("shows breakers from the file store in XDG_STATE_HOME and resets them", async () => {
    const file = join(home, "trip.json");
    writeFileSync(file, JSON.stringify(trip));
    const stateHome = join(home, "circuits-state");
    const env = { XDG_STATE_HOME: stateHome };
    expect(
      (await cli(["--config", file, "--no-fallback", "-m", "gpt-4o~503", "send", "x"], { env }))
        .code,
    ).toBe(1);
    expect(
      (await cli(["--config", file, "--no-fallback", "-m", "gpt-4.1~500", "send", "x"], { env }))
        .code,
    ).toBe(1);
    expect(existsSync(join(stateHome, "retry-client", "state.json"))).toBe(true);

    const table = await cli(["circuits"], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/KEY\s+STATE\s+FAILURES\s+NEXT PROBE/);
    // Keys name the simulator's endpoint (not the default one): openai@<digest>:model.
    expect(table.stdout).toMatch(/openai@[0-9a-f]{8}:gpt-4o~503\s+open\s+\d+\s+in \d/);
    expect(table.stdout).toMatch(/openai@[0-9a-f]{8}:gpt-4\.1~500\s+open/);

    // An open breaker skips the target without a network call, across processes.
    const before = sim.requests().length;
    const skipped = await cli(["--json", "--no-fallback", "-m", "gpt-4o~503", "send", "x"], {
      env,
    });
    expect(skipped.code).toBe(1);
    expect(JSON.parse(skipped.stdout).error.name).toBe("CircuitOpenError");
    expect(sim.requests().length).toBe(before);

    const json = JSON.parse((await cli(["--json", "circuits"], { env })).stdout);
    expect(json.circuits.map((c: { key: string }) => plainKey(c.key))).toEqual([
      "openai:gpt-4.1~500",
      "openai:gpt-4o~503",
    ]);

    const one = await cli(["reset", "openai:gpt-4o~503"], { env });
    expect(one).toMatchObject({ code: 0 });
    const after = await cli(["--json", "circuits"], { env });
    const rows = JSON.parse(after.stdout).circuits as { key: string; state: string }[];
    expect(rows.find((c) => plainKey(c.key) === "openai:gpt-4o~503")?.state ?? "closed").toBe(
      "closed",
    );
    expect(rows.find((c) => plainKey(c.key) === "openai:gpt-4.1~500")?.state).toBe("open");

    const all = await cli(["reset"], { env });
    expect(all.code).toBe(0);
    const none = JSON.parse((await cli(["--json", "circuits"], { env })).stdout);
    expect(none.circuits.every((c: { state: string }) => c.state === "closed")).toBe(true);

    expect((await cli(["reset", "not-a-key"], { env })).code).toBe(2);
  });

  it.runIf(redisAvailability().available || redisAvailability().mustFail)(
    "--state redis://… shares breakers between runs through Redis",
    async () => {
      const redis = await startRedis();
      try {
        const file = join(home, "trip-redis.json");
        writeFileSync(file, JSON.stringify(trip));
        const state = ["--state", redis.url];
        const args = ["--config", file, "--no-fallback", "-m", "gpt-4o~503", "send", "x"];
        expect((await cli([...state, ...args])).code).toBe(1);
        const before = sim.requests().length;
        const skipped = await cli([...state, "--json", ...args]);
        expect(JSON.parse(skipped.stdout).error.name).toBe("CircuitOpenError");
        expect(sim.requests().length).toBe(before);
        const rows = JSON.parse((await cli([...state, "--json", "circuits"])).stdout).circuits;
        expect(rows).toMatchObject([{ state: "open" }]);
        expect(plainKey(rows[0].key)).toBe("openai:gpt-4o~503");
        expect((await cli([...state, "reset"])).code).toBe(0);
        expect(JSON.parse((await cli([...state, "--json", "circuits"])).stdout).circuits).toEqual(
          [],
        );
      } finally {
        await redis.stop();
      }
    },
    30_000,
  );

  it("--state memory keeps nothing between runs", async () => {
    const stateHome = join(home, "memory-state");
    const r = await cli(["--state", "memory", "circuits"], { env: { XDG_STATE_HOME: stateHome } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no breakers");
    expect(existsSync(join(stateHome, "retry-client", "state.json"))).toBe(false);
  });
});

describe("models", () => {
  it("lists the live models of providers with a key and the catalogue with context windows", async () => {
    const r = await cli(["models"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/openai \(live\): \d+ models/);
    expect(r.stdout).toContain("  gpt-4o\n");
    expect(r.stdout).toMatch(/anthropic \(live\): no key \(ANTHROPIC_API_KEY\)/);
    expect(r.stdout).toMatch(/anthropic\s+claude-sonnet-4-5-20250929\s+200k\s+64k/);
    expect(r.stdout).toMatch(/openai\s+gpt-4\.1\s+1\.05M/);
    const json = JSON.parse((await cli(["--json", "models"])).stdout);
    expect(json.live.openai.models.length).toBeGreaterThan(0);
    expect(json.catalogue.length).toBeGreaterThan(5);
  });
});

describe("simulate", () => {
  it("prints the base URLs to export, serves them and stops on SIGINT", async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, "simulate", "--port", "0", "--scenario", "flaky", "--seed", "7"],
      {
        env: baseEnv(),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${stdout}`)), 10_000);
      child.stdout?.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        const m = /^OPENAI_BASE_URL=(\S+)$/m.exec(stdout);
        if (m && /^ANTHROPIC_BASE_URL=/m.test(stdout)) {
          clearTimeout(timer);
          resolve(m[1] ?? "");
        }
      });
    });
    expect(stdout).toContain("scenario: flaky, seed: 7");
    const models = await fetch(`${base}/models`, { headers: { authorization: "Bearer x" } });
    expect(models.status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.on("close", resolve);
      child.kill("SIGINT");
    });
    expect(code).toBe(0);
    expect(stdout).toContain("stopped");
    expect((await cli(["simulate", "--scenario", "no-such-scenario"])).code).toBe(2);
  });
});

describe("demo", () => {
  it("runs the scripted outage with no key and no state file, exit 0, in under 30 s", async () => {
    const stateHome = join(home, "demo-state");
    const started = Date.now();
    const r = await cli(["demo"], {
      env: {
        XDG_STATE_HOME: stateHome,
        OPENAI_API_KEY: undefined,
        OPENAI_BASE_URL: undefined,
        ANTHROPIC_BASE_URL: undefined,
      },
      timeoutMs: 30_000,
    });
    const elapsed = Date.now() - started;
    expect(r.code).toBe(0);
    expect(elapsed).toBeLessThan(30_000);
    expect(r.stdout).toContain("Retry-After");
    expect(r.stdout).toContain("closed → open");
    expect(r.stdout).toContain("open → half-open");
    expect(r.stdout).toContain("half-open → closed");
    expect(r.stdout).toMatch(/skipped: its breaker is open .*no request sent/);
    // Request 4's probe fails: the breaker reopens, so there is no retry — not "out of retries".
    const probe = r.stdout.slice(r.stdout.indexOf("request 4:"), r.stdout.indexOf("request 5:"));
    expect(probe).toMatch(
      /openai:gpt-4o's probe failed \(503 ServerError\): its breaker is open again/,
    );
    expect(probe).not.toContain("out of retries");
    expect(r.stdout).toMatch(/#\s+SCENE\s+ANSWERED BY\s+ATTEMPTS\s+WAITED\s+UPSTREAM/);
    expect(r.stdout).toContain("6/6 requests answered");
    expect(r.stdout).not.toContain("\u001b["); // no colour off a terminal
    expect(existsSync(join(stateHome, "retry-client"))).toBe(false);
  }, 40_000);

  it("--json gives the summary as one object", async () => {
    const r = await cli(["--json", "demo"], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.requests).toHaveLength(6);
    expect(json.requests.map((q: { answeredBy: string }) => q.answeredBy.split(":")[0])).toEqual([
      "openai",
      "anthropic",
      "anthropic",
      "anthropic",
      "openai",
      "openai",
    ]);
    expect(json.requests[2].upstreamRequests).toBe(1); // the open breaker sent nothing to gpt-4o
    expect(json.breakerTransitions.map((t: { to: string }) => t.to)).toEqual([
      "open",
      "half-open",
      "open",
      "half-open",
      "closed",
    ]);
  }, 40_000);
});

describe("secrets", () => {
  it("no API key appeared in any output of this file", () => expectNoKeys(outputs));
});

/** A state key without its endpoint digest: `openai@1a2b3c4d:gpt-4o` → `openai:gpt-4o`. */
function plainKey(key: string): string {
  return key.replace(/@[0-9a-f]{8}:/, ":");
}
