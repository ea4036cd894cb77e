import type { ProviderResponse, RateLimitInfo, ToolCall, Usage } from "../../types.js";
import { invalidResponse, parseShaped } from "../shared/http-call.js";
import {
  optionalArray,
  optionalCount,
  optionalObject,
  optionalString,
  requiredObject,
} from "../shared/wire-shape.js";
import type { AnthropicUsage } from "./anthropic-wire.js";
import { mapAnthropicStopReason } from "./map-anthropic-stop-reason.js";

/**
 * Converts Anthropic usage to the shared {@link Usage}. Input tokens include cache writes and
 * reads: all of them were processed (and billed) as input.
 * @throws `WireShapeError` when a count is not a non-negative number.
 */
export function convertAnthropicUsage(usage: AnthropicUsage | undefined): Usage | undefined {
  const u = optionalObject(usage, "usage");
  if (u === undefined) return undefined;
  const inputTokens =
    (optionalCount(u.input_tokens, "usage.input_tokens") ?? 0) +
    (optionalCount(u.cache_creation_input_tokens, "usage.cache_creation_input_tokens") ?? 0) +
    (optionalCount(u.cache_read_input_tokens, "usage.cache_read_input_tokens") ?? 0);
  const outputTokens = optionalCount(u.output_tokens, "usage.output_tokens") ?? 0;
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
 * @throws ServerError (`invalid_response`) when the body has no content array, or a field has
 *   the wrong type (a block that is not an object, a token count that is not a number).
 */
export function parseAnthropicResponse(
  body: unknown,
  meta: AnthropicResponseMeta,
): ProviderResponse {
  return parseShaped(meta, () => parse(body, meta));
}

function parse(body: unknown, meta: AnthropicResponseMeta): ProviderResponse {
  const message = optionalObject(body, "the body") ?? {};
  const blocks = optionalArray(message.content, "content");
  if (blocks === undefined) {
    throw invalidResponse(meta, "the response has no content");
  }
  let content = "";
  const toolCalls: ToolCall[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const block = requiredObject(blocks[i], `content[${i}]`);
    if (block.type === "text") content += optionalString(block.text, `content[${i}].text`) ?? "";
    else if (block.type === "tool_use") {
      toolCalls.push({
        id: optionalString(block.id, `content[${i}].id`) ?? "",
        name: optionalString(block.name, `content[${i}].name`) ?? "",
        arguments: JSON.stringify(block.input ?? {}),
      });
    }
  }
  if (meta.trimLeadingWhitespace) content = content.trimStart();
  const rawFinishReason = optionalString(message.stop_reason, "stop_reason");
  return {
    content,
    provider: meta.provider,
    model: meta.model,
    responseModel: typeof message.model === "string" ? message.model : meta.model,
    finishReason: mapAnthropicStopReason(rawFinishReason),
    rawFinishReason,
    toolCalls,
    usage: convertAnthropicUsage(message.usage as AnthropicUsage | undefined),
    requestId: meta.requestId,
    rateLimit: meta.rateLimit,
  };
}
