import { InvalidRequestError } from "../../errors/invalid-request-error.js";
import type { ChatMessage, ContentPart } from "../../types.js";
import type {
  AnthropicContentBlock,
  AnthropicImageSource,
  AnthropicMessage,
} from "./anthropic-wire.js";

/** The system prompt and messages of a Messages API request. */
export interface AnthropicPrompt {
  readonly system: string | undefined;
  readonly messages: AnthropicMessage[];
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function imageSource(part: Extract<ContentPart, { type: "image" }>): AnthropicImageSource {
  if ("data" in part) return { type: "base64", media_type: part.mediaType, data: part.data };
  const match = DATA_URL.exec(part.url);
  if (match) return { type: "base64", media_type: match[1] as string, data: match[2] as string };
  return { type: "url", url: part.url };
}

function toolInput(argumentsText: string): unknown {
  if (argumentsText.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(argumentsText);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : { value };
  } catch {
    // The model wrote arguments that are not JSON: keep them rather than drop the call.
    return { arguments: argumentsText };
  }
}

function blocksOf(message: Exclude<ChatMessage, { role: "system" }>): AnthropicContentBlock[] {
  switch (message.role) {
    case "user":
      if (typeof message.content === "string") {
        return message.content === "" ? [] : [{ type: "text", text: message.content }];
      }
      return message.content.flatMap((part): AnthropicContentBlock[] => {
        if (part.type === "text")
          return part.text === "" ? [] : [{ type: "text", text: part.text }];
        return [{ type: "image", source: imageSource(part) }];
      });
    case "assistant": {
      const blocks: AnthropicContentBlock[] = [];
      if (message.content !== "") blocks.push({ type: "text", text: message.content });
      for (const call of message.toolCalls ?? []) {
        blocks.push({
          type: "tool_use",
          id: call.id,
          name: call.name,
          input: toolInput(call.arguments),
        });
      }
      return blocks;
    }
    case "tool":
      return [{ type: "tool_result", tool_use_id: message.toolCallId, content: message.content }];
    default:
      // Never drop a message silently (the client validates and translates before this).
      throw new InvalidRequestError(
        "messages",
        `unknown role ${JSON.stringify((message as { role?: unknown }).role)}`,
      );
  }
}

/**
 * Converts the shared message list to the Messages API: system messages are hoisted into the
 * top-level `system` (joined by blank lines); tool results become `tool_result` blocks in a user
 * message; an assistant's tool calls become `tool_use` blocks (arguments parsed from JSON);
 * images become image blocks (a `data:` URL as base64); consecutive messages of the same role
 * are merged, since the API wants roles to alternate; empty text is dropped (the API rejects it).
 */
export function convertAnthropicMessages(messages: readonly ChatMessage[]): AnthropicPrompt {
  const system: string[] = [];
  const out: AnthropicMessage[] = [];
  for (const message of messages) {
    if (message.role === "system") {
      if (message.content !== "") system.push(message.content);
      continue;
    }
    const role = message.role === "assistant" ? "assistant" : "user";
    const blocks = blocksOf(message);
    if (blocks.length === 0) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.role === role) {
      (last.content as AnthropicContentBlock[]).push(...blocks);
    } else {
      out.push({ role, content: blocks });
    }
  }
  // A lone text block reads better (and is shorter) as a plain string.
  for (const message of out) {
    const blocks = message.content as AnthropicContentBlock[];
    const only = blocks[0];
    if (blocks.length === 1 && only?.type === "text") message.content = only.text;
  }
  return { system: system.length > 0 ? system.join("\n\n") : undefined, messages: out };
}
