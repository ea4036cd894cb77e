/**
 * Wire shapes of the Anthropic Messages API (request, response, stream events), kept apart from
 * the public types. Everything arriving from the network is treated as possibly missing.
 */

/** An image source: base64 data or a URL. */
export type AnthropicImageSource =
  | { type: "base64"; media_type: string; data: string }
  | { type: "url"; url: string };

/** A content block of a request message. */
export type AnthropicContentBlock =
  | { type: "text"; text: string }
  | { type: "image"; source: AnthropicImageSource }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; tool_use_id: string; content: string };

/** A message of the `messages` array (roles alternate). */
export interface AnthropicMessage {
  role: "user" | "assistant";
  content: string | AnthropicContentBlock[];
}

/** The request body of `POST /v1/messages`. */
export interface AnthropicMessagesRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string;
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
  tool_choice?:
    | { type: "auto" }
    | { type: "any" }
    | { type: "none" }
    | { type: "tool"; name: string };
  [extra: string]: unknown;
}

/** Token usage as Anthropic reports it. */
export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** A content block of a response. */
export interface AnthropicResponseBlock {
  type?: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

/** The response body of a non-streaming call (also `message_start.message`). */
export interface AnthropicMessagesResponse {
  id?: string;
  type?: string;
  role?: string;
  model?: string;
  content?: AnthropicResponseBlock[];
  stop_reason?: string | null;
  stop_sequence?: string | null;
  usage?: AnthropicUsage;
}

/** One stream event (the `data:` JSON; its `type` repeats the SSE `event:` name). */
export interface AnthropicStreamEvent {
  type?: string;
  message?: AnthropicMessagesResponse;
  index?: number;
  content_block?: AnthropicResponseBlock;
  delta?: {
    type?: string;
    text?: string;
    partial_json?: string;
    stop_reason?: string | null;
    stop_sequence?: string | null;
  };
  usage?: AnthropicUsage;
  error?: unknown;
}

/** The body of `GET /v1/models`. */
export interface AnthropicModelList {
  data?: Array<{ id?: string; display_name?: string; created_at?: string; type?: string }>;
  has_more?: boolean;
  first_id?: string | null;
  last_id?: string | null;
}
