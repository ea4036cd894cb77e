import { InvalidRequestError } from "../../errors/invalid-request-error.js";
import type { ChatMessage, ContentPart } from "../../types.js";
import type { OpenAIContentPart, OpenAIMessage } from "./openai-wire.js";

function convertPart(part: ContentPart): OpenAIContentPart {
  if (part.type === "text") return { type: "text", text: part.text };
  const url = "url" in part ? part.url : `data:${part.mediaType};base64,${part.data}`;
  return { type: "image_url", image_url: { url } };
}

/**
 * Converts the shared message list to OpenAI Chat Completions messages: images become
 * `image_url` parts (base64 as a `data:` URL), an assistant's tool calls become `tool_calls`,
 * tool results become `tool` messages.
 *
 * @example
 * convertOpenAIMessages([{ role: "tool", toolCallId: "call_1", content: "42" }])
 * // [{ role: "tool", tool_call_id: "call_1", content: "42" }]
 */
export function convertOpenAIMessages(messages: readonly ChatMessage[]): OpenAIMessage[] {
  const out: OpenAIMessage[] = [];
  for (const [index, message] of messages.entries()) {
    switch (message.role) {
      case "system":
        out.push({ role: "system", content: message.content });
        break;
      case "user":
        out.push({
          role: "user",
          content:
            typeof message.content === "string"
              ? message.content
              : message.content.map(convertPart),
        });
        break;
      case "assistant": {
        const toolCalls = message.toolCalls ?? [];
        if (toolCalls.length === 0) {
          out.push({ role: "assistant", content: message.content });
        } else {
          out.push({
            role: "assistant",
            content: message.content === "" ? null : message.content,
            tool_calls: toolCalls.map((call) => ({
              id: call.id,
              type: "function",
              function: { name: call.name, arguments: call.arguments },
            })),
          });
        }
        break;
      }
      case "tool":
        out.push({ role: "tool", tool_call_id: message.toolCallId, content: message.content });
        break;
      default:
        // Never drop a message silently (the client validates and translates before this).
        throw new InvalidRequestError(
          `messages[${index}].role`,
          `expected "system", "user", "assistant" or "tool", got ${JSON.stringify((message as { role?: unknown }).role)}`,
        );
    }
  }
  return out;
}
