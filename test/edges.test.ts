/**
 * Trust at the edges: caller input, errors that are not a provider's, endpoint identity and the
 * OpenAI-compatible world — one describe per numbered item, each against the simulator over
 * loopback.
 */
import OpenAI from "openai";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  AuthenticationError,
  ConfigurationError,
  ConnectionError,
  ContentFilterError,
  InvalidRequestError,
  RateLimitError,
} from "../src/errors/index.js";
import { retry } from "../src/resilience/retry.js";
import type { Simulator } from "../src/simulator/index.js";
import { MemoryStateStore } from "../src/state/memory-state-store.js";
import type { Provider } from "../src/types.js";
import { clientFor, Message, RetryClient, seen, simulator } from "./helpers/client.js";

const hi = [Message.user("hi")];
const fallback = [["anthropic", "claude-sonnet-4-20250514"]] as const;
const weatherTool = {
  name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string" } } },
};

let sim: Simulator;
let keyless: Simulator;
beforeEach(async () => {
  sim ??= await simulator();
  keyless ??= await simulator({ keyless: true });
  sim.reset();
  keyless.reset();
});
afterAll(async () => {
  await sim?.close();
  await keyless?.close();
});

/** Every breaker the client knows is closed (or none exists). */
async function allClosed(client: RetryClient): Promise<boolean> {
  return (await client.circuits()).every((row) => row.state === "closed" && row.failures === 0);
}

describe("1. a bug is never an outage", () => {
  it("a message without content: InvalidRequestError before any request; no retry, no fallback, no breaker", async () => {
    const onFallback = vi.fn();
    const client = clientFor(sim, { fallbackModels: [...fallback], onFallback });
    const error = await client.complete([{ role: "user" } as never]).catch((e) => e);
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.path).toBe("messages[0].content");
    expect(sim.requests()).toHaveLength(0);
    expect(onFallback).not.toHaveBeenCalled();
    expect(await allClosed(client)).toBe(true);
  });

  it.each<[string, unknown, Record<string, unknown>, string]>([
    [
      "a circular tool schema",
      hi,
      { tools: [circularTool()] },
      "tools[0].parameters.properties.self",
    ],
    [
      "a BigInt in providerOptions",
      hi,
      { providerOptions: { openai: { seed: 1n } } },
      "providerOptions.openai.seed",
    ],
    ["messages: null", null, {}, "messages"],
    ["[null]", [null], {}, "messages[0]"],
    ["content: 5", [{ role: "user", content: 5 }], {}, "messages[0].content"],
  ])(
    "%s: InvalidRequestError at its path, zero requests",
    async (_name, messages, options, path) => {
      const client = clientFor(sim, { fallbackModels: [...fallback] });
      const error = await client.complete(messages as never, options).catch((e) => e);
      expect(InvalidRequestError.isInstance(error)).toBe(true);
      expect(error.path).toBe(path);
      expect(sim.requests()).toHaveLength(0);
      expect(await allClosed(client)).toBe(true);
    },
  );

  it("a custom provider that throws a TypeError: rethrown as itself, no retry, no fallback, not counted", async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'text')");
    let calls = 0;
    const custom: Provider = {
      name: "mine",
      supportsPrefill: false,
      complete: async () => {
        calls++;
        throw bug;
      },
      stream: () => {
        throw bug;
      },
      listModels: async () => [],
    };
    const client = clientFor(sim, {
      defaultProvider: "mine",
      defaultModel: "m1",
      fallbackModels: [...fallback],
      providers: { mine: custom },
    });
    const error = await client.complete(hi).catch((e) => e);
    expect(error).toBe(bug);
    expect(calls).toBe(1);
    expect(seen(sim, "claude")).toHaveLength(0);
    expect(await allClosed(client)).toBe(true);
  });

  it("with a single target the same bug is rethrown as itself too (not wrapped)", async () => {
    const client = clientFor(sim);
    const error = await client
      .complete([{ role: "user", content: "x" }], { stop: "halt" as never })
      .catch((e) => e);
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.path).toBe("stop");
  });
});

function circularTool() {
  const schema: Record<string, unknown> = { type: "object" };
  schema.properties = { self: schema };
  return { name: "loop", parameters: schema };
}

describe("2. call input is validated; OpenAI-shaped messages are translated, never dropped", () => {
  it.each<[string, unknown, string]>([
    ['complete("hi")', "hi", "messages"],
    ["complete([])", [], "messages"],
    ["an unknown role", [{ role: "robot", content: "x" }], "messages[0].role"],
    [
      "a tool message without its call id",
      [{ role: "tool", content: "42" }],
      "messages[0].tool_call_id",
    ],
    ["a non-string model", hi, "model"],
  ])("%s → InvalidRequestError (%s), zero requests", async (name, messages, path) => {
    const client = clientFor(sim);
    const options = name === "a non-string model" ? { model: 42 as never } : {};
    const error = await client.complete(messages as never, options).catch((e) => e);
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.path).toBe(path);
    expect(sim.requests()).toHaveLength(0);
  });

  const openaiShaped = [
    { role: "developer", content: "Be brief." },
    { role: "user", content: "Weather in Paris?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: "call_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: "18°C" },
  ] as const;

  it("4 OpenAI-shaped messages in, 4 out on the OpenAI wire", async () => {
    const client = clientFor(sim);
    await client.complete(openaiShaped, { tools: [weatherTool] });
    const body = sim.requests()[0]!.body as { messages: Array<Record<string, unknown>> };
    expect(body.messages).toHaveLength(4);
    expect(body.messages[0]).toEqual({ role: "system", content: "Be brief." });
    expect(body.messages[2]).toMatchObject({
      role: "assistant",
      tool_calls: [
        { id: "call_1", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
      ],
    });
    expect(body.messages[3]).toEqual({ role: "tool", tool_call_id: "call_1", content: "18°C" });
  });

  it("and translated on the Anthropic wire (system hoisted, tool_use and tool_result blocks)", async () => {
    const client = clientFor(sim, {
      defaultProvider: "anthropic",
      defaultModel: "claude-sonnet-4-20250514",
    });
    await client.complete(openaiShaped, { tools: [weatherTool] });
    const body = sim.requests()[0]!.body as {
      system: string;
      messages: Array<{ role: string; content: unknown }>;
    };
    expect(body.system).toBe("Be brief.");
    expect(body.messages).toHaveLength(3);
    expect(body.messages[1]).toMatchObject({
      role: "assistant",
      content: [{ type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } }],
    });
    expect(body.messages[2]).toMatchObject({
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "call_1", content: "18°C" }],
    });
  });

  it("stream() rejects its .response and its iterator alike", async () => {
    const client = clientFor(sim);
    const stream = client.stream([] as never);
    await expect(stream.response).rejects.toSatisfy((e) => InvalidRequestError.isInstance(e));
    const events = client.stream([{ role: "user", content: 5 } as never]);
    const iterate = async () => {
      for await (const _ of events) {
        // nothing arrives
      }
    };
    await expect(iterate()).rejects.toSatisfy((e) => InvalidRequestError.isInstance(e));
    expect(sim.requests()).toHaveLength(0);
  });
});

describe("3. endpoints are not conflated; settings are checked at construction", () => {
  it("failures against a mistyped base URL never open the breaker of the real endpoint", async () => {
    const store = new MemoryStateStore();
    const common = {
      env: {},
      stateStore: store,
      defaultModel: "gpt-4o",
      fallbackModels: [],
      retryEnabled: false,
      circuitBreaker: { failureThreshold: 3 },
    } as const;
    const mistyped = new RetryClient({
      ...common,
      providers: { openai: { apiKey: "sk-test", baseURL: "http://127.0.0.1:9/v1" } },
    });
    for (let i = 0; i < 3; i++) await mistyped.complete(hi).catch(() => {});
    const rows = await mistyped.circuits();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: "open", baseURL: "http://127.0.0.1:9/v1" });
    expect(rows[0]!.key).toMatch(/^openai@[0-9a-f]{8}:gpt-4o$/);

    const real = new RetryClient({
      ...common,
      providers: { openai: { apiKey: "sk-test", baseURL: sim.openaiBaseURL } },
    });
    const res = await real.complete(hi);
    expect(res.provider).toBe("openai");
    expect(real.stateKey({ provider: "openai", model: "gpt-4o" })).not.toBe(rows[0]!.key);
    // The default endpoint keeps the plain key.
    const plain = new RetryClient({ env: {}, providers: { openai: { apiKey: "sk" } } });
    expect(plain.stateKey({ provider: "openai", model: "gpt-4o" })).toBe("openai:gpt-4o");
    // reset provider:model clears that model on every endpoint.
    await mistyped.resetCircuits("openai:gpt-4o");
    expect(await allClosed(mistyped)).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["a base URL that is not a URL", { baseURL: "not a url" }, "providers.openai.baseURL"],
    ["an ftp:// base URL", { baseURL: "ftp://example.com/v1" }, "providers.openai.baseURL"],
    ["a header name with a space", { headers: { "x team": "a" } }, "providers.openai.headers"],
    ["a key with a newline", { apiKey: "sk-abc\nX-Evil: 1" }, "providers.openai.apiKey"],
  ])("%s: ConfigurationError naming the option, at construction", (_name, settings, option) => {
    let error: unknown;
    try {
      new RetryClient({ env: {}, providers: { openai: { apiKey: "sk", ...settings } } });
    } catch (e) {
      error = e;
    }
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect((error as ConfigurationError).option).toBe(option);
    expect(String((error as Error).message)).not.toContain("sk-abc");
  });
});

describe("4. OpenAI-compatible servers", () => {
  it("a stream that ends with [DONE] but no finish_reason is complete (finishReason other)", async () => {
    const client = clientFor(sim);
    const stream = client.stream(hi, { model: "gpt-4o~no-finish-reason" });
    let text = "";
    for await (const delta of stream) text += delta;
    const res = await stream.response;
    expect(res.finishReason).toBe("other");
    expect(res.content).toBe(text);
    expect(text.length).toBeGreaterThan(10);
    expect(seen(sim, "gpt-4o")).toHaveLength(1);
    const plain = await client.complete(hi, { model: "gpt-4o~no-finish-reason" });
    expect(plain.finishReason).toBe("other");
  });

  it("a stream that ends with neither finish reason nor [DONE] is still a truncation", async () => {
    const body = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "Hel" } }] })}\n\n`;
    const fetch = async () =>
      new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
    const client = new RetryClient({
      env: {},
      fetch,
      retryEnabled: false,
      providers: { openai: { apiKey: "sk", baseURL: sim.openaiBaseURL } },
    });
    const error = await client.stream(hi).response.catch((e) => e);
    expect(error.name).toBe("StreamInterruptedError");
    expect(error.partialText).toBe("Hel");
    // The same body with [DONE] is complete, finish reason "other".
    const done = new RetryClient({
      env: {},
      fetch: async () =>
        new Response(`${body}data: [DONE]\n\n`, {
          status: 200,
          headers: { "content-type": "text/event-stream" },
        }),
      providers: { openai: { apiKey: "sk", baseURL: sim.openaiBaseURL } },
    });
    expect(await done.stream(hi).response).toMatchObject({ content: "Hel", finishReason: "other" });
  });

  it("repeated tool-call ids and names in every fragment do not append", async () => {
    const client = clientFor(sim);
    const stream = client.stream(hi, { model: "gpt-4o~repeat-tool-ids", tools: [weatherTool] });
    for await (const _ of stream) {
      // drain
    }
    const res = await stream.response;
    expect(res.toolCalls).toHaveLength(1);
    expect(res.toolCalls[0]!.name).toBe("get_weather");
    expect(res.toolCalls[0]!.id).toMatch(/^call_[A-Za-z0-9]+$/);
    expect(JSON.parse(res.toolCalls[0]!.arguments)).toEqual({ city: "example" });
  });

  it("apiKey: null sends no auth header and needs no variable (Ollama, vLLM)", async () => {
    const client = new RetryClient({
      env: {},
      defaultProvider: "ollama",
      defaultModel: "llama3.2",
      providers: { ollama: { type: "openai", apiKey: null, baseURL: keyless.openaiBaseURL } },
    });
    const res = await client.complete(hi);
    expect(res.provider).toBe("ollama");
    expect(keyless.requests()[0]).toMatchObject({ status: 200 });
    expect(keyless.requests()[0]!.auth).toBeUndefined();
    // Against a server that wants a key, the same client is refused: nothing was sent.
    const strict = new RetryClient({
      env: {},
      defaultProvider: "ollama",
      defaultModel: "llama3.2",
      providers: { ollama: { type: "openai", apiKey: null, baseURL: sim.openaiBaseURL } },
    });
    expect(AuthenticationError.isInstance(await strict.complete(hi).catch((e) => e))).toBe(true);
  });

  it("a base URL with a query string keeps it on every request", async () => {
    const client = clientFor(sim, {
      providers: { openai: { apiKey: "sk", baseURL: `${sim.openaiBaseURL}/?tenant=a%20b` } },
    });
    await client.complete(hi);
    expect(sim.requests()[0]).toMatchObject({
      path: "/v1/chat/completions",
      query: "tenant=a%20b",
    });
  });

  it("reasoning models get max_completion_tokens on any host; a provider option forces either", async () => {
    const client = clientFor(sim);
    await client.complete(hi, { model: "o3-mini", maxTokens: 50 });
    await client.complete(hi, { model: "gpt-5-mini", maxTokens: 50 });
    await client.complete(hi, { model: "gpt-4o", maxTokens: 50 });
    const bodies = sim.requests().map((r) => r.body as Record<string, unknown>);
    expect(bodies[0]).toMatchObject({ max_completion_tokens: 50 });
    expect(bodies[0]).not.toHaveProperty("max_tokens");
    expect(bodies[1]).toMatchObject({ max_completion_tokens: 50 });
    expect(bodies[2]).toMatchObject({ max_tokens: 50 });
    const forced = clientFor(sim, {
      providers: {
        openai: { apiKey: "sk", baseURL: sim.openaiBaseURL, maxTokensField: "max_tokens" },
      },
    });
    await forced.complete(hi, { model: "o3-mini", maxTokens: 7 });
    expect(sim.requests()[3]!.body).toMatchObject({ max_tokens: 7 });
    expect(sim.requests()[3]!.body).not.toHaveProperty("max_completion_tokens");
  });

  it('type: "azure": deployment URL, api-version, api-key header, streaming', async () => {
    const client = new RetryClient({
      env: { AZURE_OPENAI_API_KEY: "az-key" },
      defaultProvider: "azure",
      defaultModel: "gpt-4o",
      providers: { azure: { type: "azure", endpoint: sim.url, apiVersion: "2024-10-21" } },
    });
    const res = await client.complete(hi);
    expect(res.provider).toBe("azure");
    expect(sim.requests()[0]).toMatchObject({
      wire: "azure",
      path: "/openai/deployments/gpt-4o/chat/completions",
      query: "api-version=2024-10-21",
      auth: "api-key",
      status: 200,
    });
    const stream = client.stream(hi);
    for await (const _ of stream) {
      // drain
    }
    expect((await stream.response).content).toBe(res.content);
    expect(client.stateKey({ provider: "azure", model: "gpt-4o" })).toMatch(/^azure@[0-9a-f]{8}:/);
  });

  it("Azure error bodies map like OpenAI's: content filter, 429 with its wait, 401", async () => {
    const client = new RetryClient({
      env: {},
      defaultProvider: "azure",
      defaultModel: "gpt-4o",
      retryEnabled: false,
      providers: { azure: { apiKey: "az-key", endpoint: sim.url } },
    });
    const filtered = await client
      .complete(hi, { provider: "azure", model: "gpt-4o~content-filter" })
      .catch((e) => e);
    expect(ContentFilterError.isInstance(filtered)).toBe(true);
    const limited = await client
      .complete(hi, { provider: "azure", model: "gpt-4o~429-retry-after-3s" })
      .catch((e) => e);
    expect(RateLimitError.isInstance(limited)).toBe(true);
    expect(limited.retryAfterMs).toBe(3000);
    const bad = new RetryClient({
      env: {},
      defaultProvider: "azure",
      defaultModel: "gpt-4o",
      providers: { azure: { apiKey: "invalid-key", endpoint: sim.url } },
    });
    expect(AuthenticationError.isInstance(await bad.complete(hi).catch((e) => e))).toBe(true);
    // A deployment named in the settings wins over the model name.
    const pinned = new RetryClient({
      env: {},
      defaultProvider: "azure",
      providers: { azure: { apiKey: "k", endpoint: sim.url, deployment: "prod-4o" } },
    });
    await pinned.complete(hi);
    expect(sim.requests().at(-1)!.path).toBe("/openai/deployments/prod-4o/chat/completions");
  });
});

describe("5. retry() on the official SDKs' errors, over loopback", () => {
  it("an openai-node 400 is not retried; a 429's retry-after-ms is waited", async () => {
    const openai = new OpenAI({ apiKey: "sk-test", baseURL: sim.openaiBaseURL, maxRetries: 0 });
    const ask = (model: string) => () =>
      openai.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
    const error = await retry(ask("gpt-4o~400"), { baseDelayMs: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(seen(sim, "gpt-4o~400")).toHaveLength(1);

    const delays: number[] = [];
    await retry(ask("gpt-4o~429-retry-after-ms-250ms-first-1"), {
      baseDelayMs: 1,
      onRetry: (_a, _e, delayMs) => delays.push(delayMs),
    });
    expect(delays).toEqual([250]);
  });
});

describe("6. every optional option accepts undefined (exactOptionalPropertyTypes)", () => {
  it("a client and a call whose options are all explicitly undefined use the defaults", async () => {
    // That these objects typecheck is the point (this file is typechecked with
    // exactOptionalPropertyTypes); test/readme-examples.test.ts does the same for the README.
    const env: Record<string, string | undefined> = {};
    const client = new RetryClient({
      env: {},
      defaultProvider: "openai",
      defaultModel: undefined,
      fallbackModels: undefined,
      retry: { maxRetries: undefined, baseDelayMs: undefined, jitter: undefined },
      circuitBreaker: { failureThreshold: undefined, resetTimeoutMs: undefined },
      retryBudget: undefined,
      stateStore: undefined,
      timeoutMs: undefined,
      deadlineMs: undefined,
      silentTargetMs: undefined,
      onRetry: undefined,
      providers: {
        openai: {
          apiKey: env.OPENAI_API_KEY ?? "sk-test",
          baseURL: sim.openaiBaseURL,
          organization: env.OPENAI_ORG_ID,
          headers: undefined,
          maxTokensField: undefined,
        },
      },
    });
    const res = await client.complete(hi, {
      model: undefined,
      maxTokens: undefined,
      temperature: undefined,
      tools: undefined,
      signal: undefined,
      providerOptions: undefined,
    });
    expect(res.model).toBe("gpt-5-mini");
    expect(sim.requests()[0]!.body).not.toHaveProperty("max_tokens");
  });
});

describe("7. ownership: the creator closes", () => {
  it("close() closes the store the client made, never one it was handed", async () => {
    const handed = new MemoryStateStore();
    const closeHanded = vi.spyOn(handed, "close");
    const client = clientFor(sim, { stateStore: handed });
    await client.complete(hi);
    await client.close();
    expect(closeHanded).not.toHaveBeenCalled();
    await handed.close();
    expect(closeHanded).toHaveBeenCalledTimes(1);

    const own = clientFor(sim);
    const closeOwn = vi.spyOn(own.store, "close");
    await own.close();
    expect(closeOwn).toHaveBeenCalledTimes(1);
  });
});

describe("8. a tokens 429 is waited out", () => {
  it("a 429 without Retry-After whose headers show the token limit ran out waits its reset", async () => {
    const client = clientFor(sim);
    const res = await client.complete(hi, { model: "gpt-4o~429-tokens-300ms-first-1" });
    expect(res.attempts).toHaveLength(2);
    expect(res.attempts[0]).toMatchObject({ errorClass: "RateLimitError", retryAfterMs: 300 });
    // The backoff would have been 5 ms: the wait is the tokens reset.
    expect(res.attempts[1]!.delayBeforeMs).toBe(300);
    expect(seen(sim, "gpt-4o")).toHaveLength(2);
  });

  it("Anthropic's input-token limit likewise", async () => {
    const client = clientFor(sim, {
      defaultProvider: "anthropic",
      defaultModel: "claude-sonnet-4-20250514",
    });
    const res = await client.complete(hi, {
      model: "claude-sonnet-4-20250514~429-tokens-400ms-first-1",
    });
    expect(res.attempts).toHaveLength(2);
    // The reset is a time 400 ms after the 429 was sent: what is left of it, never the 5 ms backoff.
    expect(res.attempts[0]!.retryAfterMs).toBeGreaterThan(100);
    expect(res.attempts[1]!.delayBeforeMs).toBe(res.attempts[0]!.retryAfterMs);
  });
});

describe("9. a silent target that finally hangs up is a silent target", () => {
  it("closed without a byte after silentTargetMs: falls back at once, counted for the breaker", async () => {
    const client = clientFor(sim, { fallbackModels: [...fallback], silentTargetMs: 150 });
    const res = await client.complete(hi, { model: "gpt-4o~close-after-250ms" });
    expect(res.provider).toBe("anthropic");
    expect(seen(sim, "gpt-4o")).toHaveLength(1);
    expect(res.attempts[0]).toMatchObject({ errorClass: "ConnectionError" });
    const rows = await client.circuits();
    expect(rows.find((r) => r.key.includes("gpt-4o"))?.failures).toBe(1);
  });

  it("with no other target it is retried (like a timeout with no answer)", async () => {
    const client = clientFor(sim, {
      silentTargetMs: 150,
      retry: { maxRetries: 1, baseDelayMs: 1 },
    });
    const error = await client
      .stream(hi, { model: "gpt-4o~close-after-200ms" })
      .response.catch((e) => e);
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.silentForMs).toBeGreaterThanOrEqual(150);
    expect(seen(sim, "gpt-4o")).toHaveLength(2);
  });

  it("a reset right after sending is a blip: still retried on the same target", async () => {
    const client = clientFor(sim, { fallbackModels: [...fallback] });
    const res = await client.complete(hi, { model: "gpt-4o~reset-first-1" });
    expect(res.provider).toBe("openai");
    expect(seen(sim, "gpt-4o")).toHaveLength(2);
    expect(seen(sim, "claude")).toHaveLength(0);
  });
});
