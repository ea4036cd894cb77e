import type {
  ChatMessage,
  ContentPart,
  FinishReason,
  GenerationOptions,
  ResponseFormat,
  ToolCall,
  ToolChoice,
  Usage,
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
import { type GatewayWire, pickFields, responseId } from "./wire.js";

/** OpenAI request fields with no neutral twin, passed through to OpenAI-wire providers. */
const PASS_THROUGH = [
  "seed",
  "user",
  "frequency_penalty",
  "presence_penalty",
  "logit_bias",
  "parallel_tool_calls",
  "reasoning_effort",
  "service_tier",
] as const;

const FINISH: Record<FinishReason, string> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool_calls",
  content_filter: "content_filter",
  error: "stop",
  other: "stop",
};

const ERROR_TYPE: Record<FailureKind, [type: string, code: string | null]> = {
  invalid: ["invalid_request_error", null],
  authentication: ["invalid_request_error", "invalid_api_key"],
  "not-found": ["invalid_request_error", "model_not_found"],
  "too-large": ["invalid_request_error", "request_too_large"],
  "rate-limit": ["requests", "rate_limit_exceeded"],
  overloaded: ["server_error", "overloaded"],
  upstream: ["server_error", "upstream_error"],
};

function errorObject(failure: GatewayFailure) {
  const [type, code] = ERROR_TYPE[failure.kind];
  return { message: failure.message, type, param: null, code };
}

function usageOf(usage: Usage | undefined) {
  return usage === undefined
    ? undefined
    : {
        prompt_tokens: usage.inputTokens,
        completion_tokens: usage.outputTokens,
        total_tokens: usage.totalTokens,
      };
}

function parseContentParts(content: unknown, path: string): string | ContentPart[] {
  if (typeof content === "string") return content;
  return asArray(content, path).map((part, i): ContentPart => {
    const p = asObject(part, `${path}[${i}]`);
    if (p.type === "text") return { type: "text", text: asString(p.text, `${path}[${i}].text`) };
    if (p.type === "image_url") {
      const image = p.image_url;
      const url =
        typeof image === "string"
          ? image
          : asString(asObject(image, `${path}[${i}].image_url`).url, `${path}[${i}].image_url.url`);
      return { type: "image", url };
    }
    throw new GatewayRequestError(
      `${path}[${i}].type: unsupported content part ${JSON.stringify(p.type)} (text and image_url are)`,
      `${path}[${i}].type`,
    );
  });
}

function parseToolCalls(value: unknown, path: string): ToolCall[] {
  return asArray(value, path).map((item, i) => {
    const call = asObject(item, `${path}[${i}]`);
    const fn = asObject(call.function, `${path}[${i}].function`);
    const args = fn.arguments;
    return {
      id: asString(call.id, `${path}[${i}].id`),
      name: asString(fn.name, `${path}[${i}].function.name`),
      arguments: args === undefined ? "{}" : typeof args === "string" ? args : JSON.stringify(args),
    };
  });
}

function parseMessages(value: unknown): ChatMessage[] {
  const list = asArray(value, "messages");
  if (list.length === 0)
    throw new GatewayRequestError("messages: expected at least one", "messages");
  return list.map((item, i): ChatMessage => {
    const path = `messages[${i}]`;
    const m = asObject(item, path);
    switch (m.role) {
      case "system":
      case "developer":
        return { role: "system", content: textOf(m.content, `${path}.content`) };
      case "user":
        return { role: "user", content: parseContentParts(m.content, `${path}.content`) };
      case "assistant": {
        const content = textOf(m.content, `${path}.content`);
        if (m.tool_calls === undefined || m.tool_calls === null)
          return { role: "assistant", content };
        const toolCalls = parseToolCalls(m.tool_calls, `${path}.tool_calls`);
        return toolCalls.length > 0
          ? { role: "assistant", content, toolCalls }
          : { role: "assistant", content };
      }
      case "tool":
        return {
          role: "tool",
          toolCallId: asString(m.tool_call_id, `${path}.tool_call_id`),
          content: textOf(m.content, `${path}.content`),
        };
      default:
        throw new GatewayRequestError(
          `${path}.role: expected system, developer, user, assistant or tool, got ${JSON.stringify(m.role)}`,
          `${path}.role`,
        );
    }
  });
}

function parseToolChoice(value: unknown): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === "auto" || value === "none" || value === "required") return value;
  const choice = asObject(value, "tool_choice");
  const fn = asObject(choice.function, "tool_choice.function");
  return { name: asString(fn.name, "tool_choice.function.name") };
}

function parseResponseFormat(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  const format = asObject(value, "response_format");
  if (format.type === "text" || format.type === "json_object") return { type: format.type };
  if (format.type === "json_schema") {
    const schema = asObject(format.json_schema, "response_format.json_schema");
    return {
      type: "json_schema",
      name: asString(schema.name, "response_format.json_schema.name"),
      schema: asObject(schema.schema ?? {}, "response_format.json_schema.schema"),
      ...(typeof schema.strict === "boolean" ? { strict: schema.strict } : {}),
    };
  }
  throw new GatewayRequestError(
    `response_format.type: expected text, json_object or json_schema, got ${JSON.stringify(format.type)}`,
    "response_format.type",
  );
}

/** The OpenAI Chat Completions wire, served at `POST /v1/chat/completions`. */
export const openaiWire: GatewayWire = {
  name: "openai",

  parse(raw) {
    const body = asObject(raw, "body");
    const model = asString(body.model, "model");
    if (model === "") throw new GatewayRequestError("model: expected a model name", "model");
    if (body.n !== undefined && body.n !== null && body.n !== 1)
      throw new GatewayRequestError("n: only 1 is supported", "n");
    const generation: Mutable<GenerationOptions> = {};
    const maxTokens = optionalMaxTokens(
      body.max_completion_tokens ?? body.max_tokens,
      body.max_completion_tokens !== undefined ? "max_completion_tokens" : "max_tokens",
    );
    if (maxTokens !== undefined) generation.maxTokens = maxTokens;
    samplingOptions(body, generation);
    const stop = stopSequences(body.stop, "stop");
    if (stop !== undefined) generation.stop = stop;
    if (body.tools !== undefined && body.tools !== null) {
      generation.tools = asArray(body.tools, "tools").map((item, i) => {
        const t = asObject(item, `tools[${i}]`);
        const fn = asObject(t.function, `tools[${i}].function`);
        return tool(fn.name, fn.description, fn.parameters, `tools[${i}].function`);
      });
    }
    const toolChoice = parseToolChoice(body.tool_choice);
    if (toolChoice !== undefined) generation.toolChoice = toolChoice;
    const responseFormat = parseResponseFormat(body.response_format);
    if (responseFormat !== undefined) generation.responseFormat = responseFormat;
    const streamOptions = body.stream_options as { include_usage?: unknown } | undefined | null;
    return {
      model,
      messages: parseMessages(body.messages),
      generation,
      stream: body.stream === true,
      includeUsage: streamOptions?.include_usage === true,
      passThrough: pickFields(body, PASS_THROUGH),
    };
  },

  response(response, request) {
    const toolCalls = response.toolCalls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.arguments },
    }));
    const message: Record<string, unknown> = {
      role: "assistant",
      content: response.content === "" && toolCalls.length > 0 ? null : response.content,
      refusal: response.refusal ?? null,
    };
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    return JSON.stringify({
      id: responseId("chatcmpl-"),
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: response.responseModel || response.model || request.model,
      choices: [
        { index: 0, message, logprobs: null, finish_reason: FINISH[response.finishReason] },
      ],
      usage: usageOf(response.usage) ?? null,
    });
  },

  errorBody(failure) {
    return JSON.stringify({ error: errorObject(failure) });
  },

  streamEncoder(request) {
    const id = responseId("chatcmpl-");
    const created = Math.floor(Date.now() / 1000);
    let model = request.model;
    let head = "";
    const usageNull = request.includeUsage ? ',"usage":null' : "";
    let started = false;
    // What surrounds the delta, built once.
    let prefix = "";
    const openEnd = `,"logprobs":null,"finish_reason":null}]${usageNull}}\n\n`;
    const chunk = (delta: string, finish: string | null): string =>
      finish === null
        ? prefix + delta + openEnd
        : `${prefix}${delta},"logprobs":null,"finish_reason":"${finish}"}]${usageNull}}\n\n`;
    const start = (): string => {
      started = true;
      head = JSON.stringify(model);
      prefix = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${head},"choices":[{"index":0,"delta":`;
      return chunk('{"role":"assistant","content":""}', null);
    };
    return {
      event(event) {
        switch (event.type) {
          case "attempt-start":
            if (!started) model = event.model;
            return "";
          case "text-delta": {
            const first = started ? "" : start();
            return first + chunk(`{"content":${JSON.stringify(event.text)}}`, null);
          }
          case "tool-call-delta": {
            const first = started ? "" : start();
            const call: Record<string, unknown> = { index: event.index };
            if (event.id !== undefined) {
              call.id = event.id;
              call.type = "function";
            }
            const fn: Record<string, unknown> = { arguments: event.argumentsDelta };
            if (event.name !== undefined) fn.name = event.name;
            call.function = fn;
            return `${first}${chunk(JSON.stringify({ tool_calls: [call] }), null)}`;
          }
          default:
            return "";
        }
      },
      finish(response) {
        let out = started ? "" : start();
        out += chunk("{}", FINISH[response.finishReason]);
        if (request.includeUsage) {
          const usage = usageOf(response.usage) ?? {
            prompt_tokens: 0,
            completion_tokens: 0,
            total_tokens: 0,
          };
          out += `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: JSON.parse(head), choices: [], usage })}\n\n`;
        }
        return `${out}data: [DONE]\n\n`;
      },
      error(failure) {
        return `data: ${JSON.stringify({ error: errorObject(failure) })}\n\n`;
      },
    };
  },
};
