import type { ProviderResponse, RateLimitInfo, ToolCall, Usage } from "../../types.js";
import { invalidResponse, parseShaped } from "../shared/http-call.js";
import {
  optionalArray,
  optionalCount,
  optionalObject,
  optionalString,
  requiredObject,
} from "../shared/wire-shape.js";
import { mapOpenAIFinishReason } from "./map-openai-finish-reason.js";
import type { OpenAIUsage } from "./openai-wire.js";

/**
 * Converts OpenAI usage to the shared {@link Usage}.
 * @throws `WireShapeError` when a count is not a non-negative number.
 */
export function convertOpenAIUsage(usage: OpenAIUsage | null | undefined): Usage | undefined {
  const u = optionalObject(usage, "usage");
  if (u === undefined) return undefined;
  const inputTokens = optionalCount(u.prompt_tokens, "usage.prompt_tokens") ?? 0;
  const outputTokens = optionalCount(u.completion_tokens, "usage.completion_tokens") ?? 0;
  return {
    inputTokens,
    outputTokens,
    totalTokens: optionalCount(u.total_tokens, "usage.total_tokens") ?? inputTokens + outputTokens,
  };
}

/** Facts of the response that come from the call, not the body. */
export interface ResponseMeta {
  readonly provider: string;
  readonly model: string;
  readonly requestId: string | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
}

/**
 * Reads a non-streaming Chat Completions body into a {@link ProviderResponse}.
 * @throws ServerError (`invalid_response`) when the body has no choice, or a field has the wrong
 *   type (`choices: [null]`, `tool_calls: 5`, a token count that is not a number).
 */
export function parseOpenAIResponse(body: unknown, meta: ResponseMeta): ProviderResponse {
  return parseShaped(meta, () => parse(body, meta));
}

function parse(body: unknown, meta: ResponseMeta): ProviderResponse {
  const response = optionalObject(body, "the body") ?? {};
  const choices = optionalArray(response.choices, "choices");
  if (choices !== undefined && choices.length > 0) requiredObject(choices[0], "choices[0]");
  const choice = optionalObject(choices?.[0], "choices[0]");
  if (choice === undefined) {
    throw invalidResponse(meta, "the response has no choices");
  }
  const message = optionalObject(choice.message, "choices[0].message") ?? {};
  const toolCalls: ToolCall[] = [];
  const calls = optionalArray(message.tool_calls, "message.tool_calls") ?? [];
  for (let i = 0; i < calls.length; i++) {
    const path = `message.tool_calls[${i}]`;
    const call = requiredObject(calls[i], path);
    const fn = optionalObject(call.function, `${path}.function`) ?? {};
    toolCalls.push({
      id: optionalString(call.id, `${path}.id`) ?? "",
      name: optionalString(fn.name, `${path}.function.name`) ?? "",
      arguments: optionalString(fn.arguments, `${path}.function.arguments`) ?? "",
    });
  }
  const rawFinishReason = optionalString(choice.finish_reason, "choices[0].finish_reason");
  const result: {
    -readonly [K in keyof ProviderResponse]: ProviderResponse[K];
  } = {
    content: typeof message.content === "string" ? message.content : "",
    provider: meta.provider,
    model: meta.model,
    responseModel: typeof response.model === "string" ? response.model : meta.model,
    finishReason: mapOpenAIFinishReason(rawFinishReason),
    rawFinishReason,
    toolCalls,
    usage: convertOpenAIUsage(response.usage as OpenAIUsage | undefined),
    requestId: meta.requestId,
    rateLimit: meta.rateLimit,
  };
  if (typeof message.refusal === "string" && message.refusal !== "") {
    result.refusal = message.refusal;
  }
  return result;
}
