/**
 * The gateway driven by the official SDKs (`openai`, `@anthropic-ai/sdk`), streaming and not,
 * through faults on the primary target, with cross-provider translation both ways (tool calls
 * included). The SDKs' own retries are off: every recovery seen here is the gateway's.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, rawRequest, startGatewayFixture } from "./helpers/gateway.js";

const KEY = "gw-test-key-1";
let fx: GatewayFixture;
let openai: OpenAI;
let anthropic: Anthropic;

const weather = {
  name: "get_weather",
  description: "Weather of a city",
  parameters: {
    type: "object" as const,
    properties: { city: { type: "string" } },
    required: ["city"],
  },
};

beforeAll(async () => {
  fx = await startGatewayFixture({
    keys: [KEY],
    models: {
      // An OpenAI primary that is down, then Anthropic: OpenAI callers get Anthropic's answer.
      "smart-anthropic": [
        ["openai", "gpt-4o~500"],
        ["anthropic", "claude-sonnet-4-20250514"],
      ],
      // An Anthropic primary that is overloaded, then OpenAI.
      "smart-openai": [
        ["anthropic", "claude-sonnet-4-20250514~529"],
        ["openai", "gpt-4o"],
      ],
    },
  });
  openai = new OpenAI({ apiKey: KEY, baseURL: `${fx.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: KEY, baseURL: fx.url, maxRetries: 0 });
});

afterAll(async () => {
  await fx?.close();
});

describe("openai SDK through the gateway", () => {
  it("non-streaming: a primary failing twice (503) is retried by the gateway; headers say so", async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: "gpt-4o~503-first-2", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]?.message.content).toMatch(/\S/);
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-retry-client-provider")).toBe("openai");
    expect(response.headers.get("x-retry-client-model")).toBe("gpt-4o~503-first-2");
    expect(response.headers.get("x-retry-client-attempts")).toBe("3");
  });

  it("streaming with include_usage: deltas, a finish reason, a usage chunk, through a fault", async () => {
    const stream = await openai.chat.completions.create({
      model: "gpt-4o~500-first-1",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(5);
    expect(finish).toBe("stop");
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("an OpenAI request answered by Anthropic is translated back (text, streaming and not)", async () => {
    const { data, response } = await openai.chat.completions
      .create({
        model: "smart-anthropic",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi" },
        ],
      })
      .withResponse();
    expect(response.headers.get("x-retry-client-provider")).toBe("anthropic");
    expect(data.choices[0]?.message.content).toMatch(/\S/);
    expect(data.model).toMatch(/^claude/);

    const stream = openai.chat.completions.stream({
      model: "smart-anthropic",
      messages: [{ role: "user", content: "Hi" }],
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(data.choices[0]?.message.content);
    // The Anthropic simulator was asked; the OpenAI primary failed first.
    const paths = fx.sim.requests().map((r) => `${r.wire}:${r.model}`);
    expect(paths).toContain("openai:gpt-4o~500");
    expect(paths).toContain("anthropic:claude-sonnet-4-20250514");
  });

  it("tool calls cross providers: OpenAI tools answered by Anthropic, then the tool result", async () => {
    const tools = [{ type: "function" as const, function: weather }];
    const first = await openai.chat.completions.create({
      model: "smart-anthropic",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools,
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type).toBe("function");
    if (call?.type !== "function") throw new Error("no function call");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "example" });
    expect(call.id).toMatch(/^toolu_/);

    // Streaming: the SDK assembles the same call from the gateway's tool_calls deltas.
    const streamed = await openai.chat.completions
      .stream({ model: "smart-anthropic", messages: [{ role: "user", content: "Again?" }], tools })
      .finalChatCompletion();
    const streamedCall = streamed.choices[0]?.message.tool_calls?.[0];
    expect(streamed.choices[0]?.finish_reason).toBe("tool_calls");
    expect(streamedCall?.type === "function" && streamedCall.function.name).toBe("get_weather");

    const second = await openai.chat.completions.create({
      model: "smart-anthropic",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: null, tool_calls: [call] },
        { role: "tool", tool_call_id: call.id, content: '{"temp":21}' },
      ],
      tools,
    });
    expect(second.choices[0]?.finish_reason).toBe("stop");
    expect(second.choices[0]?.message.content).toMatch(/\S/);
    // Anthropic received the tool result as a tool_result block of a user message.
    const last = fx.sim.requests().at(-1);
    const body = last?.body as { messages: Array<{ role: string; content: unknown }> };
    expect(last?.wire).toBe("anthropic");
    expect(JSON.stringify(body.messages.at(-1))).toContain('"tool_result"');
  });

  it("GET /v1/models lists the aliases", async () => {
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toContain("smart-anthropic");
    expect(ids).toContain("gpt-4o");
  });
});

describe("@anthropic-ai/sdk through the gateway", () => {
  it("non-streaming: a primary 529 twice is retried; the answer is an Anthropic message", async () => {
    const { data, response } = await anthropic.messages
      .create({
        model: "claude-sonnet-4-20250514~529-first-2",
        max_tokens: 100,
        messages: [{ role: "user", content: "Hi" }],
      })
      .withResponse();
    expect(data.type).toBe("message");
    expect(data.content[0]?.type).toBe("text");
    expect(data.stop_reason).toBe("end_turn");
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-retry-client-provider")).toBe("anthropic");
    expect(response.headers.get("x-retry-client-attempts")).toBe("3");
  });

  it("streaming through a fault: the SDK's final message has the whole text and usage", async () => {
    const stream = anthropic.messages.stream({
      model: "claude-sonnet-4-20250514~overloaded-first-1",
      max_tokens: 100,
      messages: [{ role: "user", content: "Hi" }],
    });
    let text = "";
    stream.on("text", (delta) => {
      text += delta;
    });
    const message = await stream.finalMessage();
    expect(text.length).toBeGreaterThan(5);
    expect(message.content[0]?.type === "text" && message.content[0].text).toBe(text);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it("an Anthropic request answered by OpenAI is translated back, tool use included", async () => {
    const { data, response } = await anthropic.messages
      .create({
        model: "smart-openai",
        max_tokens: 100,
        system: "Be brief.",
        messages: [{ role: "user", content: "Hi" }],
      })
      .withResponse();
    expect(response.headers.get("x-retry-client-provider")).toBe("openai");
    expect(data.content[0]?.type === "text" && data.content[0].text).toMatch(/\S/);

    const tools = [
      { name: weather.name, description: weather.description, input_schema: weather.parameters },
    ];
    const toolAnswer = await anthropic.messages
      .stream({
        model: "smart-openai",
        max_tokens: 100,
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools,
      })
      .finalMessage();
    expect(toolAnswer.stop_reason).toBe("tool_use");
    const block = toolAnswer.content.find((b) => b.type === "tool_use");
    expect(block?.type === "tool_use" && block.name).toBe("get_weather");
    expect(block?.type === "tool_use" && block.input).toEqual({ city: "example" });
    if (block?.type !== "tool_use") throw new Error("no tool_use");

    const after = await anthropic.messages.create({
      model: "smart-openai",
      max_tokens: 100,
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: [block] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: block.id, content: "21C" }] },
      ],
      tools,
    });
    expect(after.stop_reason).toBe("end_turn");
    const last = fx.sim.requests().at(-1);
    expect(last?.wire).toBe("openai");
    const body = last?.body as { messages: Array<{ role: string; tool_call_id?: string }> };
    const messages = body.messages;
    expect(messages.at(-1)).toMatchObject({ role: "tool", tool_call_id: block.id });
  });
});

describe("service endpoints", () => {
  it("/health and /ready answer 200 without a key; /metrics needs one", async () => {
    expect((await rawRequest(fx.url, { path: "/health" })).status).toBe(200);
    expect((await rawRequest(fx.url, { path: "/ready" })).status).toBe(200);
    expect((await rawRequest(fx.url, { path: "/metrics" })).status).toBe(401);
    const metrics = await rawRequest(fx.url, {
      path: "/metrics",
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain(
      'retry_client_gateway_requests_total{route="chat.completions",status="200"}',
    );
    expect(metrics.body).toMatch(
      /retry_client_fallbacks_total\{from="openai:gpt-4o~500",to="anthropic:claude-sonnet-4-20250514"\} \d+/,
    );
    expect(metrics.body).toMatch(
      /retry_client_attempts_total\{provider="openai",model="gpt-4o~503-first-2",outcome="error"\} 2/,
    );
    // Fed by the client's lifecycle listeners (ClientConfig.instrumentation).
    expect(metrics.body).toMatch(
      /retry_client_retries_total\{provider="openai",model="gpt-4o~503-first-2"\} 2/,
    );
    expect(metrics.body).toMatch(
      /retry_client_time_to_first_chunk_seconds_count\{provider="openai",model="gpt-4o~500-first-1"\} 1/,
    );
    expect(metrics.body).toMatch(
      /retry_client_tokens_total\{provider="anthropic",[^}]*type="output"\} \d+/,
    );
    expect(metrics.body).toMatch(/retry_client_calls_total\{outcome="success"\} \d+/);
  });
});
