/**
 * The gateway's rules, one raw-HTTP test each: auth, error bodies in each wire's format
 * (400/401/413/429/502/503), limits, caller disconnect → upstream aborted, the in-band error
 * after stream bytes went out, graceful drain with a stream in flight, credentials in neither
 * direction, and no upstream key in any response, log or /metrics.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway } from "../src/gateway/index.js";
import { startSimulator } from "../src/simulator/index.js";
import {
  type GatewayFixture,
  postJson,
  rawRequest,
  startGatewayFixture,
  UPSTREAM_ANTHROPIC_KEY,
  UPSTREAM_OPENAI_KEY,
} from "./helpers/gateway.js";

const KEY = "gw-rules-key-9f3a";
const auth = { authorization: `Bearer ${KEY}` };
const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "Hi" }],
  ...extra,
});
const message = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  max_tokens: 50,
  messages: [{ role: "user", content: "Hi" }],
  ...extra,
});

let fx: GatewayFixture;
const bodies: string[] = [];

const until = async (check: () => boolean, timeoutMs = 2000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

beforeAll(async () => {
  fx = await startGatewayFixture({
    keys: [KEY],
    maxBodyBytes: 2000,
    models: {
      "all-down": [
        ["openai", "gpt-4o~500"],
        ["anthropic", "claude-sonnet-4-20250514~500"],
      ],
      "last-overloaded": [
        ["openai", "gpt-4o~500"],
        ["anthropic", "claude-sonnet-4-20250514~529"],
      ],
      "all-cooling": [
        ["openai", "gpt-4o~429-retry-after-90s"],
        ["anthropic", "claude-sonnet-4-20250514~429-retry-after-120s"],
      ],
    },
    client: { retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 2 } },
  });
});

afterAll(async () => {
  await fx?.close();
});

describe("gateway keys", () => {
  it("401 without a key, with a wrong key, in each wire's format; Bearer and x-api-key both work", async () => {
    const none = await postJson(fx.url, "/v1/chat/completions", chat("gpt-4o"));
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({
      error: { type: "invalid_request_error", code: "invalid_api_key" },
    });
    const wrong = await postJson(fx.url, "/v1/messages", message("claude-sonnet-4-20250514"), {
      "x-api-key": "gw-rules-key-9f3b",
    });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toMatchObject({
      type: "error",
      error: { type: "authentication_error" },
    });
    const bearer = await postJson(fx.url, "/v1/chat/completions", chat("gpt-4o"), auth);
    expect(bearer.status).toBe(200);
    const apiKey = await postJson(fx.url, "/v1/messages", message("claude-sonnet-4-20250514"), {
      "x-api-key": KEY,
    });
    expect(apiKey.status).toBe(200);
    bodies.push(none.body, wrong.body, bearer.body, apiKey.body);
  });

  it("without any key configured it refuses a non-loopback host", async () => {
    const gateway = createGateway({ client: { env: {} } });
    await expect(gateway.listen(0, "0.0.0.0")).rejects.toThrow(/without a gateway key/);
    const loopback = await gateway.listen(0, "127.0.0.1");
    expect(loopback.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await gateway.drain();
  });
});

describe("model selection", () => {
  it("provider:model picks the provider; an id with colons of no known provider stays whole", async () => {
    const explicit = await postJson(
      fx.url,
      "/v1/chat/completions",
      chat("anthropic:claude-sonnet-4-20250514"),
      auth,
    );
    expect(explicit.status).toBe(200);
    expect(explicit.headers["x-retry-client-provider"]).toBe("anthropic");
    expect(explicit.headers["x-retry-client-model"]).toBe("claude-sonnet-4-20250514");
    const fineTuned = await postJson(
      fx.url,
      "/v1/chat/completions",
      chat("ft:gpt-4o:org::x1"),
      auth,
    );
    expect(fineTuned.headers["x-retry-client-provider"]).toBe("openai");
    expect(fineTuned.headers["x-retry-client-model"]).toBe("ft:gpt-4o:org::x1");
    // A bare name is placed by its name, like the library places it.
    const bare = await postJson(fx.url, "/v1/messages", message("claude-sonnet-4-20250514"), auth);
    expect(bare.headers["x-retry-client-provider"]).toBe("anthropic");
  });
});

describe("errors in the caller's wire format", () => {
  it("400 for an invalid request, naming the field", async () => {
    const openai = await postJson(fx.url, "/v1/chat/completions", { model: "gpt-4o" }, auth);
    expect(openai.status).toBe(400);
    expect(JSON.parse(openai.body).error).toMatchObject({ type: "invalid_request_error" });
    expect(JSON.parse(openai.body).error.message).toMatch(/messages/);
    const anthropic = await postJson(
      fx.url,
      "/v1/messages",
      { model: "claude-sonnet-4-20250514", messages: [{ role: "user", content: "Hi" }] },
      auth,
    );
    expect(anthropic.status).toBe(400);
    expect(JSON.parse(anthropic.body)).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringMatching(/max_tokens/) },
    });
    const notJson = await rawRequest(fx.url, {
      path: "/v1/chat/completions",
      body: "{not json",
      headers: auth,
    });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error.message).toMatch(/not valid JSON/);
  });

  it("400 for input the client itself refuses before any upstream call", async () => {
    const before = fx.sim.requests().length;
    const res = await postJson(
      fx.url,
      "/v1/chat/completions",
      {
        model: "gpt-4o",
        messages: [
          { role: "user", content: "Hi" },
          { role: "tool", tool_call_id: "", content: "x" },
        ],
      },
      auth,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatchObject({ type: "invalid_request_error" });
    expect(fx.sim.requests().length).toBe(before);
  });

  it("502 when every target failed, listing each; 503 when the last was an overload", async () => {
    const openai = await postJson(fx.url, "/v1/chat/completions", chat("all-down"), auth);
    expect(openai.status).toBe(502);
    const error = JSON.parse(openai.body).error;
    expect(error.type).toBe("server_error");
    expect(error.message).toMatch(/openai gpt-4o~500: 500/);
    expect(error.message).toMatch(/anthropic claude-sonnet-4-20250514~500: 500/);
    expect(openai.headers["x-retry-client-attempts"]).toBe("2");

    const anthropic = await postJson(fx.url, "/v1/messages", message("all-down"), auth);
    expect(anthropic.status).toBe(502);
    expect(JSON.parse(anthropic.body)).toMatchObject({
      type: "error",
      error: { type: "api_error" },
    });

    const overloaded = await postJson(fx.url, "/v1/messages", message("last-overloaded"), auth);
    expect(overloaded.status).toBe(503);
    expect(JSON.parse(overloaded.body).error.type).toBe("overloaded_error");
    bodies.push(openai.body, anthropic.body, overloaded.body);
  });

  it("429 with retry-after when every target is cooling down, in both wires", async () => {
    const openai = await postJson(fx.url, "/v1/chat/completions", chat("all-cooling"), auth);
    expect(openai.status).toBe(429);
    expect(openai.headers["retry-after"]).toBe("90");
    expect(JSON.parse(openai.body).error).toMatchObject({ code: "rate_limit_exceeded" });
    // The second call skips both targets (cooling down): no new upstream request.
    const before = fx.sim.requests().length;
    const anthropic = await postJson(fx.url, "/v1/messages", message("all-cooling"), auth);
    expect(anthropic.status).toBe(429);
    expect(Number(anthropic.headers["retry-after"])).toBeGreaterThan(80);
    expect(JSON.parse(anthropic.body).error.type).toBe("rate_limit_error");
    expect(fx.sim.requests().length).toBe(before);
  });

  it("unknown routes are 404, wrong methods 405", async () => {
    expect((await rawRequest(fx.url, { path: "/v1/nothing", headers: auth })).status).toBe(404);
    expect((await rawRequest(fx.url, { path: "/v1/chat/completions", headers: auth })).status).toBe(
      405,
    );
  });
});

describe("limits", () => {
  it("413 for a declared body over maxBodyBytes, answered before the body is sent", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(fx.url).port), "127.0.0.1");
      let data = "";
      socket.on("data", (d) => {
        data += d.toString();
      });
      socket.on("close", () => resolve(data));
      socket.on("error", reject);
      // Declares 50 MB, sends none of it: the answer must not wait for the body.
      socket.write(
        `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\ncontent-type: application/json\r\ncontent-length: 50000000\r\n\r\n`,
      );
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toContain('"request_too_large"');
  });

  it("413 for a chunked body that grows past maxBodyBytes", async () => {
    const big = JSON.stringify(chat("gpt-4o", { padding: "x".repeat(5000) }));
    const res = await rawRequest(fx.url, {
      path: "/v1/chat/completions",
      headers: { ...auth, "transfer-encoding": "chunked" },
      body: big,
    }).catch((error: Error) => ({ status: -1, body: error.message, headers: {} }));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe("request_too_large");
  });

  it("503 with retry-after over maxConcurrent", async () => {
    const small = await startGatewayFixture({ keys: [KEY], maxConcurrent: 1 }, fx.sim);
    try {
      const controller = new AbortController();
      const hanging = fetch(`${small.url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(chat("gpt-4o~hang")),
        signal: controller.signal,
      }).catch(() => undefined);
      await until(() => small.gateway.inFlight === 1);
      const refused = await postJson(small.url, "/v1/chat/completions", chat("gpt-4o"), auth);
      expect(refused.status).toBe(503);
      expect(refused.headers["retry-after"]).toBe("1");
      expect(JSON.parse(refused.body).error.message).toMatch(/maxConcurrent/);
      controller.abort();
      await hanging;
    } finally {
      await small.close();
    }
  });

  it("a client that never finishes its body is cut off (requestTimeoutMs)", async () => {
    const slow = await startGatewayFixture(
      { keys: [KEY], headersTimeoutMs: 300, requestTimeoutMs: 600 },
      fx.sim,
    );
    try {
      const started = Date.now();
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(Number(new URL(slow.url).port), "127.0.0.1");
        let data = "";
        socket.on("data", (d) => {
          data += d.toString();
        });
        socket.on("close", () => resolve(data));
        socket.on("error", () => resolve(data));
        socket.write(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${KEY}\r\ncontent-length: 100\r\n\r\n{"model":`,
        );
      });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(slow.gateway.inFlight).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it("a client that never finishes its headers is cut off (headersTimeoutMs)", async () => {
    const slow = await startGatewayFixture({ keys: [KEY], headersTimeoutMs: 300 }, fx.sim);
    try {
      const started = Date.now();
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(Number(new URL(slow.url).port), "127.0.0.1");
        let data = "";
        socket.on("data", (d) => {
          data += d.toString();
        });
        socket.on("close", () => resolve(data));
        socket.on("error", () => resolve(data));
        socket.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n");
      });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await slow.close();
    }
  });
});

describe("caller disconnect aborts the upstream attempt at once", () => {
  it("non-streaming: the upstream request is closed when the caller leaves", async () => {
    const controller = new AbortController();
    const pending = fetch(`${fx.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(chat("gpt-4o~slow-3s")),
      signal: controller.signal,
    }).catch(() => undefined);
    await until(() =>
      fx.sim.requests().some((r) => r.model === "gpt-4o~slow-3s" && r.outcome === "pending"),
    );
    controller.abort();
    await pending;
    const left = Date.now();
    await until(() =>
      fx.sim.requests().some((r) => r.model === "gpt-4o~slow-3s" && r.outcome === "client-closed"),
    );
    expect(Date.now() - left).toBeLessThan(500);
  });

  it("streaming: the upstream stream is closed mid-answer when the caller leaves", async () => {
    const sim = await startSimulator({
      tokenDelayMs: 30,
      text: "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty",
    });
    const slow = await startGatewayFixture({ keys: [KEY] }, sim);
    try {
      const controller = new AbortController();
      const res = await fetch(`${slow.url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(chat("gpt-4o", { stream: true })),
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
      await until(() => sim.requests()[0]?.outcome === "client-closed", 1000);
      const log = sim.requests()[0]!;
      expect(log.deltasSent).toBeLessThan(20);
    } finally {
      await slow.close();
      await sim.close();
    }
  });
});

describe("SSE is flushed as it arrives", () => {
  it("the first content chunk reaches the caller long before the upstream finishes", async () => {
    const words = Array.from({ length: 20 }, (_, i) => `w${i}`).join(" ");
    const sim = await startSimulator({ tokenDelayMs: 40, text: words });
    const gw = await startGatewayFixture({ keys: [KEY] }, sim);
    try {
      const started = Date.now();
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(message("claude-sonnet-4-20250514", { stream: true })),
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      let firstDeltaAt = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        if (!firstDeltaAt && text.includes("text_delta")) firstDeltaAt = Date.now() - started;
      }
      const total = Date.now() - started;
      expect(text).toContain("message_stop");
      expect(total).toBeGreaterThan(700);
      expect(firstDeltaAt).toBeLessThan(total / 3);
    } finally {
      await gw.close();
      await sim.close();
    }
  });
});

describe("a stream that fails after bytes went out", () => {
  it("OpenAI wire: ends with data: {error} and no [DONE]", async () => {
    const res = await postJson(
      fx.url,
      "/v1/chat/completions",
      chat("gpt-4o~sse-error-after-2", { stream: true }),
      auth,
    );
    expect(res.status).toBe(200);
    const events = res.body.split("\n\n").filter(Boolean);
    expect(events.some((e) => e.includes('"content"'))).toBe(true);
    const last = events.at(-1)!;
    expect(last).toMatch(/^data: \{"error":/);
    expect(JSON.parse(last.slice(6)).error.message).toMatch(/interrupted/);
    expect(res.body).not.toContain("[DONE]");
    expect(res.body).not.toContain('"finish_reason":"stop"');
  });

  it("Anthropic wire: ends with event: error and no message_stop", async () => {
    const res = await postJson(
      fx.url,
      "/v1/messages",
      message("claude-sonnet-4-20250514~cut-after-2", { stream: true }),
      auth,
    );
    expect(res.status).toBe(200);
    expect(res.body).toContain("event: content_block_delta");
    const last = res.body.split("\n\n").filter(Boolean).at(-1)!;
    expect(last).toMatch(/^event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
    expect(res.body).not.toContain("message_stop");
  });
});

describe("graceful drain", () => {
  it("with a stream in flight: /ready 503, new connections refused, the stream completes", async () => {
    const sim = await startSimulator({
      tokenDelayMs: 25,
      text: "a b c d e f g h i j k l m n o p q r s t",
    });
    const gw = await startGatewayFixture({ keys: [KEY], drainTimeoutMs: 5000 }, sim);
    const port = Number(new URL(gw.url).port);
    const streamed = postJson(
      gw.url,
      "/v1/chat/completions",
      chat("gpt-4o", { stream: true }),
      auth,
    );
    await until(() => sim.requests().length === 1);
    // A request already on the wire (headers begun) when the drain starts still gets an answer.
    const socket = connect(port, "127.0.0.1");
    let ready = "";
    socket.on("data", (d) => {
      ready += d.toString();
    });
    await new Promise((r) => socket.once("connect", r));
    socket.write("GET /ready HTTP/1.1\r\nHost: x\r\n");
    await new Promise((r) => setTimeout(r, 50));
    const drained = gw.gateway.drain();
    socket.write("\r\n");
    await until(() => ready.includes("\r\n\r\n"));
    expect(ready).toMatch(/^HTTP\/1\.1 503/);
    socket.destroy();
    await expect(rawRequest(gw.url, { path: "/health" })).rejects.toThrow(/ECONNREFUSED/);
    const res = await streamed;
    expect(res.status).toBe(200);
    expect(res.body).toContain("data: [DONE]");
    await drained;
    await sim.close();
  });

  it("past drainTimeoutMs, requests still in flight are aborted upstream", async () => {
    const gw = await startGatewayFixture({ keys: [KEY], drainTimeoutMs: 200 }, fx.sim);
    const pending = postJson(gw.url, "/v1/chat/completions", chat("gpt-4o~hang"), auth).catch(
      (error: Error) => error,
    );
    await until(() => gw.gateway.inFlight === 1);
    const started = Date.now();
    await gw.gateway.drain();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe("credentials in neither direction", () => {
  let upstream: Server;
  let seen: Array<{ path: string; headers: IncomingHttpHeaders }>;
  let upstreamURL: string;

  beforeAll(async () => {
    seen = [];
    upstream = createServer((req, res) => {
      seen.push({ path: req.url ?? "", headers: req.headers });
      req.resume();
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        res.end(
          req.url?.startsWith("/v1/messages")
            ? JSON.stringify({
                id: "msg_1",
                type: "message",
                role: "assistant",
                model: "claude-x",
                content: [{ type: "text", text: "hi" }],
                stop_reason: "end_turn",
                usage: { input_tokens: 1, output_tokens: 1 },
              })
            : JSON.stringify({
                id: "c1",
                model: "gpt-x",
                choices: [
                  {
                    index: 0,
                    message: { role: "assistant", content: "hi" },
                    finish_reason: "stop",
                  },
                ],
                usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
              }),
        );
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    upstreamURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => upstream.close(r));
  });

  it("the caller's key, cookies and hop-by-hop headers stay here; feature headers go to their provider", async () => {
    const gw = await startGatewayFixture({ keys: [KEY] });
    const hostile = createGateway({
      keys: [KEY],
      client: {
        env: {},
        providers: {
          openai: { apiKey: UPSTREAM_OPENAI_KEY, baseURL: `${upstreamURL}/v1` },
          anthropic: { apiKey: UPSTREAM_ANTHROPIC_KEY, baseURL: upstreamURL },
        },
        fallbackModels: [],
        defaultProvider: "openai",
      },
    });
    await gw.close();
    const { url } = await hostile.listen(0, "127.0.0.1");
    try {
      const callerHeaders = {
        authorization: `Bearer ${KEY}`,
        "x-api-key": KEY,
        cookie: "session=caller-cookie",
        "proxy-authorization": "Basic Y2FsbGVy",
        "anthropic-beta": "tools-2099-01-01",
        "openai-beta": "assistants=v9",
        "x-custom": "nope",
        te: "trailers",
      };
      const a = await postJson(
        url,
        "/v1/messages",
        message("claude-sonnet-4-20250514"),
        callerHeaders,
      );
      expect(a.status).toBe(200);
      const o = await postJson(url, "/v1/chat/completions", chat("gpt-4o"), callerHeaders);
      expect(o.status).toBe(200);
      const [toAnthropic, toOpenAI] = seen;
      expect(toAnthropic?.headers["x-api-key"]).toBe(UPSTREAM_ANTHROPIC_KEY);
      expect(toAnthropic?.headers["anthropic-beta"]).toBe("tools-2099-01-01");
      expect(toAnthropic?.headers["openai-beta"]).toBeUndefined();
      expect(toOpenAI?.headers.authorization).toBe(`Bearer ${UPSTREAM_OPENAI_KEY}`);
      expect(toOpenAI?.headers["openai-beta"]).toBe("assistants=v9");
      expect(toOpenAI?.headers["anthropic-beta"]).toBeUndefined();
      for (const { headers } of seen) {
        const text = JSON.stringify(headers);
        expect(text).not.toContain(KEY);
        expect(text).not.toContain("caller-cookie");
        expect(headers["proxy-authorization"]).toBeUndefined();
        expect(headers["x-custom"]).toBeUndefined();
        expect(headers.te).toBeUndefined();
      }
    } finally {
      await hostile.drain();
    }
  });

  it("no upstream key in any response, log line or /metrics, even when upstream auth fails", async () => {
    const badKey = "invalid-upstream-key-0123456789abcdef";
    const gw = await startGatewayFixture(
      {
        keys: [KEY],
        client: {
          providers: {
            openai: { apiKey: badKey, baseURL: fx.sim.openaiBaseURL },
            anthropic: { apiKey: UPSTREAM_ANTHROPIC_KEY, baseURL: fx.sim.anthropicBaseURL },
          },
        },
      },
      fx.sim,
    );
    try {
      const seenText: string[] = [...bodies];
      const r1 = await postJson(gw.url, "/v1/chat/completions", chat("gpt-4o"), auth);
      expect(r1.status).toBe(502);
      seenText.push(r1.body, JSON.stringify(r1.headers));
      const r2 = await postJson(
        gw.url,
        "/v1/chat/completions",
        chat("gpt-4o", { stream: true }),
        auth,
      );
      seenText.push(r2.body, JSON.stringify(r2.headers));
      const r3 = await postJson(gw.url, "/v1/messages", message("claude-sonnet-4-20250514"), auth);
      expect(r3.status).toBe(200);
      seenText.push(r3.body, JSON.stringify(r3.headers));
      const metrics = await rawRequest(gw.url, { path: "/metrics", headers: auth });
      const models = await rawRequest(gw.url, { path: "/v1/models", headers: auth });
      seenText.push(metrics.body, models.body, ...gw.logs, ...fx.logs);
      expect(gw.logs.length).toBeGreaterThan(0);
      const all = seenText.join("\n");
      for (const secret of [badKey, UPSTREAM_OPENAI_KEY, UPSTREAM_ANTHROPIC_KEY, KEY]) {
        expect(all).not.toContain(secret);
      }
    } finally {
      await gw.close();
    }
  });
});
