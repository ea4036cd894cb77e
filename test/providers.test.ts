/**
 * End-to-end provider tests: recorded wire transcripts (test/fixtures/{openai,anthropic}) replayed
 * through an injected `fetch` and through a real loopback `node:http` server with the Node
 * transport — the same assertions for both.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import * as errors from "../src/errors/errors.js";
import {
  AuthenticationError,
  BadRequestError,
  ConfigurationError,
  ConnectionError,
  OverloadedError,
  ProviderError,
  QuotaExceededError,
  RateLimitError,
  ServerError,
  StreamInterruptedError,
  TimeoutError,
} from "../src/errors/errors.js";
import { createNodeTransport } from "../src/http/node-transport.js";
import type { Transport } from "../src/http/transport.js";
import { AnthropicProvider } from "../src/providers/anthropic/anthropic-provider.js";
import { OpenAIProvider } from "../src/providers/openai/openai-provider.js";
import type {
  ChatMessage,
  Provider,
  ProviderRequestOptions,
  ProviderResponse,
  ProviderStreamEvent,
} from "../src/types.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const fixture = (path: string) => readFileSync(new URL(path, FIXTURES), "utf8");
const KEY = "sk-test-SECRET-0123456789abcdefghijklmnop";

// ---------------------------------------------------------------------------------------------
// Replay harness: one reply per request, served by an injected fetch or a loopback server.

interface Reply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** Body pieces, written in order. */
  readonly chunks?: readonly string[];
  /** Wait before sending the headers. */
  readonly headersDelayMs?: number;
  /** Wait between chunks. */
  readonly chunkDelayMs?: number;
  /** Keep the connection open after the last chunk. */
  readonly hang?: boolean;
}

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

type Mode = "fetch" | "node";
const MODES: readonly Mode[] = ["fetch", "node"];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Replay {
  readonly requests: Recorded[] = [];
  /** Requests whose response the client closed before the server finished it. */
  closedEarly = 0;
  #replies: Reply[] = [];
  #server: Server | undefined;
  #transport: Transport | undefined;
  #baseURL = "";

  constructor(readonly mode: Mode) {}

  async start(): Promise<void> {
    if (this.mode !== "node") return;
    this.#transport = createNodeTransport();
    this.#server = createServer((req, res) => void this.#serve(req, res));
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#baseURL = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve) ?? resolve(undefined));
  }

  reply(...replies: Reply[]): this {
    this.#replies = replies;
    this.requests.length = 0;
    this.closedEarly = 0;
    return this;
  }

  #next(): Reply {
    return (this.#replies.length > 1 ? this.#replies.shift() : this.#replies[0]) ?? {};
  }

  /** Options that point a provider at this replay. */
  options(path = ""): { baseURL: string; fetch?: typeof fetch; transport?: Transport } {
    if (this.mode === "node") {
      return { baseURL: this.#baseURL + path, transport: this.#transport as Transport };
    }
    return { baseURL: `https://replay.test${path}`, fetch: this.#fetch as typeof fetch };
  }

  #fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    this.requests.push({
      method: init.method ?? "GET",
      url: input,
      headers,
      body: typeof init.body === "string" ? init.body : "",
    });
    const reply = this.#next();
    const signal = init.signal ?? undefined;
    if (reply.headersDelayMs) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, reply.headersDelayMs);
        signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
    }
    signal?.throwIfAborted();
    const encoder = new TextEncoder();
    const chunks = [...(reply.chunks ?? [])];
    let finished = false;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (chunks.length === 0) {
          if (reply.hang) return new Promise<void>(() => {});
          finished = true;
          controller.close();
          return;
        }
        if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
        if (cancelled) return;
        controller.enqueue(encoder.encode(chunks.shift()));
      },
      cancel: () => {
        cancelled = true;
        if (!finished) this.closedEarly++;
      },
    });
    return new Response(body, { status: reply.status ?? 200, headers: reply.headers ?? {} });
  };

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = "";
    req.setEncoding("utf8");
    for await (const chunk of req) body += chunk;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string") headers[name] = value;
    }
    this.requests.push({ method: req.method ?? "", url: req.url ?? "", headers, body });
    const reply = this.#next();
    res.on("close", () => {
      if (!res.writableFinished) this.closedEarly++;
    });
    if (reply.headersDelayMs) await sleep(reply.headersDelayMs);
    if (res.destroyed) return;
    res.writeHead(reply.status ?? 200, reply.headers ?? {});
    res.flushHeaders();
    for (const chunk of reply.chunks ?? []) {
      if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
      if (res.destroyed) return;
      res.write(chunk);
    }
    if (!reply.hang) res.end();
  }
}

/** A transcript as the server sends it: the file split into pieces of varied sizes. */
function sse(path: string, pieces = 7): string[] {
  const text = fixture(path);
  const out: string[] = [];
  const size = Math.max(1, Math.ceil(text.length / pieces));
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8" };
const JSON_HEADERS = { "content-type": "application/json" };

async function collect(
  iterable: AsyncIterable<ProviderStreamEvent>,
): Promise<ProviderStreamEvent[]> {
  const events: ProviderStreamEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

const textOf = (events: readonly ProviderStreamEvent[]) =>
  events.map((e) => (e.type === "text-delta" ? e.text : "")).join("");
const finishOf = (events: readonly ProviderStreamEvent[]): ProviderResponse => {
  const last = events[events.length - 1];
  if (last?.type !== "finish") throw new Error(`last event is ${last?.type}`);
  return last.response;
};

// ---------------------------------------------------------------------------------------------

describe.each(MODES)("OpenAIProvider over %s", (mode) => {
  const replay = new Replay(mode);
  beforeAll(() => replay.start());
  afterAll(() => replay.stop());
  const make = (extra: Record<string, unknown> = {}) =>
    new OpenAIProvider({ apiKey: KEY, ...replay.options("/v1"), ...extra });
  const opts: ProviderRequestOptions = { model: "gpt-4o" };
  const user: ChatMessage[] = [{ role: "user", content: "What is 2+2?" }];

  it("sends a Chat Completions request and reads the response", async () => {
    replay.reply({
      headers: {
        ...JSON_HEADERS,
        "x-request-id": "req_123",
        "x-ratelimit-remaining-requests": "9999",
        "x-ratelimit-reset-tokens": "6m0s",
      },
      chunks: [fixture("openai/completion.json")],
    });
    const provider = make({ organization: "org-42", headers: { "X-Custom": "yes" } });
    const res = await provider.complete([{ role: "system", content: "Be brief." }, ...user], {
      ...opts,
      maxTokens: 50,
      temperature: 0,
    });
    expect(res).toMatchObject({
      content: "4",
      provider: "openai",
      model: "gpt-4o",
      responseModel: "gpt-4o-2024-08-06",
      finishReason: "stop",
      rawFinishReason: "stop",
      toolCalls: [],
      usage: { inputTokens: 19, outputTokens: 1, totalTokens: 20 },
      requestId: "req_123",
      rateLimit: { remainingRequests: 9999, resetTokensMs: 360000 },
    });
    const sent = replay.requests[0] as Recorded;
    expect(sent.method).toBe("POST");
    expect(sent.url).toMatch(/\/v1\/chat\/completions$/);
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.headers["openai-organization"]).toBe("org-42");
    expect(sent.headers["x-custom"]).toBe("yes");
    expect(JSON.parse(sent.body)).toEqual({
      model: "gpt-4o",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "What is 2+2?" },
      ],
      max_tokens: 50, // not api.openai.com: the widely accepted field
      temperature: 0,
    });
  });

  it("reads tool calls and refusals", async () => {
    replay.reply({ headers: JSON_HEADERS, chunks: [fixture("openai/completion-tool-calls.json")] });
    const res = await make().complete(user, opts);
    expect(res.finishReason).toBe("tool_calls");
    expect(res.toolCalls).toEqual([
      {
        id: "call_abc123",
        name: "get_current_weather",
        arguments: '{\n"location": "Boston, MA"\n}',
      },
    ]);
    replay.reply({ headers: JSON_HEADERS, chunks: [fixture("openai/completion-refusal.json")] });
    const refused = await make().complete(user, opts);
    expect(refused.refusal).toBe("I'm sorry, I can't assist with that request.");
    expect(refused.content).toBe("");
  });

  interface ErrorCase {
    name: string;
    status: number;
    headers: Record<string, string>;
    body: string;
    expect: {
      class: string;
      code?: string;
      type?: string;
      retryAfterMs?: number;
      requestTooLarge?: boolean;
    };
  }
  const cases = JSON.parse(fixture("openai/errors.json")) as ErrorCase[];
  it.each(cases)("maps $name", async (c) => {
    for (const stream of [false, true]) {
      replay.reply({ status: c.status, headers: c.headers, chunks: c.body ? [c.body] : [] });
      const provider = make();
      const error = (await failure(
        stream ? collect(provider.stream(user, opts)) : provider.complete(user, opts),
      )) as ProviderError;
      expect(error.name).toBe(c.expect.class);
      expect(ProviderError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ provider: "openai", model: "gpt-4o", status: c.status });
      if (c.expect.code) expect(error.code).toBe(c.expect.code);
      if (c.expect.type) expect(error.type).toBe(c.expect.type);
      if ("retryAfterMs" in c.expect) expect(error.retryAfterMs).toBe(c.expect.retryAfterMs);
      if ("requestTooLarge" in c.expect) {
        expect((error as RateLimitError).requestTooLarge).toBe(c.expect.requestTooLarge);
      }
      if (c.headers["x-request-id"]) expect(error.requestId).toBe(c.headers["x-request-id"]);
      if (c.headers["x-should-retry"]) expect(error.rateLimit?.shouldRetry).toBe(true);
      expect(error.message).not.toContain("sk-proj-");
    }
  });

  it("streams text, usage and a finish event", async () => {
    replay.reply({
      headers: { ...SSE_HEADERS, "x-request-id": "req_s1" },
      chunks: sse("openai/stream-text.sse"),
    });
    const events = await collect(make().stream(user, opts));
    expect(textOf(events)).toBe("Hello! How can I help you today?");
    expect(events.filter((e) => e.type === "usage")).toHaveLength(1);
    const res = finishOf(events);
    expect(res).toMatchObject({
      content: "Hello! How can I help you today?",
      responseModel: "gpt-4o-2024-08-06",
      finishReason: "stop",
      usage: { inputTokens: 19, outputTokens: 10, totalTokens: 29 },
      requestId: "req_s1",
    });
    const body = JSON.parse(replay.requests[0]?.body ?? "{}");
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
  });

  it("ignores keep-alive comments and reads CRLF line ends", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("openai/stream-keepalive-crlf.sse", 13) });
    const events = await collect(make().stream(user, opts));
    replay.reply({ headers: SSE_HEADERS, chunks: sse("openai/stream-text.sse") });
    const plain = await collect(make().stream(user, opts));
    expect(events).toEqual(plain);
  });

  it("assembles tool-call deltas by index", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("openai/stream-tool-calls.sse") });
    const events = await collect(make().stream(user, opts));
    const deltas = events.filter((e) => e.type === "tool-call-delta");
    expect(deltas[0]).toMatchObject({
      index: 0,
      id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
      name: "get_weather",
    });
    const calls = events.flatMap((e) => (e.type === "tool-call" ? [e.toolCall] : []));
    const expected = [
      {
        id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
        name: "get_weather",
        arguments: '{"location": "Paris"}',
      },
      { id: "call_ABC123xyz", name: "get_time", arguments: '{"tz":"Europe/Paris"}' },
    ];
    expect(calls).toEqual(expected);
    expect(finishOf(events)).toMatchObject({
      finishReason: "tool_calls",
      toolCalls: expected,
      content: "",
    });
  });

  it("reports a streamed refusal apart from the text", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("openai/stream-refusal.sse") });
    const res = finishOf(await collect(make().stream(user, opts)));
    expect(res.refusal).toBe("I'm sorry, I can't help with that.");
    expect(res.content).toBe("");
  });

  it("skips a malformed chunk with a warning", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("openai/stream-malformed.sse") });
    const events = await collect(make().stream(user, opts));
    expect(textOf(events)).toBe("Hello world");
    expect(events.filter((e) => e.type === "warning")).toMatchObject([
      { warning: { code: "malformed-chunk" } },
    ]);
    expect(finishOf(events).content).toBe("Hello world");
  });

  it("completes a stream whose [DONE] never comes", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("openai/stream-no-done.sse") });
    const res = finishOf(await collect(make().stream(user, opts)));
    expect(res.usage?.totalTokens).toBe(29);
    // The connection stays open after the usage chunk: finish within the tail grace period.
    replay.reply({ headers: SSE_HEADERS, chunks: sse("openai/stream-no-done.sse"), hang: true });
    const started = Date.now();
    const hung = finishOf(await collect(make().stream(user, opts)));
    expect(hung.content).toBe("Hello! How can I help you today?");
    expect(hung.usage?.totalTokens).toBe(29);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("throws StreamInterruptedError for a stream cut after content", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("openai/stream-truncated.sse") });
    const seen: ProviderStreamEvent[] = [];
    const error = (await failure(
      (async () => {
        for await (const e of make().stream(user, opts)) seen.push(e);
      })(),
    )) as StreamInterruptedError;
    expect(StreamInterruptedError.isInstance(error)).toBe(true);
    expect(error.partialText).toBe("Hello! How can");
    expect(textOf(seen)).toBe("Hello! How can");
    expect(ConnectionError.isInstance(error.cause)).toBe(true);
    expect((error.cause as ConnectionError).code).toBe("ERR_STREAM_TRUNCATED");
  });

  it("throws ConnectionError for a stream cut before content", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("openai/stream-empty-cut.sse") });
    const error = await failure(collect(make().stream(user, opts)));
    expect(ConnectionError.isInstance(error)).toBe(true);
  });

  it.each([
    ["openai/stream-error-before-content.sse", ServerError, 500],
    ["openai/stream-error-rate-limit.sse", RateLimitError, 429],
    ["openai/stream-error-quota.sse", QuotaExceededError, 429],
  ] as const)(
    "throws an in-band error before content as its HTTP twin (%s)",
    async (file, cls, status) => {
      replay.reply({ headers: SSE_HEADERS, chunks: sse(file) });
      const error = await failure(collect(make().stream(user, opts)));
      expect(error).toBeInstanceOf(cls);
      expect((error as ProviderError).status).toBe(status);
    },
  );

  it("wraps an in-band error after content in StreamInterruptedError", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("openai/stream-error-after-content.sse") });
    const error = (await failure(collect(make().stream(user, opts)))) as StreamInterruptedError;
    expect(StreamInterruptedError.isInstance(error)).toBe(true);
    expect(error.partialText).toBe("Hello there");
    expect(ServerError.isInstance(error.cause)).toBe(true);
  });

  it("rejects a prefill (OpenAI has none)", async () => {
    const provider = make();
    expect(provider.supportsPrefill).toBe(false);
    await expect(
      provider.complete(user, { ...opts, prefill: "The answer" }),
    ).rejects.toBeInstanceOf(BadRequestError);
    await expect(collect(provider.stream(user, { ...opts, prefill: "x" }))).rejects.toBeInstanceOf(
      BadRequestError,
    );
  });

  it("lists models", async () => {
    replay.reply({ headers: JSON_HEADERS, chunks: [fixture("openai/models.json")] });
    const models = await make().listModels();
    expect(models.map((m) => m.id)).toEqual(["gpt-4o-2024-08-06", "gpt-4o-mini", "o3-mini"]);
    expect(models[0]?.createdAt).toBe(1722814719000);
    expect(replay.requests[0]?.method).toBe("GET");
    expect(replay.requests[0]?.url).toMatch(/\/v1\/models$/);
  });

  describe("timeouts and aborts", () => {
    it("connect timeout: no headers in time", async () => {
      replay.reply({ headersDelayMs: 1000, headers: JSON_HEADERS, chunks: ["{}"] });
      const error = (await failure(
        make({ connectTimeoutMs: 50 }).complete(user, opts),
      )) as TimeoutError;
      expect(TimeoutError.isInstance(error)).toBe(true);
      expect(error.kind).toBe("connect");
    });

    it("attempt timeout: a body that never ends", async () => {
      replay.reply({ headers: JSON_HEADERS, chunks: ['{"id":'], hang: true });
      const error = (await failure(make({ timeoutMs: 80 }).complete(user, opts))) as TimeoutError;
      expect(error.kind).toBe("attempt");
    });

    it("first-token timeout: keep-alive comments do not count", async () => {
      replay.reply({
        headers: SSE_HEADERS,
        chunks: [": keep-alive\n\n", ": keep-alive\n\n", ": keep-alive\n\n", ": keep-alive\n\n"],
        chunkDelayMs: 30,
        hang: true,
      });
      const error = (await failure(
        collect(make().stream(user, { ...opts, firstTokenTimeoutMs: 100 })),
      )) as TimeoutError;
      expect(TimeoutError.isInstance(error)).toBe(true);
      expect(error.kind).toBe("first-token");
    });

    it("attempt timeout bounds a stream until its first content delta", async () => {
      replay.reply({ headers: SSE_HEADERS, chunks: [": ping\n\n"], hang: true });
      const error = (await failure(
        collect(make({ timeoutMs: 80 }).stream(user, opts)),
      )) as TimeoutError;
      expect(error.kind).toBe("attempt");
    });

    it("idle timeout after content is a StreamInterruptedError", async () => {
      const text = fixture("openai/stream-truncated.sse");
      replay.reply({ headers: SSE_HEADERS, chunks: [text], hang: true });
      const error = (await failure(
        collect(make({ timeoutMs: 200 }).stream(user, { ...opts, idleTimeoutMs: 400 })),
      )) as StreamInterruptedError;
      expect(StreamInterruptedError.isInstance(error)).toBe(true);
      expect(error.partialText).toBe("Hello! How can");
      expect((error.cause as TimeoutError).kind).toBe("idle");
    });

    it("a caller's abort rejects with the reason untouched", async () => {
      replay.reply({ headersDelayMs: 2000, headers: JSON_HEADERS, chunks: ["{}"] });
      const controller = new AbortController();
      const reason = new Error("user cancelled");
      setTimeout(() => controller.abort(reason), 30);
      const error = await failure(make().complete(user, { ...opts, signal: controller.signal }));
      expect(error).toBe(reason);

      replay.reply({
        headers: SSE_HEADERS,
        chunks: [fixture("openai/stream-truncated.sse")],
        hang: true,
      });
      const streamController = new AbortController();
      const events: ProviderStreamEvent[] = [];
      const streamError = await failure(
        (async () => {
          for await (const e of make().stream(user, { ...opts, signal: streamController.signal })) {
            events.push(e);
            if (events.length === 2) streamController.abort(reason);
          }
        })(),
      );
      expect(streamError).toBe(reason);
    });

    it("breaking out of a stream closes the request on the server", async () => {
      replay.reply({
        headers: SSE_HEADERS,
        chunks: sse("openai/stream-text.sse", 20),
        chunkDelayMs: 10,
        hang: true,
      });
      for await (const event of make().stream(user, opts)) {
        if (event.type === "text-delta") break;
      }
      await vi.waitFor(() => expect(replay.closedEarly).toBe(1), { timeout: 2000 });
    });
  });
});

describe("OpenAIProvider configuration", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("reads key and base URL from the environment; a missing key fails at request time", async () => {
    vi.stubEnv("OPENAI_API_KEY", "");
    vi.stubEnv("OPENAI_BASE_URL", "");
    const provider = new OpenAIProvider({ fetch: async () => new Response("{}") });
    expect(provider.hasKey).toBe(false);
    expect(provider.baseURL).toBe("https://api.openai.com/v1");
    const error = (await failure(provider.complete([], { model: "gpt-4o" }))) as ConfigurationError;
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect(error.message).toContain("apiKey");
    expect(error.message).toContain("OPENAI_API_KEY");

    vi.stubEnv("OPENAI_API_KEY", KEY);
    vi.stubEnv("OPENAI_BASE_URL", "http://localhost:8080/v1/");
    const fromEnv = new OpenAIProvider();
    expect(fromEnv.hasKey).toBe(true);
    expect(fromEnv.baseURL).toBe("http://localhost:8080/v1");

    // A custom-named endpoint reads its own variables and never borrows OpenAI's key.
    const local = new OpenAIProvider({ name: "local" });
    expect(local.name).toBe("local");
    expect(local.hasKey).toBe(false);
    expect(local.baseURL).toBe("https://api.openai.com/v1");
    const own = new OpenAIProvider({
      name: "my-llm",
      env: { MY_LLM_API_KEY: "k", MY_LLM_BASE_URL: "http://127.0.0.1:9/v1" },
    });
    expect(own.hasKey).toBe(true);
    expect(own.baseURL).toBe("http://127.0.0.1:9/v1");
    const missing = (await failure(local.complete([], { model: "m" }))) as ConfigurationError;
    expect(missing.message).toContain("LOCAL_API_KEY");
  });

  it("uses max_completion_tokens on api.openai.com", async () => {
    let body = "";
    const provider = new OpenAIProvider({
      apiKey: KEY,
      maxTokens: 77,
      fetch: async (_url, init) => {
        body = String(init?.body);
        return new Response(fixture("openai/completion.json"), { headers: JSON_HEADERS });
      },
    });
    await provider.complete([{ role: "user", content: "hi" }], { model: "o3-mini" });
    expect(JSON.parse(body).max_completion_tokens).toBe(77);
    expect(JSON.parse(body).max_tokens).toBeUndefined();
  });

  it("rejects bad options with a RangeError naming them", () => {
    expect(() => new OpenAIProvider({ timeoutMs: -1 })).toThrow(/timeoutMs.*-1/);
    expect(() => new AnthropicProvider({ maxTokens: 1.5 })).toThrow(/maxTokens.*1\.5/);
  });

  it("reports a refused connection as ConnectionError with its code", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    for (const options of [{ transport: createNodeTransport() }, { fetch: globalThis.fetch }]) {
      const provider = new OpenAIProvider({
        apiKey: KEY,
        baseURL: `http://127.0.0.1:${port}/v1`,
        ...options,
      });
      const error = (await failure(provider.complete([], { model: "gpt-4o" }))) as ConnectionError;
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(error.code).toBe("ECONNREFUSED");
      expect(error.provider).toBe("openai");
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(MODES)("AnthropicProvider over %s", (mode) => {
  const replay = new Replay(mode);
  beforeAll(() => replay.start());
  afterAll(() => replay.stop());
  const make = (extra: Record<string, unknown> = {}) =>
    new AnthropicProvider({ apiKey: KEY, ...replay.options(), ...extra });
  const opts: ProviderRequestOptions = { model: "claude-sonnet-4-20250514" };
  const user: ChatMessage[] = [{ role: "user", content: "What is 2+2?" }];

  it("sends a Messages request and reads the response", async () => {
    replay.reply({
      headers: {
        ...JSON_HEADERS,
        "request-id": "req_011CSH",
        "anthropic-ratelimit-tokens-remaining": "39000",
      },
      chunks: [fixture("anthropic/message.json")],
    });
    const res = await make({ headers: { "anthropic-beta": "tools-2024-05-16" } }).complete(
      [{ role: "system", content: "Be brief." }, ...user],
      opts,
    );
    expect(res).toMatchObject({
      content: "4",
      provider: "anthropic",
      model: "claude-sonnet-4-20250514",
      responseModel: "claude-sonnet-4-20250514",
      finishReason: "stop",
      rawFinishReason: "end_turn",
      usage: { inputTokens: 20, outputTokens: 5, totalTokens: 25 },
      requestId: "req_011CSH",
      rateLimit: { remainingTokens: 39000 },
    });
    const sent = replay.requests[0] as Recorded;
    expect(sent.url).toMatch(/\/v1\/messages$/);
    expect(sent.headers["x-api-key"]).toBe(KEY);
    expect(sent.headers["anthropic-version"]).toBe("2023-06-01");
    expect(sent.headers["anthropic-beta"]).toBe("tools-2024-05-16");
    expect(sent.headers.authorization).toBeUndefined();
    expect(JSON.parse(sent.body)).toEqual({
      model: "claude-sonnet-4-20250514",
      max_tokens: 8192,
      system: "Be brief.",
      messages: [{ role: "user", content: "What is 2+2?" }],
    });
  });

  it("reads tool use, leaving thinking out of the text", async () => {
    replay.reply({ headers: JSON_HEADERS, chunks: [fixture("anthropic/message-tool-use.json")] });
    const res = await make().complete(user, opts);
    expect(res.content).toBe("I'll check the weather.");
    expect(res.finishReason).toBe("tool_calls");
    expect(res.toolCalls).toEqual([
      {
        id: "toolu_01A09q90qw90lq917835lq9",
        name: "get_weather",
        arguments: '{"location":"San Francisco, CA","unit":"celsius"}',
      },
    ]);
  });

  interface ErrorCase {
    name: string;
    status: number;
    headers: Record<string, string>;
    body: string;
    expect: { class: string; type?: string; retryAfterMs?: number };
  }
  const cases = JSON.parse(fixture("anthropic/errors.json")) as ErrorCase[];
  it.each(cases)("maps $name", async (c) => {
    for (const stream of [false, true]) {
      replay.reply({ status: c.status, headers: c.headers, chunks: c.body ? [c.body] : [] });
      const provider = make();
      const error = (await failure(
        stream ? collect(provider.stream(user, opts)) : provider.complete(user, opts),
      )) as ProviderError;
      expect(error.name).toBe(c.expect.class);
      expect(error).toMatchObject({ provider: "anthropic", model: opts.model, status: c.status });
      if (c.expect.type) expect(error.type).toBe(c.expect.type);
      if ("retryAfterMs" in c.expect) expect(error.retryAfterMs).toBe(c.expect.retryAfterMs);
      if (c.headers["request-id"]) expect(error.requestId).toBe(c.headers["request-id"]);
      if (c.headers["x-should-retry"]) expect(error.rateLimit?.shouldRetry).toBe(true);
      if (c.headers["anthropic-ratelimit-requests-remaining"]) {
        expect(error.rateLimit).toMatchObject({
          limitRequests: 50,
          remainingRequests: 0,
          limitOutputTokens: 8000,
        });
      }
    }
  });

  it("streams text through pings with cumulative usage", async () => {
    replay.reply({
      headers: { ...SSE_HEADERS, "request-id": "req_s" },
      chunks: sse("anthropic/stream-text.sse"),
    });
    const events = await collect(make().stream(user, opts));
    expect(textOf(events)).toBe("Hello! How can I help you today?");
    const res = finishOf(events);
    expect(res).toMatchObject({
      content: "Hello! How can I help you today?",
      finishReason: "stop",
      rawFinishReason: "end_turn",
      usage: { inputTokens: 25, outputTokens: 15, totalTokens: 40 },
      requestId: "req_s",
    });
    // message_start reports the billed input at once; message_delta's usage is cumulative.
    expect(events.filter((e) => e.type === "usage")).toMatchObject([
      { usage: { inputTokens: 25, outputTokens: 1 } },
      { usage: { inputTokens: 25, outputTokens: 15 } },
    ]);
    expect(JSON.parse(replay.requests[0]?.body ?? "{}").stream).toBe(true);
  });

  it("reads CRLF line ends and comments", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("anthropic/stream-text-crlf.sse", 11) });
    const crlf = await collect(make().stream(user, opts));
    replay.reply({ headers: SSE_HEADERS, chunks: sse("anthropic/stream-text.sse") });
    expect(crlf).toEqual(await collect(make().stream(user, opts)));
  });

  it("streams tool use: deltas, assembled calls, thinking skipped", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("anthropic/stream-tool-use.sse", 9) });
    const events = await collect(make().stream(user, opts));
    expect(textOf(events)).toBe("Okay, let me check the weather.");
    const deltas = events.filter((e) => e.type === "tool-call-delta");
    expect(deltas[0]).toMatchObject({
      index: 0,
      id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      name: "get_weather",
    });
    const calls = [
      {
        id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        name: "get_weather",
        arguments: '{"location": "San Francisco, CA"}',
      },
      { id: "toolu_02NoArgs", name: "get_time", arguments: "{}" },
    ];
    expect(events.flatMap((e) => (e.type === "tool-call" ? [e.toolCall] : []))).toEqual(calls);
    expect(finishOf(events)).toMatchObject({
      finishReason: "tool_calls",
      rawFinishReason: "tool_use",
      toolCalls: calls,
      responseModel: "claude-opus-4-1-20250805",
      usage: { inputTokens: 572, outputTokens: 89 },
    });
  });

  it("skips a malformed event with a warning", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("anthropic/stream-malformed.sse") });
    const events = await collect(make().stream(user, opts));
    expect(textOf(events)).toBe("Hello world");
    expect(events.some((e) => e.type === "warning")).toBe(true);
  });

  it("completes a stream without message_stop", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("anthropic/stream-no-message-stop.sse") });
    const res = finishOf(await collect(make().stream(user, opts)));
    expect(res).toMatchObject({
      content: "Hello! How can I help you today?",
      usage: { outputTokens: 15 },
    });
  });

  it("a stream cut after content is interrupted; before content a ConnectionError", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("anthropic/stream-truncated.sse") });
    const error = (await failure(collect(make().stream(user, opts)))) as StreamInterruptedError;
    expect(StreamInterruptedError.isInstance(error)).toBe(true);
    expect(error.partialText).toBe("Hello! How can");
    expect((error.cause as ConnectionError).code).toBe("ERR_STREAM_TRUNCATED");
    replay.reply({ headers: SSE_HEADERS, chunks: sse("anthropic/stream-empty-cut.sse") });
    const early = await failure(collect(make().stream(user, opts)));
    expect(ConnectionError.isInstance(early)).toBe(true);
  });

  it.each([
    ["anthropic/stream-error-before-content.sse", OverloadedError, 529],
    ["anthropic/stream-error-rate-limit.sse", RateLimitError, 429],
    ["anthropic/stream-error-invalid.sse", BadRequestError, 400],
  ] as const)(
    "throws an in-band error before content as its HTTP twin (%s)",
    async (file, cls, status) => {
      replay.reply({ headers: SSE_HEADERS, chunks: sse(file) });
      const error = await failure(collect(make().stream(user, opts)));
      expect(error).toBeInstanceOf(cls);
      expect((error as ProviderError).status).toBe(status);
    },
  );

  it("wraps an in-band error after content", async () => {
    replay.reply({ headers: SSE_HEADERS, chunks: sse("anthropic/stream-error-after-content.sse") });
    const error = (await failure(collect(make().stream(user, opts)))) as StreamInterruptedError;
    expect(error.partialText).toBe("Hello! How can");
    expect(ServerError.isInstance(error.cause)).toBe(true);
    expect((error.cause as ServerError).status).toBe(500);
  });

  it("continues from a prefill: appended as the assistant turn, content is the continuation", async () => {
    expect(make().supportsPrefill).toBe(true);
    replay.reply({ headers: SSE_HEADERS, chunks: sse("anthropic/stream-prefill.sse") });
    const events = await collect(make().stream(user, { ...opts, prefill: "Hello " }));
    const res = finishOf(events);
    // The API rejects trailing whitespace in the prefill: it is trimmed, and the continuation's
    // leading whitespace dropped, so prefill + content reads "Hello world!".
    expect(res.content).toBe("world!");
    const body = JSON.parse(replay.requests[0]?.body ?? "{}");
    expect(body.messages).toEqual([
      { role: "user", content: "What is 2+2?" },
      { role: "assistant", content: "Hello" },
    ]);
  });

  it("lists models across pages", async () => {
    replay.reply(
      { headers: JSON_HEADERS, chunks: [fixture("anthropic/models-page1.json")] },
      { headers: JSON_HEADERS, chunks: [fixture("anthropic/models-page2.json")] },
    );
    const models = await make().listModels();
    expect(models.map((m) => m.id)).toEqual([
      "claude-opus-4-1-20250805",
      "claude-sonnet-4-20250514",
      "claude-3-5-haiku-20241022",
    ]);
    expect(models[0]).toMatchObject({
      displayName: "Claude Opus 4.1",
      createdAt: Date.parse("2025-08-05T00:00:00Z"),
    });
    expect(replay.requests[1]?.url).toContain("after_id=claude-sonnet-4-20250514");
  });

  it("timeouts: first-token ignores pings; idle after content interrupts", async () => {
    replay.reply({
      headers: SSE_HEADERS,
      chunks: [fixture("anthropic/stream-empty-cut.sse"), 'event: ping\ndata: {"type":"ping"}\n\n'],
      chunkDelayMs: 30,
      hang: true,
    });
    const first = (await failure(
      collect(make({ firstTokenTimeoutMs: 100 }).stream(user, opts)),
    )) as TimeoutError;
    expect(first.kind).toBe("first-token");
    replay.reply({
      headers: SSE_HEADERS,
      chunks: [fixture("anthropic/stream-truncated.sse")],
      hang: true,
    });
    const idle = (await failure(
      collect(make({ idleTimeoutMs: 100 }).stream(user, opts)),
    )) as StreamInterruptedError;
    expect((idle.cause as TimeoutError).kind).toBe("idle");
    expect(idle.partialText).toBe("Hello! How can");
  });

  it("breaking out of a stream closes the request on the server", async () => {
    replay.reply({
      headers: SSE_HEADERS,
      chunks: sse("anthropic/stream-text.sse", 20),
      chunkDelayMs: 10,
      hang: true,
    });
    for await (const event of make().stream(user, opts)) {
      if (event.type === "text-delta") break;
    }
    await vi.waitFor(() => expect(replay.closedEarly).toBe(1), { timeout: 2000 });
  });
});

// ---------------------------------------------------------------------------------------------

describe("both wires", () => {
  /** Runs `provider` against a fetch that records the body and answers with `reply`. */
  function capture(reply: string): { fetch: typeof fetch; body: () => Record<string, unknown> } {
    let body = "";
    return {
      fetch: (async (_url: string, init: RequestInit) => {
        body = String(init.body);
        return new Response(reply, { headers: JSON_HEADERS });
      }) as typeof fetch,
      body: () => JSON.parse(body),
    };
  }

  it("one message list becomes correct bodies for OpenAI and Anthropic", async () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "You are a weather bot." },
      {
        role: "user",
        content: [
          { type: "text", text: "What is the weather where this photo was taken?" },
          { type: "image", url: "https://example.com/paris.jpg" },
          { type: "image", data: "iVBORw0KGgo=", mediaType: "image/png" },
        ],
      },
      {
        role: "assistant",
        content: "Let me look.",
        toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' }],
      },
      { role: "tool", toolCallId: "call_1", content: '{"temp":21}' },
    ];
    const tools = [
      { name: "get_weather", description: "Weather by city", parameters: { type: "object" } },
    ];
    const openai = capture(fixture("openai/completion.json"));
    await new OpenAIProvider({ apiKey: KEY, fetch: openai.fetch }).complete(messages, {
      model: "gpt-4o",
      tools,
      toolChoice: { name: "get_weather" },
    });
    expect(openai.body()).toMatchObject({
      messages: [
        { role: "system", content: "You are a weather bot." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is the weather where this photo was taken?" },
            { type: "image_url", image_url: { url: "https://example.com/paris.jpg" } },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
        {
          role: "assistant",
          content: "Let me look.",
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: '{"temp":21}' },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Weather by city",
            parameters: { type: "object" },
          },
        },
      ],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });

    const anthropic = capture(fixture("anthropic/message.json"));
    await new AnthropicProvider({ apiKey: KEY, fetch: anthropic.fetch }).complete(messages, {
      model: "claude-3-haiku-20240307",
      tools,
      toolChoice: "required",
    });
    expect(anthropic.body()).toEqual({
      model: "claude-3-haiku-20240307",
      max_tokens: 4096,
      system: "You are a weather bot.",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is the weather where this photo was taken?" },
            { type: "image", source: { type: "url", url: "https://example.com/paris.jpg" } },
            {
              type: "image",
              source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" },
            },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Let me look." },
            { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
          ],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "call_1", content: '{"temp":21}' }],
        },
      ],
      tools: [
        { name: "get_weather", description: "Weather by city", input_schema: { type: "object" } },
      ],
      tool_choice: { type: "any" },
    });
  });

  it("merges consecutive same-role messages for Anthropic", async () => {
    const anthropic = capture(fixture("anthropic/message.json"));
    await new AnthropicProvider({ apiKey: KEY, fetch: anthropic.fetch }).complete(
      [
        { role: "user", content: "one" },
        { role: "user", content: "two" },
        { role: "system", content: "late system" },
      ],
      { model: "claude-sonnet-4-20250514", providerOptions: { metadata: { user_id: "u1" } } },
    );
    expect(anthropic.body()).toMatchObject({
      system: "late system",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "one" },
            { type: "text", text: "two" },
          ],
        },
      ],
      metadata: { user_id: "u1" },
    });
  });
});

describe("stream parsers under any byte split", () => {
  const encoder = new TextEncoder();
  function splitFetch(bytes: Uint8Array, cuts: number[]): typeof fetch {
    return (async () => {
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const pieces: Uint8Array[] = [];
      let start = 0;
      for (const point of [...points, bytes.length]) {
        if (point > start) pieces.push(bytes.slice(start, point));
        start = Math.max(start, point);
      }
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const piece = pieces.shift();
          if (piece === undefined) controller.close();
          else controller.enqueue(piece);
        },
      });
      return new Response(body, { headers: SSE_HEADERS });
    }) as typeof fetch;
  }
  const unicode = (text: string) => text.replace(/"Hello"/g, '"Héllo 🌍 — ok"');
  const transcripts: Array<[string, (fetchFn: typeof globalThis.fetch) => Provider, string]> = [
    ["openai/stream-tool-calls.sse", (f) => new OpenAIProvider({ apiKey: KEY, fetch: f }), ""],
    ["openai/stream-keepalive-crlf.sse", (f) => new OpenAIProvider({ apiKey: KEY, fetch: f }), ""],
    [
      "openai/stream-malformed.sse",
      (f) => new OpenAIProvider({ apiKey: KEY, fetch: f }),
      "unicode",
    ],
    ["anthropic/stream-tool-use.sse", (f) => new AnthropicProvider({ apiKey: KEY, fetch: f }), ""],
    [
      "anthropic/stream-text-crlf.sse",
      (f) => new AnthropicProvider({ apiKey: KEY, fetch: f }),
      "unicode",
    ],
  ];
  it.each(transcripts)(
    "%s yields the same events however its bytes are cut",
    async (file, make, variant) => {
      const text = variant === "unicode" ? unicode(fixture(file)) : fixture(file);
      const bytes = encoder.encode(text);
      const strip = (events: ProviderStreamEvent[]) =>
        events.map((e) => (e.type === "warning" ? { type: "warning", code: e.warning.code } : e));
      const reference = strip(
        await collect(make(splitFetch(bytes, [])).stream([], { model: "m" })),
      );
      expect(reference.at(-1)?.type).toBe("finish");
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { maxLength: 40 }), async (cuts) => {
          const events = strip(
            await collect(make(splitFetch(bytes, cuts)).stream([], { model: "m" })),
          );
          expect(events).toEqual(reference);
        }),
        { numRuns: 60 },
      );
    },
  );
});

describe("secrets", () => {
  it("no error, event or provider dump ever shows the key", async () => {
    const dumps: string[] = [];
    const dump = (value: unknown) => {
      dumps.push(inspect(value, { depth: 20, showHidden: true }));
      dumps.push(JSON.stringify(value) ?? "");
      if (value instanceof Error) dumps.push(String(value.stack), value.message);
    };
    // The server echoes the key back, in full and masked, in its error message.
    const echo = `Incorrect API key provided: ${KEY}. Also sk-abc***xyz.`;
    const answers: Array<[number, string]> = [
      [
        401,
        JSON.stringify({
          error: { message: echo, type: "invalid_request_error", code: "invalid_api_key" },
        }),
      ],
      [
        400,
        JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: echo } }),
      ],
      [
        429,
        JSON.stringify({ error: { message: echo, type: "tokens", code: "rate_limit_exceeded" } }),
      ],
      [529, JSON.stringify({ type: "error", error: { type: "overloaded_error", message: echo } })],
    ];
    let seenKey = false;
    for (const [status, body] of answers) {
      const fetchEcho = (async (_url: string, init: RequestInit) => {
        seenKey ||= JSON.stringify(init.headers).includes(KEY);
        return new Response(body, { status });
      }) as typeof fetch;
      for (const provider of [
        new OpenAIProvider({ apiKey: KEY, fetch: fetchEcho }),
        new AnthropicProvider({ apiKey: KEY, fetch: fetchEcho }),
      ]) {
        dump(provider);
        dump(await failure(provider.complete([{ role: "user", content: "hi" }], { model: "m" })));
        dump(await failure(collect(provider.stream([], { model: "m" }))));
      }
    }
    expect(seenKey).toBe(true); // the key was sent, so its absence below means something
    // Transport failures, timeouts, interruptions and a stream's own events.
    const refused = new OpenAIProvider({
      apiKey: KEY,
      fetch: (async () => {
        throw new TypeError("fetch failed", {
          cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
        });
      }) as typeof fetch,
    });
    dump(await failure(refused.complete([], { model: "m" })));
    const cut = new AnthropicProvider({
      apiKey: KEY,
      fetch: (async () => new Response(fixture("anthropic/stream-truncated.sse"))) as typeof fetch,
    });
    dump(await failure(collect(cut.stream([], { model: "m" }))));
    const ok = new OpenAIProvider({
      apiKey: KEY,
      fetch: (async () => new Response(fixture("openai/stream-malformed.sse"))) as typeof fetch,
    });
    dump(await collect(ok.stream([], { model: "m" })));
    // Every error class of the package, built the way providers build them.
    for (const [name, cls] of Object.entries(errors)) {
      if (typeof cls !== "function" || !name.endsWith("Error")) continue;
      const instance =
        cls.prototype instanceof ProviderError || cls === ProviderError
          ? new (cls as typeof ProviderError)({ provider: "openai", model: "m", status: 400 })
          : cls === TimeoutError
            ? new TimeoutError("idle", 100, { provider: "openai", model: "m" })
            : cls === StreamInterruptedError
              ? new StreamInterruptedError("cut", { partialText: "abc", provider: "openai" })
              : cls === errors.CircuitOpenError
                ? new errors.CircuitOpenError("openai:m", 1000)
                : cls === errors.FallbackExhaustedError
                  ? new errors.FallbackExhaustedError([
                      new AuthenticationError({ provider: "openai", status: 401 }),
                    ])
                  : new (cls as new (message: string) => Error)("x");
      dump(instance);
    }
    dump(new ConfigurationError("x"));
    expect(dumps.length).toBeGreaterThan(50);
    for (const text of dumps) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain("SECRET-0123");
    }
  });
});
