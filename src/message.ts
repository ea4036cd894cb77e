import type {
  AssistantMessage,
  ContentPart,
  SystemMessage,
  ToolCall,
  ToolMessage,
  UserMessage,
} from "./types.js";

/**
 * Builders for the provider-neutral message format. The same list works unchanged against every
 * provider, which is what makes cross-provider fallback possible.
 *
 * @example
 * await client.complete([Message.system("Be brief."), Message.user("What is 2+2?")]);
 */
export const Message = {
  /** A system prompt (hoisted to Anthropic's `system` field). */
  system(text: string): SystemMessage {
    return { role: "system", content: text };
  },
  /** A user turn: text, or parts (text and images). */
  user(content: string | readonly ContentPart[]): UserMessage {
    return { role: "user", content };
  },
  /** An assistant turn, with the tool calls it made. */
  assistant(text: string, toolCalls?: readonly ToolCall[]): AssistantMessage {
    return toolCalls?.length
      ? { role: "assistant", content: text, toolCalls }
      : { role: "assistant", content: text };
  },
  /** The result of the tool call `toolCallId`. */
  tool(toolCallId: string, content: string): ToolMessage {
    return { role: "tool", toolCallId, content };
  },
  /** An image part by URL (`https:` or `data:`). */
  imageUrl(url: string): ContentPart {
    return { type: "image", url };
  },
  /** An image part from base64 data. */
  imageData(data: string, mediaType: string): ContentPart {
    return { type: "image", data, mediaType };
  },
  /** A text part. */
  text(text: string): ContentPart {
    return { type: "text", text };
  },
} as const;
