import type {
  ChatMessage,
  ProviderRequestOptions,
  ResponseFormat,
  ToolChoice,
} from "../../types.js";
import { convertOpenAIMessages } from "./convert-openai-messages.js";
import type { OpenAIChatRequest } from "./openai-wire.js";

/** Which body field carries the output token limit. */
export type MaxTokensField = "max_completion_tokens" | "max_tokens";

/** Settings of {@link buildOpenAIRequest} that come from the provider, not the call. */
export interface OpenAIRequestSettings {
  readonly stream: boolean;
  /** The limit when the call gives none. */
  readonly defaultMaxTokens?: number | undefined;
  /**
   * `max_completion_tokens` for OpenAI itself (its reasoning and newest models reject
   * `max_tokens`); `max_tokens` for compatible endpoints, which widely accept only that.
   */
  readonly maxTokensField: MaxTokensField;
}

function toolChoice(choice: ToolChoice): NonNullable<OpenAIChatRequest["tool_choice"]> {
  return typeof choice === "string"
    ? choice
    : { type: "function", function: { name: choice.name } };
}

function responseFormat(format: ResponseFormat): NonNullable<OpenAIChatRequest["response_format"]> {
  if (format.type !== "json_schema") return { type: format.type };
  const schema: { name: string; schema: Record<string, unknown>; strict?: boolean } = {
    name: format.name,
    schema: { ...format.schema },
  };
  if (format.strict !== undefined) schema.strict = format.strict;
  return { type: "json_schema", json_schema: schema };
}

/**
 * Builds the body of `POST /chat/completions` from the shared messages and request options.
 * Streams ask for `stream_options.include_usage` so usage is reported. `providerOptions` are
 * merged last (they win); when they carry their own `max_tokens` / `max_completion_tokens`, the
 * option `maxTokens` is not added.
 */
export function buildOpenAIRequest(
  messages: readonly ChatMessage[],
  options: ProviderRequestOptions,
  settings: OpenAIRequestSettings,
): OpenAIChatRequest {
  const body: OpenAIChatRequest = {
    model: options.model,
    messages: convertOpenAIMessages(messages),
  };
  if (settings.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  const extra = options.providerOptions;
  const maxTokens = options.maxTokens ?? settings.defaultMaxTokens;
  if (
    maxTokens !== undefined &&
    !(extra && ("max_tokens" in extra || "max_completion_tokens" in extra))
  ) {
    body[settings.maxTokensField] = maxTokens;
  }
  if (options.temperature !== undefined) body.temperature = options.temperature;
  if (options.topP !== undefined) body.top_p = options.topP;
  if (options.stop !== undefined && options.stop.length > 0) body.stop = [...options.stop];
  if (options.tools !== undefined && options.tools.length > 0) {
    body.tools = options.tools.map((tool) => {
      const fn: { name: string; description?: string; parameters: Record<string, unknown> } = {
        name: tool.name,
        parameters: { ...tool.parameters },
      };
      if (tool.description !== undefined) fn.description = tool.description;
      return { type: "function", function: fn };
    });
  }
  if (options.toolChoice !== undefined) body.tool_choice = toolChoice(options.toolChoice);
  if (options.responseFormat !== undefined)
    body.response_format = responseFormat(options.responseFormat);
  if (extra !== undefined) Object.assign(body, extra);
  return body;
}
