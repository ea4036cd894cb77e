import type { AnswerPlan, OfferedTool } from "./answer.js";
import { formatGoDuration } from "./duration.js";
import { idChars } from "./random.js";
import {
  type ChatRequest,
  edgeErrorPage,
  type Frame,
  httpDateCeil,
  maskKey,
  type Reply,
  sseData,
  type Wire,
  type WireContext,
  type WireError,
} from "./wire.js";

const HEX = "0123456789abcdef";
const FINGERPRINT = "fp_5f1a2b3c4d";
const ORG = "org-simulator";

/** OpenAI's models, as `/v1/models` lists them. */
export const OPENAI_MODELS: readonly string[] = [
  "gpt-4o",
  "gpt-4o-mini",
  "gpt-4.1",
  "gpt-4.1-mini",
  "o3-mini",
];

function errorBody(
  message: string,
  type: string | null,
  param: string | null,
  code: string | null,
) {
  return JSON.stringify({ error: { message, type, param, code } }, null, 4);
}

function chunkTools(
  tools: unknown,
  choice: unknown,
  messages: readonly unknown[],
): OfferedTool | undefined {
  if (!Array.isArray(tools) || tools.length === 0 || choice === "none") return undefined;
  const last = messages[messages.length - 1] as { role?: unknown } | undefined;
  if (last?.role === "tool") return undefined;
  const offered = tools
    .map((t) => (t as { function?: { name?: unknown; parameters?: unknown } }).function)
    .filter((f): f is { name: string; parameters?: unknown } => typeof f?.name === "string")
    .map((f) => ({ name: f.name, schema: f.parameters ?? {} }));
  const wanted = (choice as { function?: { name?: unknown } } | undefined)?.function?.name;
  return offered.find((t) => t.name === wanted) ?? offered[0];
}

function finishReason(plan: AnswerPlan): string {
  return plan.finish === "tool" ? "tool_calls" : plan.finish;
}

function usage(plan: AnswerPlan) {
  return {
    prompt_tokens: plan.inputTokens,
    completion_tokens: plan.outputTokens,
    total_tokens: plan.inputTokens + plan.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function rateLimitHeaders(
  remainingRequests: number,
  resetRequestsMs: number,
): Record<string, string> {
  return {
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-limit-tokens": "30000000",
    "x-ratelimit-remaining-requests": String(remainingRequests),
    "x-ratelimit-remaining-tokens": "29999000",
    "x-ratelimit-reset-requests": formatGoDuration(resetRequestsMs),
    "x-ratelimit-reset-tokens": "2ms",
  };
}

function baseHeaders(context: WireContext, contentType: string): Record<string, string> {
  return {
    "content-type": contentType,
    "openai-organization": "user-simulator",
    "openai-processing-ms": "1",
    "openai-version": "2020-10-01",
    "x-request-id": context.requestId,
  };
}

function completionId(context: WireContext): string {
  return `chatcmpl-${idChars(context.serial, 29)}`;
}

/** The OpenAI Chat Completions wire format (https://api.openai.com/v1). */
export const openaiWire: Wire = {
  name: "openai",

  parseChat(body): ChatRequest | { error: string; param?: string } {
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return {
        error:
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
      };
    const b = body as Record<string, unknown>;
    if (typeof b.model !== "string" || b.model === "")
      return { error: "you must provide a model parameter", param: "model" };
    if (!Array.isArray(b.messages))
      return { error: "Missing required parameter: 'messages'.", param: "messages" };
    const max = b.max_completion_tokens ?? b.max_tokens;
    return {
      model: b.model,
      stream: b.stream === true,
      includeUsage:
        (b.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
      answer: {
        input: b.messages,
        maxTokens: typeof max === "number" ? max : undefined,
        tool: chunkTools(b.tools, b.tool_choice, b.messages),
      },
    };
  },

  toolCallId: (serial) => `call_${idChars(serial, 24)}`,
  requestId: (serial) => `req_${idChars(serial, 32, HEX)}`,

  successHeaders(context, stream) {
    return {
      ...baseHeaders(context, stream ? "text/event-stream; charset=utf-8" : "application/json"),
      ...rateLimitHeaders(9999, 6),
    };
  },

  completion(plan, context, quirks = {}) {
    const message = plan.toolCall
      ? {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: plan.toolCall.id,
              type: "function",
              function: { name: plan.toolCall.name, arguments: plan.toolCall.arguments },
            },
          ],
          refusal: null,
          annotations: [],
        }
      : { role: "assistant", content: plan.deltas.join(""), refusal: null, annotations: [] };
    return JSON.stringify(
      {
        id: completionId(context),
        object: "chat.completion",
        created: Math.floor(context.nowMs / 1000),
        model: context.model,
        choices: [
          {
            index: 0,
            message,
            logprobs: null,
            finish_reason: quirks.noFinishReason ? null : finishReason(plan),
          },
        ],
        usage: usage(plan),
        service_tier: "default",
        system_fingerprint: FINGERPRINT,
      },
      null,
      2,
    );
  },

  streamFrames(plan, context, includeUsage, quirks = {}) {
    const head = {
      id: completionId(context),
      object: "chat.completion.chunk",
      created: Math.floor(context.nowMs / 1000),
      model: context.model,
      service_tier: "default",
      system_fingerprint: FINGERPRINT,
    };
    const chunk = (delta: unknown, finish: string | null): string =>
      sseData(
        JSON.stringify({
          ...head,
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
          ...(includeUsage ? { usage: null } : {}),
        }),
      );
    const frames: Frame[] = [];
    const call = plan.toolCall;
    frames.push({
      text: chunk(
        call
          ? {
              role: "assistant",
              content: null,
              tool_calls: [
                {
                  index: 0,
                  id: call.id,
                  type: "function",
                  function: { name: call.name, arguments: "" },
                },
              ],
              refusal: null,
            }
          : { role: "assistant", content: "", refusal: null },
        null,
      ),
      content: false,
      terminator: false,
    });
    for (const piece of plan.deltas) {
      const delta = call
        ? {
            tool_calls: [
              quirks.repeatToolIds
                ? {
                    index: 0,
                    id: call.id,
                    type: "function",
                    function: { name: call.name, arguments: piece },
                  }
                : { index: 0, function: { arguments: piece } },
            ],
          }
        : { content: piece };
      frames.push({ text: chunk(delta, null), content: true, terminator: false });
    }
    if (!quirks.noFinishReason)
      frames.push({ text: chunk({}, finishReason(plan)), content: false, terminator: false });
    if (includeUsage)
      frames.push({
        text: sseData(JSON.stringify({ ...head, choices: [], usage: usage(plan) })),
        content: false,
        terminator: false,
      });
    frames.push({ text: "data: [DONE]\n\n", content: false, terminator: true });
    return frames;
  },

  error(error: WireError, context): Reply {
    const json = (status: number, body: string, extra: Record<string, string> = {}): Reply => ({
      status,
      headers: { ...baseHeaders(context, "application/json; charset=utf-8"), ...extra },
      body,
    });
    const model = context.model;
    switch (error.kind) {
      case "rate-limit": {
        const wait = error.waitMs;
        if (error.style === "none")
          return json(
            429,
            errorBody(
              `Rate limit reached for ${model} in organization ${ORG} on requests per min (RPM): Limit 500, Used 500, Requested 1. Visit https://platform.openai.com/account/rate-limits to learn more.`,
              "requests",
              null,
              "rate_limit_exceeded",
            ),
          );
        if (error.style === "tokens") {
          const headers = rateLimitHeaders(499, 120);
          headers["x-ratelimit-remaining-tokens"] = "120";
          headers["x-ratelimit-reset-tokens"] = formatGoDuration(wait);
          return json(
            429,
            errorBody(
              `Rate limit reached for ${model} in organization ${ORG} on tokens per min (TPM): Limit 30000, Used 29880, Requested 1200. Please try again in ${formatGoDuration(wait)}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
              "tokens",
              null,
              "rate_limit_exceeded",
            ),
            headers,
          );
        }
        const headers = rateLimitHeaders(0, wait);
        if (error.style === "seconds") headers["retry-after"] = String(Math.ceil(wait / 1000));
        if (error.style === "date") headers["retry-after"] = httpDateCeil(context.nowMs + wait);
        if (error.style === "ms") headers["retry-after-ms"] = String(wait);
        return json(
          429,
          errorBody(
            `Rate limit reached for ${model} in organization ${ORG} on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in ${formatGoDuration(wait)}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
            "requests",
            null,
            "rate_limit_exceeded",
          ),
          headers,
        );
      }
      case "quota":
        return json(
          429,
          errorBody(
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota",
            null,
            "insufficient_quota",
          ),
        );
      case "too-large":
        return json(
          429,
          errorBody(
            `Request too large for ${model} in organization ${ORG} on tokens per min (TPM): Limit 30000, Requested 41277. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.`,
            "tokens",
            null,
            "rate_limit_exceeded",
          ),
          rateLimitHeaders(9999, 6),
        );
      case "overloaded":
        return json(
          503,
          errorBody("The server is overloaded or not ready yet.", "server_error", null, null),
        );
      case "sse-error":
        return json(
          500,
          errorBody(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            null,
            null,
          ),
        );
      case "context-length":
        return json(
          400,
          errorBody(
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            "messages",
            "context_length_exceeded",
          ),
        );
      case "rejects-prefill":
        return json(
          400,
          errorBody(
            "The conversation must end with a user or tool message.",
            "invalid_request_error",
            "messages",
            null,
          ),
        );
      case "content-filter":
        return json(
          400,
          errorBody(
            "Invalid prompt: your prompt was flagged as potentially violating our usage policy. Please try again with a different prompt: https://platform.openai.com/docs/guides/reasoning#advice-on-prompting",
            "invalid_request_error",
            null,
            "invalid_prompt",
          ),
        );
      case "missing-key":
        return json(
          401,
          errorBody(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            null,
            null,
          ),
        );
      case "invalid-key":
        return json(
          401,
          errorBody(
            `Incorrect API key provided: ${maskKey(error.key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            "invalid_request_error",
            null,
            "invalid_api_key",
          ),
        );
      case "bad-request":
        return json(
          400,
          errorBody(error.message, "invalid_request_error", error.param ?? null, null),
        );
      case "unknown-route":
        return json(
          404,
          errorBody(
            `Invalid URL (${error.method} ${error.path})`,
            "invalid_request_error",
            null,
            null,
          ),
        );
      case "status":
        switch (error.status) {
          case 400:
            return json(400, errorBody("Invalid request.", "invalid_request_error", null, null));
          case 401:
            return openaiWire.error(
              { kind: "invalid-key", key: "sk-simulator-rejected-key" },
              context,
            );
          case 403:
            return json(
              403,
              errorBody(
                `Project \`proj_simulator\` does not have access to model \`${model}\``,
                "invalid_request_error",
                null,
                "model_not_found",
              ),
            );
          case 404:
            return json(
              404,
              errorBody(
                `The model \`${model}\` does not exist or you do not have access to it.`,
                "invalid_request_error",
                null,
                "model_not_found",
              ),
            );
          case 429:
            return openaiWire.error(
              { kind: "rate-limit", style: "seconds", waitMs: 1000 },
              context,
            );
          case 502:
          case 504:
            return {
              ...edgeErrorPage(error.status),
              headers: {
                ...edgeErrorPage(error.status).headers,
                "x-request-id": context.requestId,
              },
            };
          case 503:
            return openaiWire.error({ kind: "overloaded" }, context);
          default:
            return json(
              error.status,
              error.status >= 500
                ? errorBody(
                    "The server had an error while processing your request. Sorry about that!",
                    "server_error",
                    null,
                    null,
                  )
                : errorBody(
                    `Request failed with status ${error.status}.`,
                    "invalid_request_error",
                    null,
                    null,
                  ),
            );
        }
    }
  },

  inBandError() {
    return sseData(
      JSON.stringify({
        error: {
          message: "The server had an error while processing your request. Sorry about that!",
          type: "server_error",
          param: null,
          code: null,
        },
      }),
    );
  },

  malformedFrame(context) {
    return `data: {"id":"${completionId(context)}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\n\n`;
  },

  keepAlive: () => ": keep-alive\n\n",

  listModels(context, extra) {
    const ids = [...new Set([...OPENAI_MODELS, ...extra])];
    const created = Math.floor(context.nowMs / 1000) - 86_400 * 30;
    return JSON.stringify({
      object: "list",
      data: ids.map((id) => ({ id, object: "model", created, owned_by: "system" })),
    });
  },

  retrieveModel(id, context) {
    return JSON.stringify({
      id,
      object: "model",
      created: Math.floor(context.nowMs / 1000) - 86_400 * 30,
      owned_by: "system",
    });
  },
};
