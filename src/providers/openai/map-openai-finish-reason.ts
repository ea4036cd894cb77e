import type { FinishReason } from "../../types.js";

/**
 * Maps OpenAI's `finish_reason` to the shared {@link FinishReason}: `stop` → stop, `length` →
 * length, `tool_calls` / `function_call` → tool_calls, `content_filter` → content_filter,
 * anything else → other.
 */
export function mapOpenAIFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "other";
  }
}
