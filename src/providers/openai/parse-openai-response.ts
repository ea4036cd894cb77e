import { ServerError } from "../../errors/errors.js";
import type { ProviderResponse, RateLimitInfo, ToolCall, Usage } from "../../types.js";
import { mapOpenAIFinishReason } from "./map-openai-finish-reason.js";
import type { OpenAIChatResponse, OpenAIUsage } from "./openai-wire.js";

/** Converts OpenAI usage to the shared {@link Usage}. */
export function convertOpenAIUsage(usage: OpenAIUsage | null | undefined): Usage | undefined {
  if (usage === null || usage === undefined || typeof usage !== "object") return undefined;
  const inputTokens = usage.prompt_tokens ?? 0;
  const outputTokens = usage.completion_tokens ?? 0;
  return {
    inputTokens,
    outputTokens,
    totalTokens: usage.total_tokens ?? inputTokens + outputTokens,
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
 * @throws ServerError (`invalid_response`) when the body has no choice.
 */
export function parseOpenAIResponse(body: unknown, meta: ResponseMeta): ProviderResponse {
  const response = (typeof body === "object" && body !== null ? body : {}) as OpenAIChatResponse;
  const choice = Array.isArray(response.choices) ? response.choices[0] : undefined;
  if (choice === undefined) {
    throw new ServerError({
      provider: meta.provider,
      model: meta.model,
      status: 200,
      code: "invalid_response",
      providerMessage: "the response has no choices",
      requestId: meta.requestId,
    });
  }
  const message = choice.message ?? {};
  const toolCalls: ToolCall[] = [];
  for (const call of message.tool_calls ?? []) {
    toolCalls.push({
      id: call.id ?? "",
      name: call.function?.name ?? "",
      arguments: call.function?.arguments ?? "",
    });
  }
  const rawFinishReason = choice.finish_reason ?? undefined;
  const result: {
    -readonly [K in keyof ProviderResponse]: ProviderResponse[K];
  } = {
    content: typeof message.content === "string" ? message.content : "",
    provider: meta.provider,
    model: meta.model,
    responseModel: response.model ?? meta.model,
    finishReason: mapOpenAIFinishReason(rawFinishReason),
    rawFinishReason,
    toolCalls,
    usage: convertOpenAIUsage(response.usage),
    requestId: meta.requestId,
    rateLimit: meta.rateLimit,
  };
  if (typeof message.refusal === "string" && message.refusal !== "") {
    result.refusal = message.refusal;
  }
  return result;
}
