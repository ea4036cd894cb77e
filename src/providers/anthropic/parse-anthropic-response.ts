import { ServerError } from "../../errors/errors.js";
import type { ProviderResponse, RateLimitInfo, ToolCall, Usage } from "../../types.js";
import type { AnthropicMessagesResponse, AnthropicUsage } from "./anthropic-wire.js";
import { mapAnthropicStopReason } from "./map-anthropic-stop-reason.js";

/**
 * Converts Anthropic usage to the shared {@link Usage}. Input tokens include cache writes and
 * reads: all of them were processed (and billed) as input.
 */
export function convertAnthropicUsage(usage: AnthropicUsage | undefined): Usage | undefined {
  if (usage === undefined || usage === null || typeof usage !== "object") return undefined;
  const inputTokens =
    (usage.input_tokens ?? 0) +
    (usage.cache_creation_input_tokens ?? 0) +
    (usage.cache_read_input_tokens ?? 0);
  const outputTokens = usage.output_tokens ?? 0;
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

/** Facts of the response that come from the call, not the body. */
export interface AnthropicResponseMeta {
  readonly provider: string;
  readonly model: string;
  readonly requestId: string | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
  /** Drop the leading whitespace of the text (see `buildAnthropicRequest`). */
  readonly trimLeadingWhitespace?: boolean;
}

/**
 * Reads a non-streaming Messages API body into a {@link ProviderResponse}: text blocks joined
 * (thinking blocks left out), `tool_use` blocks as tool calls (input as JSON text).
 * @throws ServerError (`invalid_response`) when the body has no content array.
 */
export function parseAnthropicResponse(
  body: unknown,
  meta: AnthropicResponseMeta,
): ProviderResponse {
  const message = (
    typeof body === "object" && body !== null ? body : {}
  ) as AnthropicMessagesResponse;
  if (!Array.isArray(message.content)) {
    throw new ServerError({
      provider: meta.provider,
      model: meta.model,
      status: 200,
      code: "invalid_response",
      providerMessage: "the response has no content",
      requestId: meta.requestId,
    });
  }
  let content = "";
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block?.type === "text" && typeof block.text === "string") content += block.text;
    else if (block?.type === "tool_use") {
      toolCalls.push({
        id: block.id ?? "",
        name: block.name ?? "",
        arguments: JSON.stringify(block.input ?? {}),
      });
    }
  }
  if (meta.trimLeadingWhitespace) content = content.trimStart();
  const rawFinishReason = message.stop_reason ?? undefined;
  return {
    content,
    provider: meta.provider,
    model: meta.model,
    responseModel: message.model ?? meta.model,
    finishReason: mapAnthropicStopReason(rawFinishReason),
    rawFinishReason,
    toolCalls,
    usage: convertAnthropicUsage(message.usage),
    requestId: meta.requestId,
    rateLimit: meta.rateLimit,
  };
}
