import type { FinishReason } from "../../types.js";

/**
 * Maps Anthropic's `stop_reason` to the shared {@link FinishReason}: `end_turn` and
 * `stop_sequence` → stop; `max_tokens` and `model_context_window_exceeded` → length; `tool_use`
 * → tool_calls; `refusal` → content_filter; `pause_turn` and anything else → other.
 */
export function mapAnthropicStopReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "other";
  }
}
