import type { AnswerPlan, OfferedTool } from "./answer.js";
import { idChars } from "./random.js";
import {
  type ChatRequest,
  edgeErrorPage,
  type Frame,
  httpDateCeil,
  type Reply,
  rfc3339Ceil,
  sseEvent,
  type Wire,
  type WireContext,
  type WireError,
} from "./wire.js";

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const ORG_ID = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f";

/** Anthropic's models, as `/v1/models` lists them (id → display name). */
export const ANTHROPIC_MODELS: Readonly<Record<string, string>> = {
  "claude-opus-4-20250514": "Claude Opus 4",
  "claude-sonnet-4-20250514": "Claude Sonnet 4",
  "claude-3-7-sonnet-20250219": "Claude Sonnet 3.7",
  "claude-3-5-haiku-20241022": "Claude Haiku 3.5",
};

function offeredTool(
  tools: unknown,
  choice: unknown,
  messages: readonly unknown[],
): OfferedTool | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const c = (choice ?? {}) as { type?: unknown; name?: unknown };
  if (c.type === "none") return undefined;
  const last = messages[messages.length - 1] as { role?: unknown; content?: unknown } | undefined;
  const answersTool =
    last?.role === "user" &&
    Array.isArray(last.content) &&
    last.content.some((b) => (b as { type?: unknown }).type === "tool_result");
  if (answersTool) return undefined;
  const offered = tools
    .filter(
      (t): t is { name: string; input_schema?: unknown } =>
        typeof (t as { name?: unknown }).name === "string",
    )
    .map((t) => ({ name: t.name, schema: t.input_schema ?? {} }));
  return offered.find((t) => t.name === c.name) ?? offered[0];
}

/** The text of a last assistant message (Anthropic's prefill), if the conversation ends with one. */
function assistantPrefill(messages: readonly unknown[]): string | undefined {
  const last = messages.at(-1) as { role?: unknown; content?: unknown } | undefined;
  if (last?.role !== "assistant") return undefined;
  if (typeof last.content === "string") return last.content;
  if (!Array.isArray(last.content)) return undefined;
  return last.content
    .map((block: { type?: unknown; text?: unknown }) =>
      block.type === "text" && typeof block.text === "string" ? block.text : "",
    )
    .join("");
}

function stopReason(plan: AnswerPlan): string {
  if (plan.finish === "tool") return "tool_use";
  return plan.finish === "length" ? "max_tokens" : "end_turn";
}

function usage(plan: AnswerPlan, outputTokens: number) {
  return {
    input_tokens: plan.inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
    service_tier: "standard",
  };
}

function rateLimitHeaders(
  nowMs: number,
  remainingRequests: number,
  resetMs: number,
): Record<string, string> {
  const reset = rfc3339Ceil(nowMs + resetMs);
  const soon = rfc3339Ceil(nowMs + 1);
  return {
    "anthropic-ratelimit-requests-limit": "4000",
    "anthropic-ratelimit-requests-remaining": String(remainingRequests),
    "anthropic-ratelimit-requests-reset": reset,
    "anthropic-ratelimit-input-tokens-limit": "2000000",
    "anthropic-ratelimit-input-tokens-remaining": "2000000",
    "anthropic-ratelimit-input-tokens-reset": soon,
    "anthropic-ratelimit-output-tokens-limit": "400000",
    "anthropic-ratelimit-output-tokens-remaining": "400000",
    "anthropic-ratelimit-output-tokens-reset": soon,
    "anthropic-ratelimit-tokens-limit": "2400000",
    "anthropic-ratelimit-tokens-remaining": "2400000",
    "anthropic-ratelimit-tokens-reset": soon,
  };
}

function baseHeaders(context: WireContext, contentType: string): Record<string, string> {
  return {
    "content-type": contentType,
    "request-id": context.requestId,
    "anthropic-organization-id": ORG_ID,
  };
}

function messageId(context: WireContext): string {
  return `msg_01${idChars(context.serial, 22, BASE58)}`;
}

function errorBody(type: string, message: string, context: WireContext): string {
  return JSON.stringify({ type: "error", error: { type, message }, request_id: context.requestId });
}

/** The Anthropic Messages wire format (https://api.anthropic.com). */
export const anthropicWire: Wire = {
  name: "anthropic",

  parseChat(body): ChatRequest | { error: string; param?: string } {
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return { error: "There was an issue with the format or content of your request body." };
    const b = body as Record<string, unknown>;
    if (typeof b.model !== "string" || b.model === "") return { error: "model: Field required" };
    if (typeof b.max_tokens !== "number") return { error: "max_tokens: Field required" };
    if (!Array.isArray(b.messages)) return { error: "messages: Field required" };
    return {
      model: b.model,
      stream: b.stream === true,
      includeUsage: true,
      answer: {
        input: b.system === undefined ? b.messages : [b.system, b.messages],
        maxTokens: b.max_tokens,
        tool: offeredTool(b.tools, b.tool_choice, b.messages),
        prefill: assistantPrefill(b.messages),
      },
    };
  },

  toolCallId: (serial) => `toolu_01${idChars(serial, 22, BASE58)}`,
  requestId: (serial) => `req_011C${idChars(serial, 20, BASE58)}`,

  successHeaders(context, stream) {
    return {
      ...baseHeaders(context, stream ? "text/event-stream; charset=utf-8" : "application/json"),
      ...(stream ? { "cache-control": "no-cache" } : {}),
      ...rateLimitHeaders(context.nowMs, 3999, 15),
    };
  },

  completion(plan, context, quirks = {}) {
    const content = plan.toolCall
      ? [
          {
            type: "tool_use",
            id: plan.toolCall.id,
            name: plan.toolCall.name,
            input: JSON.parse(plan.toolCall.arguments) as unknown,
          },
        ]
      : [{ type: "text", text: plan.deltas.join("") }];
    return JSON.stringify({
      id: messageId(context),
      type: "message",
      role: "assistant",
      model: context.model,
      content,
      stop_reason: quirks.noFinishReason ? null : stopReason(plan),
      stop_sequence: null,
      usage: usage(plan, plan.outputTokens),
    });
  },

  streamFrames(plan, context, _includeUsage, quirks = {}) {
    const frames: Frame[] = [];
    const push = (event: string, data: unknown, content = false, terminator = false) =>
      frames.push({ text: sseEvent(event, JSON.stringify(data)), content, terminator });
    push("message_start", {
      type: "message_start",
      message: {
        id: messageId(context),
        type: "message",
        role: "assistant",
        model: context.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(plan, 1),
      },
    });
    const call = plan.toolCall;
    push("content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: call
        ? { type: "tool_use", id: call.id, name: call.name, input: {} }
        : { type: "text", text: "" },
    });
    frames.push({
      text: 'event: ping\ndata: {"type": "ping"}\n\n',
      content: false,
      terminator: false,
    });
    for (const piece of plan.deltas)
      push(
        "content_block_delta",
        {
          type: "content_block_delta",
          index: 0,
          delta: call
            ? { type: "input_json_delta", partial_json: piece }
            : { type: "text_delta", text: piece },
        },
        true,
      );
    push("content_block_stop", { type: "content_block_stop", index: 0 });
    push("message_delta", {
      type: "message_delta",
      delta: { stop_reason: quirks.noFinishReason ? null : stopReason(plan), stop_sequence: null },
      usage: { output_tokens: plan.outputTokens },
    });
    push("message_stop", { type: "message_stop" }, false, true);
    return frames;
  },

  error(error: WireError, context): Reply {
    const json = (
      status: number,
      type: string,
      message: string,
      extra: Record<string, string> = {},
    ): Reply => ({
      status,
      headers: { ...baseHeaders(context, "application/json"), ...extra },
      body: errorBody(type, message, context),
    });
    const retryable = { "x-should-retry": "true" };
    switch (error.kind) {
      case "rate-limit": {
        const message =
          "This request would exceed the rate limit for your organization (" +
          ORG_ID +
          ") of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.";
        if (error.style === "none") return json(429, "rate_limit_error", message);
        if (error.style === "tokens") {
          const headers = rateLimitHeaders(context.nowMs, 49, 1000);
          headers["anthropic-ratelimit-input-tokens-remaining"] = "100";
          headers["anthropic-ratelimit-input-tokens-reset"] = new Date(
            context.nowMs + error.waitMs,
          ).toISOString();
          return json(
            429,
            "rate_limit_error",
            `This request would exceed the rate limit for your organization (${ORG_ID}) of 2,000,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.`,
            { ...headers, ...retryable },
          );
        }
        const headers = rateLimitHeaders(context.nowMs, 0, error.waitMs);
        if (error.style === "seconds")
          headers["retry-after"] = String(Math.ceil(error.waitMs / 1000));
        if (error.style === "date")
          headers["retry-after"] = httpDateCeil(context.nowMs + error.waitMs);
        if (error.style === "ms") headers["retry-after-ms"] = String(error.waitMs);
        return json(429, "rate_limit_error", message, headers);
      }
      case "quota":
        return json(
          400,
          "invalid_request_error",
          "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
        );
      case "too-large":
        return json(
          413,
          "request_too_large",
          "Request exceeds the maximum allowed number of bytes.",
        );
      case "overloaded":
      case "sse-error":
        return json(529, "overloaded_error", "Overloaded", retryable);
      case "context-length":
        return json(
          400,
          "invalid_request_error",
          "prompt is too long: 208456 tokens > 200000 maximum",
        );
      case "content-filter":
        return json(400, "invalid_request_error", "Output blocked by content filtering policy");
      case "rejects-prefill":
        return json(
          400,
          "invalid_request_error",
          "This model does not support assistant message prefill. The conversation must end with a user message.",
        );
      case "missing-key":
        return json(401, "authentication_error", "x-api-key header is required");
      case "invalid-key":
        return json(401, "authentication_error", "invalid x-api-key");
      case "bad-request":
        return json(400, "invalid_request_error", error.message);
      case "unknown-route":
        return json(404, "not_found_error", "Not Found");
      case "status":
        switch (error.status) {
          case 400:
            return json(400, "invalid_request_error", "Invalid request.");
          case 401:
            return anthropicWire.error({ kind: "invalid-key", key: "" }, context);
          case 403:
            return json(
              403,
              "permission_error",
              "Your API key does not have permission to use the specified resource.",
            );
          case 404:
            return json(404, "not_found_error", `model: ${context.model}`);
          case 413:
            return anthropicWire.error({ kind: "too-large" }, context);
          case 429:
            return anthropicWire.error(
              { kind: "rate-limit", style: "seconds", waitMs: 1000 },
              context,
            );
          case 529:
            return anthropicWire.error({ kind: "overloaded" }, context);
          case 502:
          case 504: {
            const page = edgeErrorPage(error.status);
            return { ...page, headers: { ...page.headers, "request-id": context.requestId } };
          }
          default:
            return error.status >= 500
              ? json(error.status, "api_error", "Internal server error", retryable)
              : json(
                  error.status,
                  "invalid_request_error",
                  `Request failed with status ${error.status}.`,
                );
        }
    }
  },

  inBandError() {
    return sseEvent(
      "error",
      JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }),
    );
  },

  malformedFrame() {
    return 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_del\n\n';
  },

  keepAlive: () => 'event: ping\ndata: {"type": "ping"}\n\n',

  listModels(_context, extra) {
    const entries = Object.entries(ANTHROPIC_MODELS);
    for (const id of extra) if (!(id in ANTHROPIC_MODELS)) entries.push([id, id]);
    const data = entries.map(([id, name]) => modelInfo(id, name));
    return JSON.stringify({
      data,
      has_more: false,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    });
  },

  retrieveModel(id) {
    return JSON.stringify(modelInfo(id, ANTHROPIC_MODELS[id] ?? id));
  },
};

function modelInfo(id: string, displayName: string) {
  const date = /(\d{4})(\d{2})(\d{2})$/.exec(id);
  const createdAt = date ? `${date[1]}-${date[2]}-${date[3]}T00:00:00Z` : "2025-01-01T00:00:00Z";
  return { type: "model", id, display_name: displayName, created_at: createdAt };
}
