import type {
  ChatMessage,
  ChatResponse,
  ContentPart,
  FinishReason,
  GenerationOptions,
  ToolCall,
  ToolChoice,
} from "../../index.node.js";
import { type FailureKind, type GatewayFailure, GatewayRequestError } from "../failure.js";
import {
  asArray,
  asObject,
  asString,
  type Mutable,
  optionalMaxTokens,
  samplingOptions,
  stopSequences,
  textOf,
  tool,
} from "./check.js";
import { type GatewayRequest, type GatewayWire, pickFields, responseId } from "./wire.js";

/** Anthropic request fields with no neutral twin, passed through to Anthropic-wire providers. */
const PASS_THROUGH = ["metadata", "top_k", "service_tier"] as const;

const STOP: Record<FinishReason, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  content_filter: "refusal",
  error: "end_turn",
  other: "end_turn",
};

const ERROR_TYPE: Record<FailureKind, string> = {
  invalid: "invalid_request_error",
  authentication: "authentication_error",
  "not-found": "not_found_error",
  "too-large": "request_too_large",
  "rate-limit": "rate_limit_error",
  overloaded: "overloaded_error",
  upstream: "api_error",
};

function errorJson(failure: GatewayFailure): string {
  return JSON.stringify({
    type: "error",
    error: { type: ERROR_TYPE[failure.kind], message: failure.message },
  });
}

function parseInput(value: unknown): string {
  return value === undefined ? "{}" : JSON.stringify(value);
}

function parseUserBlocks(content: unknown, path: string, out: ChatMessage[]): void {
  if (typeof content === "string") {
    out.push({ role: "user", content });
    return;
  }
  const parts: ContentPart[] = [];
  for (const [i, item] of asArray(content, path).entries()) {
    const block = asObject(item, `${path}[${i}]`);
    const at = `${path}[${i}]`;
    switch (block.type) {
      case "text":
        parts.push({ type: "text", text: asString(block.text, `${at}.text`) });
        break;
      case "image": {
        const source = asObject(block.source, `${at}.source`);
        if (source.type === "base64")
          parts.push({
            type: "image",
            data: asString(source.data, `${at}.source.data`),
            mediaType: asString(source.media_type, `${at}.source.media_type`),
          });
        else if (source.type === "url")
          parts.push({ type: "image", url: asString(source.url, `${at}.source.url`) });
        else
          throw new GatewayRequestError(
            `${at}.source.type: expected base64 or url`,
            `${at}.source.type`,
          );
        break;
      }
      case "tool_result":
        out.push({
          role: "tool",
          toolCallId: asString(block.tool_use_id, `${at}.tool_use_id`),
          content: textOf(block.content, `${at}.content`),
        });
        break;
      default:
        throw new GatewayRequestError(
          `${at}.type: unsupported block ${JSON.stringify(block.type)} in a user message`,
          `${at}.type`,
        );
    }
  }
  if (parts.length > 0) {
    const only = parts.length === 1 ? parts[0] : undefined;
    out.push({ role: "user", content: only?.type === "text" ? only.text : parts });
  }
}

function parseAssistantBlocks(content: unknown, path: string): ChatMessage {
  if (typeof content === "string") return { role: "assistant", content };
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const [i, item] of asArray(content, path).entries()) {
    const block = asObject(item, `${path}[${i}]`);
    const at = `${path}[${i}]`;
    if (block.type === "text") text += asString(block.text, `${at}.text`);
    else if (block.type === "tool_use")
      toolCalls.push({
        id: asString(block.id, `${at}.id`),
        name: asString(block.name, `${at}.name`),
        arguments: parseInput(block.input),
      });
    else if (block.type === "thinking" || block.type === "redacted_thinking") continue;
    else
      throw new GatewayRequestError(
        `${at}.type: unsupported block ${JSON.stringify(block.type)} in an assistant message`,
        `${at}.type`,
      );
  }
  return toolCalls.length > 0
    ? { role: "assistant", content: text, toolCalls }
    : { role: "assistant", content: text };
}

function parseToolChoice(value: unknown): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  const choice = asObject(value, "tool_choice");
  switch (choice.type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      return { name: asString(choice.name, "tool_choice.name") };
    default:
      throw new GatewayRequestError(
        "tool_choice.type: expected auto, any, none or tool",
        "tool_choice.type",
      );
  }
}

function usageOf(response: ChatResponse) {
  return {
    input_tokens: response.usage?.inputTokens ?? 0,
    output_tokens: response.usage?.outputTokens ?? 0,
  };
}

/** The Anthropic Messages wire, served at `POST /v1/messages`. */
export const anthropicWire: GatewayWire = {
  name: "anthropic",

  parse(raw) {
    const body = asObject(raw, "body");
    const model = asString(body.model, "model");
    if (model === "") throw new GatewayRequestError("model: expected a model name", "model");
    const maxTokens = optionalMaxTokens(body.max_tokens, "max_tokens");
    if (maxTokens === undefined)
      throw new GatewayRequestError("max_tokens: Field required", "max_tokens");
    const generation: Mutable<GenerationOptions> = { maxTokens };
    samplingOptions(body, generation);
    const stop = stopSequences(body.stop_sequences, "stop_sequences");
    if (stop !== undefined) generation.stop = stop;
    if (body.tools !== undefined && body.tools !== null) {
      generation.tools = asArray(body.tools, "tools").map((item, i) => {
        const t = asObject(item, `tools[${i}]`);
        return tool(t.name, t.description, t.input_schema, `tools[${i}]`);
      });
    }
    const toolChoice = parseToolChoice(body.tool_choice);
    if (toolChoice !== undefined) generation.toolChoice = toolChoice;
    const messages: ChatMessage[] = [];
    if (body.system !== undefined && body.system !== null) {
      const system = textOf(body.system, "system");
      if (system !== "") messages.push({ role: "system", content: system });
    }
    const list = asArray(body.messages, "messages");
    if (list.length === 0)
      throw new GatewayRequestError("messages: expected at least one", "messages");
    for (const [i, item] of list.entries()) {
      const m = asObject(item, `messages[${i}]`);
      if (m.role === "user") parseUserBlocks(m.content, `messages[${i}].content`, messages);
      else if (m.role === "assistant")
        messages.push(parseAssistantBlocks(m.content, `messages[${i}].content`));
      else
        throw new GatewayRequestError(
          `messages[${i}].role: expected user or assistant, got ${JSON.stringify(m.role)}`,
          `messages[${i}].role`,
        );
    }
    return {
      model,
      messages,
      generation,
      stream: body.stream === true,
      includeUsage: true,
      passThrough: pickFields(body, PASS_THROUGH),
    };
  },

  response(response, request) {
    const content: unknown[] = [];
    if (response.content !== "" || response.toolCalls.length === 0)
      content.push({ type: "text", text: response.content });
    for (const call of response.toolCalls) {
      let input: unknown = {};
      try {
        input = JSON.parse(call.arguments || "{}");
      } catch {
        // A model that wrote broken JSON: Anthropic's wire has no place for raw text here.
      }
      content.push({ type: "tool_use", id: call.id, name: call.name, input });
    }
    return JSON.stringify({
      id: responseId("msg_"),
      type: "message",
      role: "assistant",
      model: response.responseModel || response.model || request.model,
      content,
      stop_reason: STOP[response.finishReason],
      stop_sequence: null,
      usage: usageOf(response),
    });
  },

  errorBody(failure) {
    return errorJson(failure);
  },

  streamEncoder(request) {
    const id = responseId("msg_");
    let model = request.model;
    let started = false;
    /** Index of the open content block, -1 when none is open. */
    let open = -1;
    let openKind: "text" | "tool" | undefined;
    let openTool = -1;
    let blocks = 0;
    const frame = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`;
    const start = (): string => {
      started = true;
      return frame(
        "message_start",
        JSON.stringify({
          type: "message_start",
          message: {
            id,
            type: "message",
            role: "assistant",
            model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 0, output_tokens: 0 },
          },
        }),
      );
    };
    const close = (): string => {
      if (open < 0) return "";
      const out = frame("content_block_stop", `{"type":"content_block_stop","index":${open}}`);
      open = -1;
      openKind = undefined;
      return out;
    };
    const openBlock = (kind: "text" | "tool", block: unknown): string => {
      let out = close();
      open = blocks++;
      openKind = kind;
      out += frame(
        "content_block_start",
        JSON.stringify({ type: "content_block_start", index: open, content_block: block }),
      );
      return out;
    };
    return {
      event(event) {
        switch (event.type) {
          case "attempt-start":
            if (!started) model = event.model;
            return "";
          case "text-delta": {
            let out = started ? "" : start();
            if (openKind !== "text") out += openBlock("text", { type: "text", text: "" });
            return `${out}${frame("content_block_delta", `{"type":"content_block_delta","index":${open},"delta":{"type":"text_delta","text":${JSON.stringify(event.text)}}}`)}`;
          }
          case "tool-call-delta": {
            let out = started ? "" : start();
            if (openKind !== "tool" || openTool !== event.index) {
              openTool = event.index;
              out += openBlock("tool", {
                type: "tool_use",
                id: event.id ?? `toolu_${id}_${event.index}`,
                name: event.name ?? "",
                input: {},
              });
            }
            if (event.argumentsDelta === "") return out;
            return `${out}${frame("content_block_delta", `{"type":"content_block_delta","index":${open},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(event.argumentsDelta)}}}`)}`;
          }
          default:
            return "";
        }
      },
      finish(response) {
        let out = started ? "" : start();
        if (blocks === 0) out += openBlock("text", { type: "text", text: "" });
        out += close();
        out += frame(
          "message_delta",
          JSON.stringify({
            type: "message_delta",
            delta: { stop_reason: STOP[response.finishReason], stop_sequence: null },
            usage: usageOf(response),
          }),
        );
        return `${out}${frame("message_stop", '{"type":"message_stop"}')}`;
      },
      error(failure) {
        return frame("error", errorJson(failure));
      },
    };
  },
};

export type { GatewayRequest };
