import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Simulator, type SimulatorRequest, startSimulator } from "../src/simulator/index.js";

/** A settable clock, whole seconds so HTTP-date and RFC 3339 headers are exact. */
const clock = { t: Date.UTC(2025, 0, 1, 12, 0, 0) };
const now = () => clock.t;

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ now, text: "Hello there, this is a test answer." });
});
afterAll(() => sim.close());
afterEach(() => {
  sim.setScenario(undefined);
  sim.reset();
});

const TEXT = "Hello there, this is a test answer.";

function openai(body: Record<string, unknown>, init: RequestInit = {}) {
  return fetch(`${sim.openaiBaseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-test-key-123456", "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], ...body }),
    ...init,
  });
}

function anthropic(body: Record<string, unknown>, init: RequestInit = {}) {
  return fetch(`${sim.anthropicBaseURL}/v1/messages`, {
    method: "POST",
    headers: {
      "x-api-key": "sk-ant-test",
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
    },
    body: JSON.stringify({
      max_tokens: 1024,
      messages: [{ role: "user", content: "Hi" }],
      ...body,
    }),
    ...init,
  });
}

interface SseEvent {
  event: string | undefined;
  data: string;
}

/** A small SSE parser: events separated by blank lines, comments collected apart. */
function parseSse(text: string): { events: SseEvent[]; comments: string[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  for (const block of text.split("\n\n")) {
    if (block === "") continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) comments.push(line);
      else if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length > 0) events.push({ event, data: data.join("\n") });
  }
  return { events, comments };
}

const json = (e: SseEvent) => JSON.parse(e.data);
const openaiText = (events: SseEvent[]) =>
  events
    .filter((e) => e.data !== "[DONE]")
    .map(json)
    .map((c) => c.choices?.[0]?.delta?.content ?? "")
    .join("");
const anthropicText = (events: SseEvent[]) =>
  events
    .filter((e) => e.event === "content_block_delta")
    .map((e) => json(e).delta.text)
    .join("");

/** Reads a streamed body until `predicate(textSoFar)` holds or the stream ends. */
async function readUntil(res: Response, predicate: (text: string) => boolean): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!predicate(text)) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

const last = (): SimulatorRequest => sim.requests().at(-1)!;

describe("OpenAI wire, healthy", () => {
  it("answers a chat completion with the real shape, usage and headers", async () => {
    const res = await openai({ model: "gpt-4o" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    expect(res.headers.get("openai-version")).toBe("2020-10-01");
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("9999");
    expect(res.headers.get("x-ratelimit-reset-requests")).toBe("6ms");
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "gpt-4o",
      created: Math.floor(clock.t / 1000),
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: TEXT, refusal: null },
          finish_reason: "stop",
        },
      ],
    });
    expect(body.id).toMatch(/^chatcmpl-[0-9A-Za-z]{29}$/);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(body.usage.completion_tokens).toBe(7);
  });

  it("streams chunks: role first, one delta per word, finish, usage (when asked), [DONE]", async () => {
    const res = await openai({
      model: "gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const raw = await res.text();
    expect(raw.endsWith("data: [DONE]\n\n")).toBe(true);
    const { events } = parseSse(raw);
    const chunks = events.slice(0, -1).map(json);
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "", refusal: null });
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "gpt-4o")).toBe(
      true,
    );
    expect(openaiText(events)).toBe(TEXT);
    const finish = chunks.at(-2);
    expect(finish.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    expect(finish.usage).toBeNull();
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBe(7);
    expect(last()).toMatchObject({
      wire: "openai",
      stream: true,
      outcome: "ok",
      status: 200,
      deltasSent: 7,
    });
  });

  it("omits usage from chunks unless stream_options.include_usage", async () => {
    const { events } = parseSse(await (await openai({ model: "gpt-4o", stream: true })).text());
    expect(
      events
        .slice(0, -1)
        .map(json)
        .some((c) => "usage" in c),
    ).toBe(false);
  });

  it("calls the offered tool with schema-shaped arguments, and answers text after a tool result", async () => {
    const tools = [
      {
        type: "function",
        function: {
          name: "get_weather",
          parameters: {
            type: "object",
            properties: { city: { type: "string" }, days: { type: "integer" } },
          },
        },
      },
    ];
    const body = (await (await openai({ model: "gpt-4o", tools })).json()) as any;
    const message = body.choices[0].message;
    expect(body.choices[0].finish_reason).toBe("tool_calls");
    expect(message.content).toBeNull();
    expect(message.tool_calls[0]).toMatchObject({
      type: "function",
      function: { name: "get_weather" },
    });
    expect(message.tool_calls[0].id).toMatch(/^call_/);
    expect(JSON.parse(message.tool_calls[0].function.arguments)).toEqual({
      city: "example",
      days: 1,
    });

    const { events } = parseSse(
      await (await openai({ model: "gpt-4o", tools, stream: true })).text(),
    );
    const chunks = events.slice(0, -1).map(json);
    expect(chunks[0].choices[0].delta.tool_calls[0]).toMatchObject({
      index: 0,
      type: "function",
      function: { name: "get_weather", arguments: "" },
    });
    const args = chunks
      .map((c) => c.choices[0].delta.tool_calls?.[0]?.function?.arguments ?? "")
      .join("");
    expect(JSON.parse(args)).toEqual({ city: "example", days: 1 });
    expect(chunks.at(-1).choices[0].finish_reason).toBe("tool_calls");

    const after = (await (
      await openai({
        model: "gpt-4o",
        tools,
        messages: [
          { role: "user", content: "Weather?" },
          { role: "assistant", content: null, tool_calls: message.tool_calls },
          { role: "tool", tool_call_id: message.tool_calls[0].id, content: "sunny" },
        ],
      })
    ).json()) as any;
    expect(after.choices[0].message.content).toBe(TEXT);
  });

  it("stops at max_tokens with finish_reason length", async () => {
    const body = (await (await openai({ model: "gpt-4o", max_tokens: 3 })).json()) as any;
    expect(body.choices[0]).toMatchObject({
      message: { content: "Hello there, this" },
      finish_reason: "length",
    });
  });

  it("lists models in OpenAI's format for a Bearer key", async () => {
    const res = await fetch(`${sim.openaiBaseURL}/models`, {
      headers: { authorization: "Bearer sk-x" },
    });
    const body = (await res.json()) as any;
    expect(body.object).toBe("list");
    expect(body.data[0]).toMatchObject({ id: "gpt-4o", object: "model", owned_by: "system" });
  });

  it("refuses a missing key (401) and a key starting with 'invalid', masking it", async () => {
    const missing = await fetch(`${sim.openaiBaseURL}/chat/completions`, {
      method: "POST",
      body: "{}",
    });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as any).error.message).toMatch(/^You didn't provide an API key/);
    const wrong = await openai(
      { model: "gpt-4o" },
      { headers: { authorization: "Bearer invalid-key-0123456789" } },
    );
    expect(wrong.status).toBe(401);
    const error = ((await wrong.json()) as any).error;
    expect(error).toMatchObject({
      type: "invalid_request_error",
      code: "invalid_api_key",
      param: null,
    });
    expect(error.message).not.toContain("invalid-key-0123456789");
  });

  it("answers 400 for a body that is not JSON and for a bad fault directive", async () => {
    const res = await fetch(`${sim.openaiBaseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer k" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    const bad = await openai({ model: "gpt-4o~explode" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toContain('cannot read fault "explode"');
  });
});

describe("Anthropic wire, healthy", () => {
  it("answers a message with the real shape, usage and headers", async () => {
    const res = await anthropic({ model: "claude-sonnet-4-20250514" });
    expect(res.status).toBe(200);
    expect(res.headers.get("request-id")).toMatch(/^req_011C[1-9A-Za-z]{20}$/);
    expect(res.headers.get("anthropic-ratelimit-requests-remaining")).toBe("3999");
    expect(res.headers.get("anthropic-ratelimit-requests-reset")).toBe("2025-01-01T12:00:01Z");
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-20250514",
      content: [{ type: "text", text: TEXT }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { output_tokens: 7 },
    });
    expect(body.id).toMatch(/^msg_01/);
  });

  it("streams the event sequence message_start … message_stop", async () => {
    const res = await anthropic({ model: "claude-sonnet-4-20250514", stream: true });
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const { events } = parseSse(await res.text());
    const names = events.map((e) => e.event);
    expect(names.slice(0, 3)).toEqual(["message_start", "content_block_start", "ping"]);
    expect(names.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(names.filter((n) => n === "content_block_delta")).toHaveLength(7);
    for (const e of events) expect(json(e).type).toBe(e.event);
    expect(anthropicText(events)).toBe(TEXT);
    expect(json(events.at(-2)!)).toEqual({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 7 },
    });
    expect(json(events[0]!).message).toMatchObject({
      content: [],
      stop_reason: null,
      usage: { output_tokens: 1 },
    });
  });

  it("streams a tool_use block with input_json_delta, stop_reason tool_use", async () => {
    const tools = [
      { name: "lookup", input_schema: { type: "object", properties: { q: { type: "string" } } } },
    ];
    const { events } = parseSse(
      await (await anthropic({ model: "claude-sonnet-4-20250514", tools, stream: true })).text(),
    );
    const start = json(events[1]!);
    expect(start.content_block).toMatchObject({ type: "tool_use", name: "lookup", input: {} });
    expect(start.content_block.id).toMatch(/^toolu_01/);
    const partial = events
      .filter((e) => e.event === "content_block_delta")
      .map((e) => json(e).delta);
    expect(partial.every((d) => d.type === "input_json_delta")).toBe(true);
    expect(JSON.parse(partial.map((d) => d.partial_json).join(""))).toEqual({ q: "example" });
    expect(json(events.at(-2)!).delta.stop_reason).toBe("tool_use");
    const nonStream = (await (
      await anthropic({ model: "claude-sonnet-4-20250514", tools })
    ).json()) as any;
    expect(nonStream.content[0]).toMatchObject({
      type: "tool_use",
      name: "lookup",
      input: { q: "example" },
    });
  });

  it("lists models in Anthropic's format when the request carries x-api-key + anthropic-version", async () => {
    const res = await fetch(`${sim.anthropicBaseURL}/v1/models`, {
      headers: { "x-api-key": "k", "anthropic-version": "2023-06-01" },
    });
    const body = (await res.json()) as any;
    expect(body.has_more).toBe(false);
    expect(body.data[0]).toMatchObject({ type: "model", id: body.first_id });
    expect(body.data.map((m: { id: string }) => m.id)).toContain("claude-sonnet-4-20250514");
  });

  it("requires x-api-key and anthropic-version like the real API", async () => {
    const noVersion = await anthropic(
      { model: "claude-sonnet-4-20250514" },
      { headers: { "x-api-key": "k" } },
    );
    expect(noVersion.status).toBe(400);
    expect(((await noVersion.json()) as any).error.message).toBe(
      "anthropic-version: header is required",
    );
    const invalid = await anthropic(
      { model: "claude-sonnet-4-20250514" },
      { headers: { "x-api-key": "invalid", "anthropic-version": "2023-06-01" } },
    );
    expect(invalid.status).toBe(401);
    expect((await invalid.json()) as any).toMatchObject({
      type: "error",
      error: { type: "authentication_error" },
    });
  });

  it("requires max_tokens", async () => {
    const res = await fetch(`${sim.anthropicBaseURL}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": "k", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-20250514", messages: [] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toEqual({
      type: "invalid_request_error",
      message: "max_tokens: Field required",
    });
  });
});

describe("rate-limit faults", () => {
  it("429-retry-after-2s: Retry-After in seconds plus rate-limit headers (OpenAI)", async () => {
    const res = await openai({ model: "gpt-4o~429-retry-after-2s" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(res.headers.get("retry-after-ms")).toBeNull();
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(res.headers.get("x-ratelimit-reset-requests")).toBe("2s");
    expect(res.headers.get("x-should-retry")).toBeNull();
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({
      type: "requests",
      code: "rate_limit_exceeded",
      param: null,
    });
    expect(body.error.message).toMatch(
      /^Rate limit reached for gpt-4o in organization .* Please try again in 2s\./,
    );
    expect(last()).toMatchObject({
      fault: "429-retry-after-2s",
      faultSource: "model-name",
      status: 429,
      outcome: "error",
    });
  });

  it("429-retry-after-2s on Anthropic: retry-after and anthropic-ratelimit-requests-reset (RFC 3339)", async () => {
    const res = await anthropic({ model: "claude-sonnet-4-20250514~429-retry-after-2s" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(res.headers.get("anthropic-ratelimit-requests-remaining")).toBe("0");
    expect(res.headers.get("anthropic-ratelimit-requests-reset")).toBe("2025-01-01T12:00:02Z");
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    expect(body.request_id).toBe(res.headers.get("request-id"));
  });

  it("429-retry-after-date-3s: Retry-After as an HTTP-date", async () => {
    const res = await openai({ model: "gpt-4o~429-retry-after-date-3s" });
    expect(res.headers.get("retry-after")).toBe("Wed, 01 Jan 2025 12:00:03 GMT");
    expect(Date.parse(res.headers.get("retry-after")!) - clock.t).toBe(3000);
  });

  it("429-retry-after-ms-250ms: retry-after-ms only", async () => {
    for (const res of [
      await openai({ model: "gpt-4o~429-retry-after-ms-250ms" }),
      await anthropic({ model: "claude-sonnet-4-20250514~429-retry-after-ms-250ms" }),
    ]) {
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after-ms")).toBe("250");
      expect(res.headers.get("retry-after")).toBeNull();
    }
  });

  it("429-reset-6m: only the providers' reset headers (Go duration / RFC 3339)", async () => {
    const o = await openai({ model: "gpt-4o~429-reset-6m" });
    expect(o.headers.get("retry-after")).toBeNull();
    expect(o.headers.get("x-ratelimit-reset-requests")).toBe("6m0s");
    const a = await anthropic({ model: "claude-sonnet-4-20250514~429-reset-20ms" });
    expect(a.headers.get("retry-after")).toBeNull();
    expect(a.headers.get("anthropic-ratelimit-requests-reset")).toBe("2025-01-01T12:00:01Z");
    const ms = await openai({ model: "gpt-4o~429-reset-20ms" });
    expect(ms.headers.get("x-ratelimit-reset-requests")).toBe("20ms");
  });

  it("429-bare: no retry or rate-limit header at all", async () => {
    for (const res of [
      await openai({ model: "gpt-4o~429-bare" }),
      await anthropic({ model: "c~429-bare" }),
    ]) {
      expect(res.status).toBe(429);
      const names = [...res.headers.keys()];
      expect(names.filter((n) => n.includes("retry") || n.includes("ratelimit"))).toEqual([]);
    }
  });

  it("quota: OpenAI 429 insufficient_quota; Anthropic's billing 400", async () => {
    const o = await openai({ model: "gpt-4o~quota" });
    expect(o.status).toBe(429);
    expect(((await o.json()) as any).error).toMatchObject({
      type: "insufficient_quota",
      code: "insufficient_quota",
    });
    const a = await anthropic({ model: "c~quota" });
    expect(a.status).toBe(400);
    expect(((await a.json()) as any).error.message).toMatch(/credit balance is too low/);
  });

  it("too-large: OpenAI 429 'Request too large … tokens per min'; Anthropic 413", async () => {
    const o = await openai({ model: "gpt-4o~too-large" });
    expect(o.status).toBe(429);
    const error = ((await o.json()) as any).error;
    expect(error).toMatchObject({ type: "tokens", code: "rate_limit_exceeded" });
    expect(error.message).toMatch(/^Request too large for gpt-4o .* tokens per min \(TPM\)/);
    const a = await anthropic({ model: "c~too-large" });
    expect(a.status).toBe(413);
    expect(((await a.json()) as any).error.type).toBe("request_too_large");
  });
});

describe("server-error faults", () => {
  it("500 and 503 as OpenAI server_error JSON; 502/504 as the edge's HTML page", async () => {
    const r500 = await openai({ model: "gpt-4o~500" });
    expect(r500.status).toBe(500);
    expect(((await r500.json()) as any).error).toMatchObject({ type: "server_error", code: null });
    const r503 = await openai({ model: "gpt-4o~503" });
    expect(r503.status).toBe(503);
    expect(((await r503.json()) as any).error.message).toBe(
      "The server is overloaded or not ready yet.",
    );
    for (const status of [502, 504]) {
      const res = await openai({ model: `gpt-4o~${status}` });
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toBe("text/html");
      expect(await res.text()).toContain(`<title>${status}`);
    }
  });

  it("Anthropic 500 api_error and 529 overloaded_error, both with x-should-retry: true", async () => {
    const r500 = await anthropic({ model: "c~500" });
    expect(r500.status).toBe(500);
    expect(r500.headers.get("x-should-retry")).toBe("true");
    expect(((await r500.json()) as any).error).toEqual({
      type: "api_error",
      message: "Internal server error",
    });
    for (const fault of ["529", "overloaded"]) {
      const res = await anthropic({ model: `c~${fault}` });
      expect(res.status).toBe(529);
      expect(res.headers.get("x-should-retry")).toBe("true");
      expect(((await res.json()) as any).error).toEqual({
        type: "overloaded_error",
        message: "Overloaded",
      });
    }
  });

  it("400 context length, 400 content filter, 401, 403, 404 in each format", async () => {
    const ctx = await openai({ model: "gpt-4o~context-length" });
    expect(ctx.status).toBe(400);
    expect(((await ctx.json()) as any).error).toMatchObject({
      code: "context_length_exceeded",
      param: "messages",
    });
    const actx = await anthropic({ model: "c~context-length" });
    expect(((await actx.json()) as any).error.message).toMatch(
      /^prompt is too long: \d+ tokens > \d+ maximum$/,
    );
    const cf = await openai({ model: "gpt-4o~content-filter" });
    expect(cf.status).toBe(400);
    expect(((await cf.json()) as any).error.code).toBe("invalid_prompt");
    const acf = await anthropic({ model: "c~content-filter" });
    expect(((await acf.json()) as any).error.message).toBe(
      "Output blocked by content filtering policy",
    );
    expect((await openai({ model: "gpt-4o~401" })).status).toBe(401);
    expect(((await (await anthropic({ model: "c~403" })).json()) as any).error.type).toBe(
      "permission_error",
    );
    const nf = await openai({ model: "gpt-5-nope~404" });
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as any).error).toMatchObject({
      code: "model_not_found",
      message: "The model `gpt-5-nope` does not exist or you do not have access to it.",
    });
    expect((await (await anthropic({ model: "claude-nope~404" })).json()) as any).toMatchObject({
      error: { type: "not_found_error", message: "model: claude-nope" },
    });
  });
});

describe("connection faults", () => {
  it("reset: the socket is reset before any header, fetch rejects", async () => {
    await expect(openai({ model: "gpt-4o~reset" })).rejects.toThrow(TypeError);
    expect(last()).toMatchObject({ fault: "reset", outcome: "reset", status: undefined });
  });

  it("hang: accepted and never answered, until the client gives up", async () => {
    const started = performance.now();
    await expect(
      openai({ model: "gpt-4o~hang" }, { signal: AbortSignal.timeout(80) }),
    ).rejects.toThrow();
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
    expect(last()).toMatchObject({ fault: "hang", outcome: "no-response" });
  });
});

describe("stream faults", () => {
  it("slow-60ms: headers at once, keep-alives meanwhile, first content after the delay (OpenAI)", async () => {
    const started = performance.now();
    const res = await openai({ model: "gpt-4o~slow-60ms", stream: true });
    expect(performance.now() - started).toBeLessThan(50);
    const early = await readUntil(res, (t) => t.includes('"content":"Hello"'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    const { comments } = parseSse(early);
    expect(comments.length).toBeGreaterThanOrEqual(1);
    expect(comments[0]).toBe(": keep-alive");
  });

  it("slow on Anthropic sends ping events before the first delta; non-streaming waits", async () => {
    const res = await anthropic({ model: "c~slow-60ms", stream: true });
    const { events } = parseSse(await res.text());
    const firstDelta = events.findIndex((e) => e.event === "content_block_delta");
    expect(
      events.slice(0, firstDelta).filter((e) => e.event === "ping").length,
    ).toBeGreaterThanOrEqual(2);
    expect(anthropicText(events)).toBe(TEXT);
    const started = performance.now();
    expect((await openai({ model: "gpt-4o~slow-50ms" })).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("cut-after-3: three deltas, then the connection closes without a finish", async () => {
    const res = await openai({ model: "gpt-4o~cut-after-3", stream: true });
    await expect(res.text()).rejects.toThrow(TypeError);
    const entry = last();
    expect(entry).toMatchObject({ fault: "cut-after-3", outcome: "cut", deltasSent: 3 });

    const a = await anthropic({ model: "c~cut-after-3", stream: true });
    const reader = a.body!.getReader();
    let text = "";
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += new TextDecoder().decode(value);
        }
      })(),
    ).rejects.toThrow();
    const events = parseSse(text).events;
    expect(events.filter((e) => e.event === "content_block_delta")).toHaveLength(3);
    expect(events.some((e) => e.event === "message_delta" || e.event === "message_stop")).toBe(
      false,
    );
  });

  it("stall-after-2: two deltas, then silence on an open socket", async () => {
    const controller = new AbortController();
    const res = await openai(
      { model: "gpt-4o~stall-after-2", stream: true },
      { signal: controller.signal },
    );
    const got = await readUntil(res, (t) => (t.match(/"content":"[^"]/g) ?? []).length >= 2);
    const reader = res.body!.getReader();
    const next = await Promise.race([
      reader.read().then(() => "more"),
      new Promise((r) => setTimeout(() => r("silence"), 80)),
    ]);
    expect(next).toBe("silence");
    controller.abort();
    expect(openaiText(parseSse(got).events)).toBe("Hello there,");
    expect(last()).toMatchObject({ fault: "stall-after-2", outcome: "stalled", deltasSent: 2 });
  });

  it("malformed-after-2: one non-JSON data line, the rest of the answer intact", async () => {
    for (const [res, textOf] of [
      [await openai({ model: "gpt-4o~malformed-after-2", stream: true }), openaiText],
      [await anthropic({ model: "c~malformed-after-2", stream: true }), anthropicText],
    ] as const) {
      const { events } = parseSse(await res.text());
      const broken = events.filter((e) => {
        if (e.data === "[DONE]") return false;
        try {
          JSON.parse(e.data);
          return false;
        } catch {
          return true;
        }
      });
      expect(broken).toHaveLength(1);
      const good = events.filter((e) => !broken.includes(e));
      expect(textOf(good)).toBe(TEXT);
    }
  });

  it("no-terminator: finish reason sent, no [DONE] (OpenAI) / no message_stop (Anthropic), clean close", async () => {
    const o = await (await openai({ model: "gpt-4o~no-terminator", stream: true })).text();
    expect(o).not.toContain("[DONE]");
    expect(parseSse(o).events.map(json).at(-1).choices[0].finish_reason).toBe("stop");
    const a = parseSse(
      await (await anthropic({ model: "c~no-terminator", stream: true })).text(),
    ).events;
    expect(a.at(-1)!.event).toBe("message_delta");
    expect(last()).toMatchObject({ outcome: "no-terminator" });
  });

  it("sse-error: Anthropic overloaded_error event before any content, and after 3 deltas", async () => {
    const before = parseSse(
      await (await anthropic({ model: "c~sse-error", stream: true })).text(),
    ).events;
    expect(before.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "error",
    ]);
    expect(json(before.at(-1)!)).toEqual({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
    const after = parseSse(
      await (await anthropic({ model: "c~sse-error-after-3", stream: true })).text(),
    ).events;
    expect(after.filter((e) => e.event === "content_block_delta")).toHaveLength(3);
    expect(after.at(-1)!.event).toBe("error");
    expect(last()).toMatchObject({ outcome: "in-band-error", status: 200 });
  });

  it("sse-error on OpenAI: an in-band data: {error} chunk, no [DONE]; non-streaming gets the HTTP twin", async () => {
    const res = await openai({ model: "gpt-4o~sse-error-after-2", stream: true });
    expect(res.status).toBe(200);
    const { events } = parseSse(await res.text());
    expect(json(events.at(-1)!)).toEqual({
      error: {
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error",
        param: null,
        code: null,
      },
    });
    expect(openaiText(events.slice(0, -1))).toBe("Hello there,");
    expect((await openai({ model: "gpt-4o~sse-error" })).status).toBe(500);
    expect((await anthropic({ model: "c~sse-error" })).status).toBe(529);
  });

  it("cut and stall on a non-streaming request send half the body", async () => {
    await expect((await openai({ model: "gpt-4o~cut-after-1" })).text()).rejects.toThrow(TypeError);
    const controller = new AbortController();
    const res = await openai({ model: "gpt-4o~stall-after-1" }, { signal: controller.signal });
    expect(Number(res.headers.get("content-length"))).toBeGreaterThan(0);
    const pending = res.text();
    const outcome = await Promise.race([
      pending.then(() => "done"),
      new Promise((r) => setTimeout(() => r("stalled"), 60)),
    ]);
    expect(outcome).toBe("stalled");
    controller.abort();
    await pending.catch(() => {});
  });
});

describe("windows: fail the first N, down for a while, at a rate", () => {
  it("500-first-2 fails two requests then answers (counted per model name)", async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await openai({ model: "m~500-first-2" })).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect((await openai({ model: "other~500-first-2" })).status).toBe(500);
  });

  it("down-2s: 503 from the model's first request for 2 s (injected clock), then healthy", async () => {
    const start = clock.t;
    try {
      expect((await openai({ model: "m~down-2s" })).status).toBe(503);
      clock.t = start + 1999;
      expect((await openai({ model: "m~down-2s" })).status).toBe(503);
      clock.t = start + 2000;
      expect((await openai({ model: "m~down-2s" })).status).toBe(200);
    } finally {
      clock.t = start;
    }
  });

  it("reset-for-1s and directives in order: 429 twice, then 503 until the 4th request", async () => {
    const start = clock.t;
    try {
      await expect(openai({ model: "m~reset-for-1s" })).rejects.toThrow();
      clock.t = start + 1000;
      expect((await openai({ model: "m~reset-for-1s" })).status).toBe(200);
    } finally {
      clock.t = start;
    }
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await openai({ model: "x~429-first-2~503-first-4" })).status);
    expect(statuses).toEqual([429, 429, 503, 503, 200]);
  });

  it("-rate-0.5 fails about half, the same requests for the same seed", async () => {
    const run = async () => {
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await openai({ model: "r~500-rate-0.5" })).status);
      sim.reset();
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    const failures = a.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(10);
    expect(failures).toBeLessThan(30);
  });
});

describe("request log", () => {
  it("records every request, readable and resettable over HTTP", async () => {
    await openai({ model: "gpt-4o", stream: true });
    await anthropic({ model: "claude-sonnet-4-20250514~503" });
    const res = await fetch(`${sim.url}/__simulator/requests`);
    const log = (await res.json()) as SimulatorRequest[];
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({
      id: 1,
      wire: "openai",
      path: "/v1/chat/completions",
      model: "gpt-4o",
      stream: true,
      fault: null,
      faultSource: null,
      status: 200,
      outcome: "ok",
      time: clock.t,
    });
    expect(log[0]!.body).toMatchObject({ model: "gpt-4o", stream: true });
    expect(log[1]).toMatchObject({
      wire: "anthropic",
      fault: "503",
      faultSource: "model-name",
      status: 503,
    });
    expect(log[1]!.requestId).toMatch(/^req_011C/);
    expect((await fetch(`${sim.url}/__simulator/reset`, { method: "POST" })).status).toBe(200);
    expect((await (await fetch(`${sim.url}/__simulator/requests`)).json()) as any).toEqual([]);
  });

  it("replaces the scenario over HTTP (a built-in name or a script) and reports bad ones", async () => {
    const set = await fetch(`${sim.url}/__simulator/scenario`, {
      method: "POST",
      body: JSON.stringify({ models: { "gpt-4o": [{ fault: "502" }] } }),
    });
    expect(set.status).toBe(200);
    expect((await openai({ model: "gpt-4o" })).status).toBe(502);
    expect(last()).toMatchObject({ fault: "502", faultSource: "scenario" });
    await fetch(`${sim.url}/__simulator/scenario`, {
      method: "POST",
      body: JSON.stringify("healthy"),
    });
    expect((await openai({ model: "gpt-4o" })).status).toBe(200);
    const bad = await fetch(`${sim.url}/__simulator/scenario`, {
      method: "POST",
      body: JSON.stringify({ models: { "*": [{ fault: "boom" }] } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error).toContain('models["*"][0].fault');
  });
});

describe("scenarios", () => {
  it("follows a timeline by time and by request count, model entries before '*', model names first", async () => {
    const start = clock.t;
    sim.setScenario({
      models: {
        "gpt-4o": [
          { fault: "429-retry-after-1s", untilRequest: 1 },
          { fault: "503", fromMs: 0, untilMs: 5000 },
        ],
        "*": [{ fault: "500", untilMs: 1000 }],
      },
    });
    try {
      expect((await openai({ model: "gpt-4o" })).status).toBe(429);
      expect((await openai({ model: "gpt-4o" })).status).toBe(503);
      expect((await openai({ model: "gpt-4o-mini" })).status).toBe(500);
      expect((await openai({ model: "gpt-4o~404" })).status).toBe(404);
      clock.t = start + 1000;
      expect((await openai({ model: "gpt-4o-mini" })).status).toBe(200);
      expect((await openai({ model: "gpt-4o" })).status).toBe(503);
      clock.t = start + 5000;
      expect((await openai({ model: "gpt-4o" })).status).toBe(200);
    } finally {
      clock.t = start;
    }
  });

  it("the demo scenario: primary 429 ×2, then 503 until 12 s after the first request, fallback healthy", async () => {
    const start = clock.t;
    sim.setScenario("demo");
    try {
      clock.t = start + 60_000; // the clock starts at the first request, not at setScenario
      const first = await openai({ model: "gpt-4o" });
      expect(first.status).toBe(429);
      expect(first.headers.get("retry-after")).toBe("1");
      expect((await openai({ model: "gpt-4o" })).status).toBe(429);
      expect((await openai({ model: "gpt-4o" })).status).toBe(503);
      expect((await anthropic({ model: "claude-sonnet-4-20250514" })).status).toBe(200);
      clock.t = start + 60_000 + 11_999;
      expect((await openai({ model: "gpt-4o" })).status).toBe(503);
      clock.t = start + 60_000 + 12_000;
      expect((await openai({ model: "gpt-4o", stream: true })).status).toBe(200);
    } finally {
      clock.t = start;
    }
  });
});

describe("chaos determinism", () => {
  const chaosRun = async (seed: number) => {
    const s = await startSimulator({
      scenario: {
        chaos: { rates: { "500": 0.2, "429": 0.1, reset: 0.1, "cut-after-1": 0.05, quota: 0.05 } },
      },
      seed,
    });
    try {
      const faults: (string | undefined)[] = [];
      await Promise.all(
        ["gpt-4o", "claude-x"].map(async (model) => {
          for (let i = 0; i < 30; i++) {
            const res = await fetch(`${s.openaiBaseURL}/chat/completions`, {
              method: "POST",
              headers: { authorization: "Bearer k" },
              body: JSON.stringify({ model, messages: [], stream: false }),
              signal: AbortSignal.timeout(1000),
            }).catch(() => undefined);
            await res?.text().catch(() => {});
          }
        }),
      );
      for (const r of s.requests().sort((a, b) => (a.model! < b.model! ? -1 : 1)))
        faults.push(r.fault);
      return faults;
    } finally {
      await s.close();
    }
  };

  it("gives the same faults for the same seed even with concurrent models, and others for another seed", async () => {
    const a = await chaosRun(7);
    const b = await chaosRun(7);
    const c = await chaosRun(8);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.filter((f) => f !== undefined).length).toBeGreaterThan(5);
  });
});

describe("close", () => {
  it("closes promptly with a hung request, a stalled stream and idle keep-alive sockets open", async () => {
    const s = await startSimulator();
    const hung = fetch(`${s.openaiBaseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer k" },
      body: JSON.stringify({ model: "m~hang", messages: [] }),
    }).catch((e: unknown) => e);
    const stalled = await fetch(`${s.openaiBaseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer k" },
      body: JSON.stringify({ model: "m~stall-after-1", messages: [], stream: true }),
    });
    const stalledBody = stalled.text().catch((e: unknown) => e);
    await (await fetch(`${s.url}/__simulator/requests`)).text();
    await new Promise((r) => setTimeout(r, 20));
    const started = performance.now();
    await s.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await hung).toBeInstanceOf(Error);
    expect(await stalledBody).toBeInstanceOf(Error);
  });
});

describe("pacing and model retrieval", () => {
  it("paces streamed deltas by tokenDelayMs", async () => {
    const s = await startSimulator({ tokenDelayMs: 15, text: "one two three four five" });
    try {
      const started = performance.now();
      const res = await fetch(`${s.openaiBaseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer k" },
        body: JSON.stringify({ model: "gpt-4o", messages: [], stream: true }),
      });
      expect(openaiText(parseSse(await res.text()).events)).toBe("one two three four five");
      expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    } finally {
      await s.close();
    }
  });

  it("retrieves one model in either format", async () => {
    const o = await fetch(`${sim.openaiBaseURL}/models/gpt-4o`, {
      headers: { authorization: "Bearer k" },
    });
    expect(await o.json()).toMatchObject({ id: "gpt-4o", object: "model" });
    const a = await fetch(`${sim.anthropicBaseURL}/v1/models/claude-sonnet-4-20250514`, {
      headers: { "x-api-key": "k", "anthropic-version": "2023-06-01" },
    });
    expect(await a.json()).toEqual({
      type: "model",
      id: "claude-sonnet-4-20250514",
      display_name: "Claude Sonnet 4",
      created_at: "2025-05-14T00:00:00Z",
    });
  });
});

describe("assistant prefill", () => {
  it("an Anthropic prefill is continued: only the rest of the text is sent", async () => {
    const prefill = TEXT.split(" ").slice(0, 3).join(" ");
    const res = await anthropic({
      model: "claude-sonnet-4-5-20250929",
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: prefill },
      ],
    });
    const body = (await res.json()) as { content: Array<{ text: string }> };
    expect(res.status).toBe(200);
    expect(prefill + body.content[0]!.text).toBe(TEXT);
  });

  it("rejects-prefill refuses a prefill with a 400 and is healthy without one", async () => {
    const model = "claude-sonnet-4-5-20250929~rejects-prefill";
    const refused = await anthropic({
      model,
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello" },
      ],
    });
    expect(refused.status).toBe(400);
    const error = (await refused.json()) as { error: { message: string } };
    expect(error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(error.error.message).toContain("prefill");
    const plain = await anthropic({ model });
    expect(plain.status).toBe(200);
  });
});
