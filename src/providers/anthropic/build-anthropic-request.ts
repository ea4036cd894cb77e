import type {
  ChatMessage,
  ProviderRequestOptions,
  ResponseFormat,
  ToolChoice,
} from "../../types.js";
import type { AnthropicMessagesRequest } from "./anthropic-wire.js";
import { convertAnthropicMessages } from "./convert-anthropic-messages.js";
import { defaultAnthropicMaxTokens } from "./default-max-tokens.js";

/** Settings of {@link buildAnthropicRequest} that come from the provider, not the call. */
export interface AnthropicRequestSettings {
  readonly stream: boolean;
  /** The limit when the call gives none. @default per model, see `defaultAnthropicMaxTokens` */
  readonly defaultMaxTokens?: number | undefined;
}

/** The body, and whether the prefill lost trailing whitespace (the API rejects it). */
export interface AnthropicRequest {
  readonly body: AnthropicMessagesRequest;
  /**
   * The prefill ended in whitespace that was trimmed off: the model's continuation then usually
   * starts with that whitespace again, and the caller already has it, so its leading whitespace
   * is dropped.
   */
  readonly trimLeadingWhitespace: boolean;
}

function toolChoice(choice: ToolChoice): NonNullable<AnthropicMessagesRequest["tool_choice"]> {
  if (typeof choice !== "string") return { type: "tool", name: choice.name };
  if (choice === "required") return { type: "any" };
  return { type: choice };
}

/** The Messages API has no JSON mode: ask for it in the system prompt instead. */
function formatInstruction(format: ResponseFormat): string | undefined {
  if (format.type === "json_object") return "Respond with a single JSON object and nothing else.";
  if (format.type === "json_schema") {
    return `Respond with a single JSON value that matches this JSON Schema, and nothing else:\n${JSON.stringify(format.schema)}`;
  }
  return undefined;
}

/**
 * Builds the body of `POST /v1/messages`: system hoisted, messages converted (see
 * `convertAnthropicMessages`), `max_tokens` always set, `toolChoice` mapped (`required` →
 * `any`), a prefill appended as the final assistant turn, `providerOptions` merged last.
 */
export function buildAnthropicRequest(
  messages: readonly ChatMessage[],
  options: ProviderRequestOptions,
  settings: AnthropicRequestSettings,
): AnthropicRequest {
  const prompt = convertAnthropicMessages(messages);
  const body: AnthropicMessagesRequest = {
    model: options.model,
    max_tokens:
      options.maxTokens ?? settings.defaultMaxTokens ?? defaultAnthropicMaxTokens(options.model),
    messages: prompt.messages,
  };
  let system = prompt.system;
  const instruction = options.responseFormat
    ? formatInstruction(options.responseFormat)
    : undefined;
  if (instruction !== undefined)
    system = system === undefined ? instruction : `${system}\n\n${instruction}`;
  if (system !== undefined) body.system = system;
  if (settings.stream) body.stream = true;
  if (options.temperature !== undefined) body.temperature = options.temperature;
  if (options.topP !== undefined) body.top_p = options.topP;
  if (options.stop !== undefined && options.stop.length > 0)
    body.stop_sequences = [...options.stop];
  if (options.tools !== undefined && options.tools.length > 0) {
    body.tools = options.tools.map((tool) => {
      const out: { name: string; description?: string; input_schema: Record<string, unknown> } = {
        name: tool.name,
        input_schema: { ...tool.parameters },
      };
      if (tool.description !== undefined) out.description = tool.description;
      return out;
    });
    if (options.toolChoice !== undefined) body.tool_choice = toolChoice(options.toolChoice);
  }
  let trimLeadingWhitespace = false;
  if (options.prefill !== undefined && options.prefill !== "") {
    const text = options.prefill.trimEnd();
    trimLeadingWhitespace = text.length !== options.prefill.length;
    if (text !== "") {
      const last = body.messages[body.messages.length - 1];
      if (last?.role === "assistant") {
        const blocks =
          typeof last.content === "string"
            ? [{ type: "text" as const, text: last.content }]
            : last.content;
        last.content = [...blocks, { type: "text", text }];
      } else {
        body.messages.push({ role: "assistant", content: text });
      }
    }
  }
  if (options.providerOptions !== undefined) Object.assign(body, options.providerOptions);
  return { body, trimLeadingWhitespace };
}
