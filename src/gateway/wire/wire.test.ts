import { describe, expect, it } from "vitest";
import type { ChatResponse } from "../../index.node.js";
import { GatewayRequestError } from "../failure.js";
import { anthropicWire } from "./anthropic.js";
import { openaiWire } from "./openai.js";

const response = (over: Partial<ChatResponse> = {}): ChatResponse => ({
  content: "Hi there",
  provider: "anthropic",
  model: "claude-x",
  responseModel: "claude-x-2025",
  usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
  totalUsage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
  finishReason: "stop",
  rawFinishReason: "end_turn",
  toolCalls: [],
  requestId: undefined,
  rateLimit: undefined,
  attempts: [],
  ...over,
});

describe("OpenAI wire in", () => {
  it("reads every message shape into the client's terms", () => {
    const request = openaiWire.parse({
      model: "gpt-4o",
      messages: [
        { role: "developer", content: [{ type: "text", text: "Be brief." }] },
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "f", arguments: "{}" } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "42" },
      ],
      max_completion_tokens: 10,
      stop: "END",
      seed: 7,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(request.messages).toEqual([
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image", url: "data:image/png;base64,AAAA" },
        ],
      },
      { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "f", arguments: "{}" }] },
      { role: "tool", toolCallId: "call_1", content: "42" },
    ]);
    expect(request.generation).toEqual({ maxTokens: 10, stop: ["END"] });
    expect(request.passThrough).toEqual({ seed: 7 });
    expect(request.stream && request.includeUsage).toBe(true);
  });

  it.each([
    [{ messages: [] }, "model"],
    [{ model: "m", messages: [] }, "messages"],
    [{ model: "m", messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    [{ model: "m", messages: [{ role: "user", content: "x" }], n: 2 }, "n"],
    [{ model: "m", messages: [{ role: "user", content: "x" }], temperature: "hot" }, "temperature"],
    [{ model: "m", messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id"],
  ])("refuses %j naming %s", (body, param) => {
    try {
      openaiWire.parse(body);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayRequestError);
      expect((error as GatewayRequestError).param).toBe(param);
    }
  });
});

describe("Anthropic wire in", () => {
  it("hoists the system prompt and splits tool results out of user turns", () => {
    const request = anthropicWire.parse({
      model: "claude-x",
      max_tokens: 20,
      system: [{ type: "text", text: "Be brief." }],
      messages: [
        { role: "user", content: "Weather?" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Let me look." },
            { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_1",
              content: [{ type: "text", text: "21C" }],
            },
            { type: "text", text: "Thanks" },
          ],
        },
      ],
      tool_choice: { type: "any" },
      top_k: 5,
    });
    expect(request.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: "Let me look.",
        toolCalls: [{ id: "toolu_1", name: "weather", arguments: '{"city":"Paris"}' }],
      },
      { role: "tool", toolCallId: "toolu_1", content: "21C" },
      { role: "user", content: "Thanks" },
    ]);
    expect(request.generation).toEqual({ maxTokens: 20, toolChoice: "required" });
    expect(request.passThrough).toEqual({ top_k: 5 });
  });

  it("requires max_tokens, as Anthropic does", () => {
    expect(() =>
      anthropicWire.parse({ model: "m", messages: [{ role: "user", content: "x" }] }),
    ).toThrow(/max_tokens/);
  });
});

describe("wires out", () => {
  it("a tool-call answer in both wires", () => {
    const answer = response({
      content: "",
      finishReason: "tool_calls",
      toolCalls: [{ id: "toolu_9", name: "weather", arguments: '{"city":"Paris"}' }],
    });
    const request = openaiWire.parse({
      model: "smart",
      messages: [{ role: "user", content: "x" }],
    });
    const openai = JSON.parse(openaiWire.response(answer, request));
    expect(openai.choices[0]).toMatchObject({
      finish_reason: "tool_calls",
      message: {
        content: null,
        tool_calls: [
          {
            id: "toolu_9",
            type: "function",
            function: { name: "weather", arguments: '{"city":"Paris"}' },
          },
        ],
      },
    });
    const anthropic = JSON.parse(anthropicWire.response(answer, request));
    expect(anthropic).toMatchObject({
      stop_reason: "tool_use",
      content: [{ type: "tool_use", id: "toolu_9", name: "weather", input: { city: "Paris" } }],
    });
  });

  it("OpenAI stream frames: role chunk, deltas, finish, usage chunk, [DONE]", () => {
    const request = openaiWire.parse({
      model: "smart",
      messages: [{ role: "user", content: "x" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const encoder = openaiWire.streamEncoder(request);
    let out = encoder.event({
      type: "attempt-start",
      provider: "anthropic",
      model: "claude-x",
      attempt: 0,
    });
    out += encoder.event({ type: "text-delta", text: "Hi" });
    out += encoder.finish(response());
    const frames = out
      .split("\n\n")
      .filter(Boolean)
      .map((f) => f.slice(6));
    expect(frames.at(-1)).toBe("[DONE]");
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    expect(chunks[1].choices[0].delta).toEqual({ content: "Hi" });
    expect(chunks[2].choices[0].finish_reason).toBe("stop");
    expect(chunks[3]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 2 },
    });
    expect(chunks.every((c) => c.model === "claude-x")).toBe(true);
  });

  it("OpenAI stream frames: the exact chunk text, with and without usage", () => {
    for (const includeUsage of [false, true]) {
      const request = openaiWire.parse({
        model: "gpt-x",
        messages: [{ role: "user", content: "x" }],
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      const encoder = openaiWire.streamEncoder(request);
      let out = encoder.event({ type: "text-delta", text: 'say "hi"\n' });
      out += encoder.event({
        type: "tool-call-delta",
        index: 0,
        id: "call_1",
        name: "f",
        argumentsDelta: "{}",
      } as never);
      out += encoder.finish({ ...response(), usage: undefined } as never);
      const first = JSON.parse(out.slice(6, out.indexOf("\n\n")));
      const u = includeUsage ? ',"usage":null' : "";
      const head = `data: {"id":"${first.id}","object":"chat.completion.chunk","created":${first.created},"model":"gpt-x","choices":[{"index":0,"delta":`;
      let expected =
        `${head}{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]${u}}\n\n` +
        `${head}{"content":"say \\"hi\\"\\n"},"logprobs":null,"finish_reason":null}]${u}}\n\n` +
        `${head}{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"arguments":"{}","name":"f"}}]},"logprobs":null,"finish_reason":null}]${u}}\n\n` +
        `${head}{},"logprobs":null,"finish_reason":"stop"}]${u}}\n\n`;
      if (includeUsage)
        expected += `data: {"id":"${first.id}","object":"chat.completion.chunk","created":${first.created},"model":"gpt-x","choices":[],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}\n\n`;
      expect(out).toBe(`${expected}data: [DONE]\n\n`);
    }
  });

  it("Anthropic stream frames: blocks open and close around text and tool calls", () => {
    const request = anthropicWire.parse({
      model: "m",
      max_tokens: 5,
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    const encoder = anthropicWire.streamEncoder(request);
    let out = encoder.event({ type: "text-delta", text: "Let me" });
    out += encoder.event({
      type: "tool-call-delta",
      index: 0,
      id: "call_1",
      name: "f",
      argumentsDelta: "",
    });
    out += encoder.event({ type: "tool-call-delta", index: 0, argumentsDelta: '{"a":1}' });
    out += encoder.finish(response({ finishReason: "tool_calls" }));
    const events = out
      .split("\n\n")
      .filter(Boolean)
      .map((f) => f.split("\n")[0]?.slice(7));
    expect(events).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(out).toContain('"stop_reason":"tool_use"');
    expect(out).toContain('"partial_json":"{\\"a\\":1}"');
  });
});
