/**
 * Issue 12, item 6: servers that echo the API key into the error code and type, an in-band
 * stream error, the request-id headers and a malformed chunk. The key must appear on no surface:
 * error.message, String(error), JSON.stringify, util.inspect, the stack, attempts, the errors of
 * FallbackExhaustedError, onRetry / onFallback / onWarning arguments, stream events, requestId.
 */
import type { ServerResponse } from "node:http";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { FallbackExhaustedError } from "../src/errors/errors.js";
import { Message } from "../src/message.js";
import {
  type HostileServer,
  hostileServer,
  RetryClient,
  sse,
  textChunk,
} from "./helpers/hostile.js";

// Not shaped like a known key (the exact-secret rule must catch it), and one that is.
const OPENAI_KEY = "hostile-key-0f9e8d7c6b5a4f3e";
const ANTHROPIC_KEY = "sk-ant-api03-HOSTILEx9y8z7w6v5u4";

const servers: HostileServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Everything the caller can see, rendered every way a log would render it. */
function surfaces(values: unknown[]): string {
  const out: string[] = [];
  for (const value of values) {
    out.push(inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true }));
    try {
      out.push(JSON.stringify(value) ?? "");
    } catch {
      // cyclic: inspect covered it
    }
    if (value instanceof Error) {
      out.push(value.message, String(value), value.stack ?? "");
      let cause: unknown = value.cause;
      while (cause instanceof Error) {
        out.push(cause.message, String(cause), cause.stack ?? "");
        cause = cause.cause;
      }
      const errors = (value as { errors?: unknown[] }).errors;
      for (const e of errors ?? [])
        if (e instanceof Error) out.push(e.message, String(e), e.stack ?? "");
      const attempts = (value as { attempts?: unknown[] }).attempts;
      out.push(JSON.stringify(attempts ?? []));
    }
  }
  return out.join("\n");
}

const keyEchoingOpenAI = (res: ServerResponse, status: number) => {
  res.writeHead(status, {
    "content-type": "application/json",
    "x-request-id": `req_${OPENAI_KEY}`,
    "retry-after-ms": "1",
  });
  res.end(
    JSON.stringify({
      error: { message: `bad key ${OPENAI_KEY}`, type: OPENAI_KEY, code: `code-${OPENAI_KEY}` },
    }),
  );
};

const keyEchoingAnthropic = (res: ServerResponse, status: number) => {
  res.writeHead(status, {
    "content-type": "application/json",
    "request-id": ANTHROPIC_KEY,
    "retry-after-ms": "1",
  });
  res.end(
    JSON.stringify({
      type: "error",
      error: { type: ANTHROPIC_KEY, message: `key ${ANTHROPIC_KEY} refused` },
    }),
  );
};

function clientFor(openai: HostileServer, anthropic: HostileServer, seen: unknown[]): RetryClient {
  return new RetryClient({
    env: {},
    defaultProvider: "openai",
    defaultModel: "gpt-4o",
    fallbackModels: [["anthropic", "claude-sonnet-4-5"]],
    retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2, jitter: 0 },
    retryBudget: false,
    circuitEnabled: false,
    providers: {
      openai: { apiKey: OPENAI_KEY, baseURL: `${openai.url}/v1` },
      anthropic: { apiKey: ANTHROPIC_KEY, baseURL: anthropic.url },
    },
    onRetry: (...args) => seen.push(args),
    onFallback: (...args) => seen.push(args),
    onWarning: (...args) => seen.push(args),
  });
}

function expectNoKey(text: string): void {
  expect(text).not.toContain(OPENAI_KEY);
  expect(text).not.toContain(ANTHROPIC_KEY);
  // Not even a long piece of either.
  expect(text).not.toContain(OPENAI_KEY.slice(0, 16));
  expect(text).not.toContain(ANTHROPIC_KEY.slice(0, 16));
}

describe("item 6: a key echoed by the server appears on no surface", () => {
  for (const status of [429, 500, 401, 400]) {
    it(`HTTP ${status} errors (code, type, message, request id), through retries and fallback`, async () => {
      const openai = await hostileServer((_req, res) => keyEchoingOpenAI(res, status));
      const anthropic = await hostileServer((_req, res) => keyEchoingAnthropic(res, status));
      servers.push(openai, anthropic);
      const seen: unknown[] = [];
      const client = clientFor(openai, anthropic, seen);
      const error = await client.complete([Message.user("hi")]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      if (status !== 400) {
        expect(FallbackExhaustedError.isInstance(error)).toBe(true);
        expect(seen.length).toBeGreaterThan(0); // onFallback (and onRetry) saw errors
      }
      // The facts survive, only the key is gone.
      const text = surfaces([error, ...seen]);
      expect(text).toContain("[redacted]");
      expectNoKey(text);
      // Streams: every event, too.
      const events: unknown[] = [];
      const streamError = await (async () => {
        for await (const event of client.stream([Message.user("hi")]).events()) events.push(event);
      })().catch((e: unknown) => e);
      expectNoKey(surfaces([streamError, ...events, ...seen]));
    });
  }

  it("an in-band stream error, a malformed chunk and a successful answer's request id", async () => {
    let call = 0;
    const openai = await hostileServer((_req, res) => {
      call++;
      res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": OPENAI_KEY });
      if (call === 1) {
        res.end(sse({ error: { type: OPENAI_KEY, code: OPENAI_KEY, message: OPENAI_KEY } }));
        return;
      }
      res.write(`data: {"broken ${OPENAI_KEY}\n\n`);
      res.write(sse(textChunk("fine", "stop")));
      res.end(sse("[DONE]"));
    });
    const anthropic = await hostileServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "request-id": ANTHROPIC_KEY });
      res.end(
        `event: error\ndata: ${JSON.stringify({ type: "error", error: { type: ANTHROPIC_KEY, message: ANTHROPIC_KEY } })}\n\n`,
      );
    });
    servers.push(openai, anthropic);
    const seen: unknown[] = [];
    const client = clientFor(openai, anthropic, seen);
    const events: unknown[] = [];
    const stream = client.stream([Message.user("hi")]);
    for await (const event of stream.events()) events.push(event);
    const response = await stream.response;
    expect(response.content).toBe("fine");
    expect(response.requestId).toBe("[redacted]");
    expect(events.some((e) => (e as { type: string }).type === "warning")).toBe(true);
    expectNoKey(surfaces([response, ...events, ...seen]));

    // Anthropic alone: its in-band error is the error thrown.
    const only = new RetryClient({
      env: {},
      defaultProvider: "anthropic",
      defaultModel: "claude-sonnet-4-5",
      fallbackModels: [],
      retryEnabled: false,
      providers: { anthropic: { apiKey: ANTHROPIC_KEY, baseURL: anthropic.url } },
    });
    const error = await only.stream([Message.user("hi")]).response.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expectNoKey(surfaces([error]));
  });

  it("a 200 that is not JSON and quotes the key", async () => {
    const openai = await hostileServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-request-id": OPENAI_KEY });
      res.end(`{"oops": ${OPENAI_KEY}`);
    });
    servers.push(openai);
    const client = new RetryClient({
      env: {},
      defaultProvider: "openai",
      defaultModel: "gpt-4o",
      fallbackModels: [],
      retryEnabled: false,
      providers: { openai: { apiKey: OPENAI_KEY, baseURL: `${openai.url}/v1` } },
    });
    const error = await client.complete([Message.user("hi")]).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("invalid_response");
    expectNoKey(surfaces([error]));
  });
});
