import type { ChatResponse } from "../client/types.js";
import type { ChatMessage, ToolCall } from "../types.js";

/**
 * Messages in the shape the OpenTelemetry GenAI conventions give `gen_ai.input.messages`,
 * `gen_ai.output.messages` and `gen_ai.system_instructions` (JSON text of role + parts).
 * Only used when content capture is on.
 */
type Part = Record<string, unknown>;

function toolCallPart(call: ToolCall): Part {
  let args: unknown = call.arguments;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    // Keep the model's text when it is not JSON.
  }
  return { type: "tool_call", id: call.id, name: call.name, arguments: args };
}

/** `gen_ai.system_instructions`: the system messages' text parts; undefined when there are none. */
export function systemInstructions(messages: readonly ChatMessage[]): string | undefined {
  const parts = messages
    .filter((m) => m.role === "system")
    .map((m) => ({ type: "text", content: m.content }));
  return parts.length > 0 ? JSON.stringify(parts) : undefined;
}

/** `gen_ai.input.messages`: every message but the system ones. */
export function inputMessages(messages: readonly ChatMessage[]): string {
  const out: { role: string; parts: Part[] }[] = [];
  for (const m of messages) {
    switch (m.role) {
      case "system":
        break;
      case "user": {
        const parts: Part[] =
          typeof m.content === "string"
            ? [{ type: "text", content: m.content }]
            : m.content.map((p) =>
                p.type === "text"
                  ? { type: "text", content: p.text }
                  : "url" in p
                    ? { type: "uri", modality: "image", uri: p.url }
                    : { type: "blob", modality: "image", mime_type: p.mediaType, content: p.data },
              );
        out.push({ role: "user", parts });
        break;
      }
      case "assistant": {
        const parts: Part[] = m.content ? [{ type: "text", content: m.content }] : [];
        for (const call of m.toolCalls ?? []) parts.push(toolCallPart(call));
        out.push({ role: "assistant", parts });
        break;
      }
      case "tool":
        out.push({
          role: "tool",
          parts: [{ type: "tool_call_response", id: m.toolCallId, response: m.content }],
        });
        break;
    }
  }
  return JSON.stringify(out);
}

/** `gen_ai.output.messages`: the answer as one assistant message. */
export function outputMessages(response: ChatResponse): string {
  const parts: Part[] = response.content ? [{ type: "text", content: response.content }] : [];
  for (const call of response.toolCalls) parts.push(toolCallPart(call));
  return JSON.stringify([{ role: "assistant", parts, finish_reason: response.finishReason }]);
}
