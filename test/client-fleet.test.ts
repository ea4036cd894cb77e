/**
 * Breakers, budgets and concurrency end to end; environment-only construction; cross-provider
 * fallback with one message list.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { FallbackChain } from "../src/client/fallback-chain.js";
import { RetryClientError } from "../src/errors/errors.js";
import { MemoryStateStore } from "../src/state/memory-state-store.js";
import { clientFor, Message, RetryClient, seen, simulator } from "./helpers/client.js";

const sim = await simulator();
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const hi = [Message.user("hi")];
const fallback = [["anthropic", "claude-sonnet-4-5-20250929"]] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("circuit breakers through the client", () => {
  it("open → skipped without a network call → half-open probe → closed", async () => {
    const transitions: string[] = [];
    const client = clientFor(sim, {
      fallbackModels: fallback,
      retry: { maxRetries: 0 },
      circuitBreaker: {
        failureThreshold: 2,
        successThreshold: 1,
        minResetTimeoutMs: 200,
        resetTimeoutMs: 1000,
      },
      onCircuitStateChange: (key, from, to) => transitions.push(`${key} ${from}->${to}`),
    });
    const model = "gpt-4o~503-first-2";
    await client.complete(hi, { model });
    await client.complete(hi, { model });
    const key = client.stateKey({ provider: "openai", model });
    expect(transitions).toEqual([`${key} closed->open`]);
    const skipped = await client.complete(hi, { model });
    expect(skipped.provider).toBe("anthropic");
    expect(skipped.attempts[0]).toMatchObject({
      outcome: "skipped",
      errorClass: "CircuitOpenError",
    });
    expect(seen(sim, "gpt-4o")).toHaveLength(2);
    await sleep(250);
    const probe = await client.complete(hi, { model });
    expect(probe.provider).toBe("openai");
    expect(transitions).toEqual([
      `${key} closed->open`,
      `${key} open->half-open`,
      `${key} half-open->closed`,
    ]);
    expect(await client.circuits()).toEqual([]);
  });

  it("20 concurrent requests arriving at a half-open target: exactly one probe reaches it", async () => {
    const client = clientFor(sim, {
      fallbackModels: fallback,
      retry: { maxRetries: 0 },
      circuitBreaker: { failureThreshold: 3, minResetTimeoutMs: 150 },
    });
    const model = "gpt-4o~503-first-3";
    for (let i = 0; i < 3; i++) await client.complete(hi, { model });
    expect((await client.circuits())[0]!.state).toBe("open");
    await sleep(200);
    const before = seen(sim, "gpt-4o").length;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => client.complete(hi, { model })),
    );
    expect(seen(sim, "gpt-4o").length - before).toBe(1);
    expect(results.filter((r) => r.provider === "openai")).toHaveLength(1);
    expect(results.filter((r) => r.provider === "anthropic")).toHaveLength(19);
  });

  it("a retry budget caps retries under sustained failure", async () => {
    const client = clientFor(sim, {
      retry: { maxRetries: 5, baseDelayMs: 1 },
      retryBudget: { ratio: 0.1, minRetriesPerSecond: 0.2, windowMs: 10_000 }, // floor: 2 retries
      circuitEnabled: false,
      fallbackModels: fallback,
    });
    for (let i = 0; i < 10; i++) await client.complete(hi, { model: "gpt-4o~503" });
    // 10 first attempts + at most 0.1×10 + 2 = 3 retries; every call still answered by the fallback.
    expect(seen(sim, "gpt-4o").length).toBeLessThanOrEqual(13);
    expect(seen(sim, "claude")).toHaveLength(10);
  });
});

describe("concurrency", () => {
  it("200 concurrent requests through a flapping target: each ends in success or a typed error before its deadline", async () => {
    const client = clientFor(sim, {
      fallbackModels: [["anthropic", "claude-sonnet-4-5-20250929~503-rate-0.3"]],
      retry: { maxRetries: 3, baseDelayMs: 5, maxDelayMs: 40 },
      circuitBreaker: { failureThreshold: 10, minResetTimeoutMs: 100 },
      deadlineMs: 3000,
    });
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const t0 = Date.now();
        try {
          const res = await client.complete(hi, {
            model: `gpt-4o~503-rate-0.5~reset-rate-0.1`,
            metadata: { i },
          });
          return { ok: true, ms: Date.now() - t0, provider: res.provider };
        } catch (error) {
          expect(RetryClientError.isInstance(error)).toBe(true);
          return { ok: false, ms: Date.now() - t0, provider: undefined };
        }
      }),
    );
    expect(outcomes.every((o) => o.ms < 3100)).toBe(true);
    // The budget and breaker deliberately refuse some retries under this load; most still succeed.
    expect(outcomes.filter((o) => o.ok).length).toBeGreaterThan(160);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("construction", () => {
  it("works from the environment alone (only OPENAI_API_KEY)", async () => {
    const client = new RetryClient({
      env: { OPENAI_API_KEY: "sk-env", OPENAI_BASE_URL: sim.openaiBaseURL },
    });
    expect(client.chain()).toEqual([{ provider: "openai", model: "gpt-5-mini" }]);
    expect(await client.chat("hi")).toContain("simulator");
    expect((sim.requests()[0]!.body as { model: string }).model).toBe("gpt-5-mini");
  });

  it("works from the environment alone (only ANTHROPIC_API_KEY), through process.env", async () => {
    const saved = { ...process.env };
    try {
      delete process.env.OPENAI_API_KEY;
      process.env.ANTHROPIC_API_KEY = "sk-ant-env";
      process.env.ANTHROPIC_BASE_URL = sim.anthropicBaseURL;
      const client = new RetryClient();
      expect(client.chain()).toEqual([
        { provider: "anthropic", model: "claude-sonnet-4-5-20250929" },
      ]);
      const res = await client.complete(hi);
      expect(res.provider).toBe("anthropic");
    } finally {
      process.env = saved;
    }
  });

  it("with both keys the default chain falls back to the other provider", () => {
    const client = new RetryClient({ env: { OPENAI_API_KEY: "a", ANTHROPIC_API_KEY: "b" } });
    expect(client.chain()).toEqual([
      { provider: "openai", model: "gpt-5-mini" },
      { provider: "anthropic", model: "claude-sonnet-4-5-20250929" },
    ]);
    expect(client.chain({ model: "claude-haiku-4-5-20251001" })[0]).toEqual({
      provider: "anthropic",
      model: "claude-haiku-4-5-20251001",
    });
    expect(
      new RetryClient({
        env: { OPENAI_API_KEY: "a" },
        fallbackEnabled: false,
        fallbackModels: [["anthropic", "x"]],
      }).chain(),
    ).toHaveLength(1);
  });

  it("bad options throw RangeError naming the option and the value", () => {
    expect(() => new RetryClient({ retry: { baseDelayMs: -1 } })).toThrow(
      "expected a non-negative number for baseDelayMs, got -1",
    );
    expect(() => new RetryClient({ retry: { jitter: 2 } })).toThrow(
      "expected a number from 0 to 1 for jitter, got 2",
    );
    expect(() => new RetryClient({ circuitBreaker: { failureThreshold: 0 } })).toThrow(
      "failureThreshold, got 0",
    );
    expect(() => new RetryClient({ timeoutMs: 0 })).toThrow(
      "expected a positive number for timeoutMs, got 0",
    );
    expect(() => new RetryClient({ midStreamFailure: "retry" as "error" })).toThrow(
      "midStreamFailure",
    );
    expect(
      () => new RetryClient({ fallbackModels: [["openai"] as unknown as [string, string]] }),
    ).toThrow(RangeError);
  });
});

describe("cross-provider fallback with one message list", () => {
  it("system, user with image, assistant tool call and tool result reach Anthropic translated", async () => {
    const client = clientFor(sim, { fallbackModels: fallback, retry: { maxRetries: 0 } });
    const messages = [
      Message.system("You are terse."),
      Message.user([
        Message.text("What is in this picture?"),
        Message.imageUrl("https://example.com/cat.png"),
      ]),
      Message.assistant("", [{ id: "call_1", name: "lookup", arguments: '{"q":"cat"}' }]),
      Message.tool("call_1", "a cat"),
    ];
    const tools = [
      {
        name: "lookup",
        description: "Look up",
        parameters: { type: "object", properties: { q: { type: "string" } } },
      },
    ];
    const res = await client.complete(messages, { model: "gpt-4o~503", tools });
    expect(res.provider).toBe("anthropic");
    const openaiBody = seen(sim, "gpt-4o")[0]!.body as {
      messages: Array<{ role: string }>;
      tools: unknown[];
    };
    expect(openaiBody.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
    const body = seen(sim, "claude")[0]!.body as {
      system: unknown;
      messages: Array<{ role: string; content: Array<{ type: string }> }>;
      tools: Array<{ name: string; input_schema: unknown }>;
    };
    expect(JSON.stringify(body.system)).toContain("You are terse.");
    expect(body.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(body.messages[0]!.content.map((c) => c.type)).toEqual(["text", "image"]);
    expect(body.messages[1]!.content.map((c) => c.type)).toContain("tool_use");
    expect(body.messages[2]!.content.map((c) => c.type)).toEqual(["tool_result"]);
    expect(body.tools[0]).toMatchObject({ name: "lookup", input_schema: { type: "object" } });
  });
});

describe("FallbackChain", () => {
  it("runs its targets in order and says which answered", async () => {
    const chain = new FallbackChain({
      env: {},
      models: [
        ["openai", "gpt-4o~500"],
        { provider: "anthropic", model: "claude-haiku-4-5-20251001" },
      ],
      providers: {
        openai: { apiKey: "k", baseURL: sim.openaiBaseURL },
        anthropic: { apiKey: "k", baseURL: sim.anthropicBaseURL },
      },
      retry: { maxRetries: 1, baseDelayMs: 1 },
    });
    const { response, model, attempts } = await chain.complete(hi);
    expect(model).toEqual({ provider: "anthropic", model: "claude-haiku-4-5-20251001" });
    expect(response.content).toContain("simulator");
    expect(attempts).toHaveLength(3);
    expect(() => new FallbackChain({ models: [] })).toThrow(RangeError);
  });
});

describe("keys stay with their provider", () => {
  it("a custom OpenAI-compatible provider never borrows OPENAI_API_KEY", async () => {
    const client = new RetryClient({
      env: { OPENAI_API_KEY: "sk-openai-REAL-KEY" },
      providers: { groq: { type: "openai", baseURL: sim.openaiBaseURL } },
      defaultProvider: "groq",
      defaultModel: "llama-3.3-70b",
    });
    expect(client.hasKey("groq")).toBe(false);
    const error = await client.complete(hi).catch((e) => e);
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GROQ_API_KEY");
    expect(sim.requests()).toHaveLength(0);
    const keyed = new RetryClient({
      env: { GROQ_API_KEY: "gsk-groq", GROQ_BASE_URL: sim.openaiBaseURL },
      providers: { groq: { type: "openai" } },
      defaultProvider: "groq",
      defaultModel: "llama-3.3-70b",
    });
    expect((await keyed.complete(hi)).provider).toBe("groq");
  });

  it("env: {} isolates a client from the process environment", async () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = "sk-from-process";
    try {
      const client = new RetryClient({
        env: {},
        providers: { openai: { baseURL: sim.openaiBaseURL } },
      });
      expect(client.hasKey("openai")).toBe(false);
      const error = await client.complete(hi).catch((e) => e);
      expect(error.name).toBe("ConfigurationError");
      expect(sim.requests()).toHaveLength(0);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });
});

describe("the breaker opening mid-call", () => {
  it("falls back at once instead of sleeping a backoff it would never use", async () => {
    const client = clientFor(sim, {
      fallbackModels: fallback,
      retry: { maxRetries: 5, baseDelayMs: 2000, jitter: 0 },
      circuitBreaker: { failureThreshold: 1 },
    });
    const started = Date.now();
    const res = await client.complete(hi, { model: "gpt-4o~503" });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.provider).toBe("anthropic");
    expect(seen(sim, "gpt-4o")).toHaveLength(1);
  });
});

describe("store warnings", () => {
  it("reach onWarning and the warning events of the streams in flight", async () => {
    // A store that reports trouble while a stream is running (as Redis does when it goes away).
    const listeners = new Set<(w: { code: string; message: string }) => void>();
    const store = Object.assign(new MemoryStateStore(), {
      onWarning(listener: (w: { code: string; message: string }) => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    });
    const seenByHook: string[] = [];
    const slow = await simulator({ tokenDelayMs: 20 });
    try {
      const client = clientFor(slow, {
        stateStore: store,
        onWarning: (w) => seenByHook.push(w.code),
      });
      const stream = client.stream(hi);
      const codes: string[] = [];
      let told = false;
      for await (const event of stream.events()) {
        if (event.type === "text-delta" && !told) {
          told = true;
          for (const l of listeners) l({ code: "state-store-unreachable", message: "gone" });
        }
        if (event.type === "warning") codes.push(event.warning.code);
      }
      expect(codes).toEqual(["state-store-unreachable"]);
      expect(seenByHook).toEqual(["state-store-unreachable"]);
      await client.close();
      expect(listeners.size).toBe(0);
    } finally {
      await slow.close();
    }
  });
});
