/**
 * Public data types shared by every layer: messages, requests, responses and stream events.
 * This module imports nothing.
 */

/** A text content part. */
export interface TextPart {
  readonly type: "text";
  readonly text: string;
}

/** An image content part, by URL (`https:` or `data:`) or as base64 data with its media type. */
export type ImagePart =
  | { readonly type: "image"; readonly url: string }
  | { readonly type: "image"; readonly data: string; readonly mediaType: string };

/** One part of a user message. */
export type ContentPart = TextPart | ImagePart;

/** A tool call requested by the model. `arguments` is JSON text, exactly as the model wrote it. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** A system message. */
export interface SystemMessage {
  readonly role: "system";
  readonly content: string;
}
/** A user message: text, or text and image parts. */
export interface UserMessage {
  readonly role: "user";
  readonly content: string | readonly ContentPart[];
}
/** An assistant message, optionally with the tool calls it made. */
export interface AssistantMessage {
  readonly role: "assistant";
  readonly content: string;
  readonly toolCalls?: readonly ToolCall[] | undefined;
}
/** The result of a tool call, answering the assistant's call `toolCallId`. */
export interface ToolMessage {
  readonly role: "tool";
  readonly toolCallId: string;
  readonly content: string;
}

/** A message in the provider-neutral format every provider accepts unchanged. */
export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

/** A tool the model may call. `parameters` is a JSON Schema object. */
export interface Tool {
  readonly name: string;
  readonly description?: string | undefined;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** How the model may use tools. */
export type ToolChoice = "auto" | "none" | "required" | { readonly name: string };

/** Requested response format. */
export type ResponseFormat =
  | { readonly type: "text" }
  | { readonly type: "json_object" }
  | {
      readonly type: "json_schema";
      readonly name: string;
      readonly schema: Readonly<Record<string, unknown>>;
      readonly strict?: boolean | undefined;
    };

/** Why the model stopped. The provider's own value is kept as `rawFinishReason`. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "error" | "other";

/** Token usage of one attempt (or summed over attempts for `totalUsage`). */
export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
}

/** Rate-limit facts parsed from response headers. Every field is optional: providers send different sets. */
export interface RateLimitInfo {
  /** From `retry-after-ms`, else `retry-after` (seconds or HTTP date), in milliseconds. */
  readonly retryAfterMs?: number | undefined;
  /** `x-should-retry: true|false`. */
  readonly shouldRetry?: boolean | undefined;
  readonly limitRequests?: number | undefined;
  readonly remainingRequests?: number | undefined;
  /** Milliseconds until the request limit resets. */
  readonly resetRequestsMs?: number | undefined;
  readonly limitTokens?: number | undefined;
  readonly remainingTokens?: number | undefined;
  /** Milliseconds until the token limit resets. */
  readonly resetTokensMs?: number | undefined;
  readonly limitInputTokens?: number | undefined;
  readonly remainingInputTokens?: number | undefined;
  readonly resetInputTokensMs?: number | undefined;
  readonly limitOutputTokens?: number | undefined;
  readonly remainingOutputTokens?: number | undefined;
  readonly resetOutputTokensMs?: number | undefined;
}

/** What to generate: the sampling and output settings every provider maps to its wire. */
export interface GenerationOptions {
  readonly maxTokens?: number | undefined;
  readonly temperature?: number | undefined;
  readonly topP?: number | undefined;
  readonly stop?: readonly string[] | undefined;
  readonly tools?: readonly Tool[] | undefined;
  readonly toolChoice?: ToolChoice | undefined;
  readonly responseFormat?: ResponseFormat | undefined;
}

/** The time bounds of one attempt, in milliseconds. */
export interface AttemptTimeouts {
  /** One attempt: a non-streaming call until its body is read; a stream until its first content delta. */
  readonly timeoutMs?: number | undefined;
  /** From sending the request to the response headers. */
  readonly connectTimeoutMs?: number | undefined;
  /** Streams: from sending the request to the first content delta. */
  readonly firstTokenTimeoutMs?: number | undefined;
  /**
   * Streams: the longest gap between content (or reasoning) deltas once content started;
   * keep-alives do not count. `Infinity` turns it off. @default 300000 (5 minutes)
   */
  readonly idleTimeoutMs?: number | undefined;
  /**
   * A connection closed with no response byte after the target stayed silent this long is a
   * silent target (handled like a timeout with no answer), not a blip. @default 5000
   */
  readonly silentTargetMs?: number | undefined;
}

/** Options a provider understands for one request. */
export interface ProviderRequestOptions extends GenerationOptions, AttemptTimeouts {
  /** The model id to call. */
  readonly model: string;
  /** Cancels the request and its body. A caller's abort is rethrown as `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Assistant prefill: the answer so far, which the model continues. Only providers whose
   * models accept it honour it (Anthropic); others throw `BadRequestError`.
   */
  readonly prefill?: string | undefined;
  /** Raw fields merged into the request body (the provider's own wire names). */
  readonly providerOptions?: Readonly<Record<string, unknown>> | undefined;
}

/** What a provider returns for one successful attempt. */
export interface ProviderResponse {
  readonly content: string;
  /** Provider name, e.g. "openai". */
  readonly provider: string;
  /** The model id that was requested. */
  readonly model: string;
  /** The model id the provider reported. */
  readonly responseModel: string;
  readonly finishReason: FinishReason;
  readonly rawFinishReason: string | undefined;
  readonly toolCalls: readonly ToolCall[];
  readonly usage: Usage | undefined;
  readonly requestId: string | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
  /** The model's refusal text, where the provider reports one separately. */
  readonly refusal?: string | undefined;
}

/** A warning: something went wrong that did not fail the request. */
export interface Warning {
  readonly code: string;
  readonly message: string;
  readonly cause?: unknown | undefined;
}

/** Events a provider stream yields. The last one is `finish`, carrying the whole response. */
export type ProviderStreamEvent =
  | { readonly type: "text-delta"; readonly text: string }
  | {
      readonly type: "tool-call-delta";
      readonly index: number;
      readonly id?: string | undefined;
      readonly name?: string | undefined;
      readonly argumentsDelta: string;
    }
  | { readonly type: "tool-call"; readonly toolCall: ToolCall }
  | { readonly type: "usage"; readonly usage: Usage }
  | { readonly type: "warning"; readonly warning: Warning }
  | { readonly type: "finish"; readonly response: ProviderResponse };

/** A model list entry. */
export interface ModelInfo {
  readonly id: string;
  readonly provider: string;
  readonly createdAt?: number | undefined;
  readonly displayName?: string | undefined;
}

/** The contract every provider implements. Providers translate and transport; they never retry. */
export interface Provider {
  /** Provider name as it appears in responses and target keys, e.g. "openai". */
  readonly name: string;
  /** Whether the models of this provider accept an assistant prefill to continue from. */
  readonly supportsPrefill: boolean;
  complete(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): Promise<ProviderResponse>;
  stream(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): AsyncIterable<ProviderStreamEvent>;
  /**
   * Optional: the same events in batches (those of one network read at once). A batch is valid
   * only until the next `next()`. The client prefers it: one promise per read, not per event.
   */
  streamBatches?(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): AsyncIterable<readonly ProviderStreamEvent[]>;
  listModels(options?: { readonly signal?: AbortSignal }): Promise<ModelInfo[]>;
}

/** What became of one attempt. */
/**
 * How an attempt ended: answered, failed, skipped without a request (open breaker, cooldown), or
 * cancelled because a hedged twin delivered first.
 */
export type AttemptOutcome = "success" | "error" | "skipped" | "cancelled";

/** One attempt of a call against one target, in the order they were made. */
export interface AttemptRecord {
  readonly provider: string;
  readonly model: string;
  readonly outcome: AttemptOutcome;
  /** The error class name (e.g. "RateLimitError") when the attempt failed or was skipped. */
  readonly errorClass?: string | undefined;
  /** A short message of what failed. */
  readonly errorMessage?: string | undefined;
  /** HTTP status of the failure, when there was one. */
  readonly status?: number | undefined;
  /** How long the client waited before this attempt (backoff, server wait or cooldown). */
  readonly delayBeforeMs: number;
  /** The wait the server asked for on this attempt's failure. */
  readonly retryAfterMs?: number | undefined;
  /** From sending the request to the end of the attempt. */
  readonly durationMs: number;
  /** Streams: time to the first content delta. */
  readonly ttftMs?: number | undefined;
  /** Usage the attempt reported (billed even when the attempt failed later). */
  readonly usage?: Usage | undefined;
}
