import type { SseEvent } from "../../http/sse.js";
import type { ProviderResponse, ProviderStreamEvent, ToolCall, Usage } from "../../types.js";
import type { StreamDecoder } from "../shared/http-call.js";
import { type OpenAIErrorContext, openAIStreamError } from "./map-openai-error.js";
import { mapOpenAIFinishReason } from "./map-openai-finish-reason.js";
import type { OpenAIChatChunk } from "./openai-wire.js";
import { convertOpenAIUsage, type ResponseMeta } from "./parse-openai-response.js";

interface ToolCallState {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Decodes a Chat Completions SSE stream: `data: {chunk}` lines until `data: [DONE]`. Text
 * deltas become `text-delta`; tool-call fragments become `tool-call-delta` and are assembled by
 * `index` into `tool-call` events when the finish reason arrives (the id and name from the first
 * fragment carrying them); `[DONE]` ends the stream as complete even when no finish reason came
 * (finish reason "other"); the usage chunk (sent after
 * the finish reason with `include_usage`) becomes `usage`; a chunk that is not JSON is skipped
 * with a `warning`; a chunk carrying `error` throws its typed error.
 */
export class OpenAIStreamDecoder implements StreamDecoder {
  finishReasonSeen = false;
  terminated = false;
  text = "";
  #refusal = "";
  #responseModel: string | undefined;
  #rawFinishReason: string | undefined;
  #usage: Usage | undefined;
  #toolCalls: ToolCallState[] = [];
  #toolCallsSent = false;
  readonly #meta: ResponseMeta;
  readonly #errorContext: OpenAIErrorContext;

  constructor(meta: ResponseMeta, errorContext: OpenAIErrorContext) {
    this.#meta = meta;
    this.#errorContext = errorContext;
  }

  onEvent(event: SseEvent, out: ProviderStreamEvent[]): void {
    const data = event.data;
    if (data === "[DONE]") {
      this.terminated = true;
      return;
    }
    if (data === "") return;
    let chunk: OpenAIChatChunk;
    try {
      chunk = JSON.parse(data) as OpenAIChatChunk;
    } catch (error) {
      out.push({
        type: "warning",
        warning: {
          code: "malformed-chunk",
          message: `${this.#meta.provider} ${this.#meta.model}: skipped a stream chunk that is not JSON`,
          cause: error,
        },
      });
      return;
    }
    if (typeof chunk !== "object" || chunk === null) return;
    if (chunk.error !== undefined && chunk.error !== null) {
      throw openAIStreamError(chunk.error, this.#errorContext, this.#meta.requestId);
    }
    if (typeof chunk.model === "string" && chunk.model !== "") this.#responseModel ??= chunk.model;
    const choices = chunk.choices;
    if (Array.isArray(choices)) {
      for (const choice of choices) {
        if ((choice.index ?? 0) !== 0) continue;
        const delta = choice.delta;
        if (delta) {
          if (typeof delta.content === "string" && delta.content !== "") {
            this.text += delta.content;
            out.push({ type: "text-delta", text: delta.content });
          }
          if (typeof delta.refusal === "string") this.#refusal += delta.refusal;
          if (Array.isArray(delta.tool_calls)) this.#toolCallDeltas(delta.tool_calls, out);
        }
        if (typeof choice.finish_reason === "string" && choice.finish_reason !== "") {
          this.#rawFinishReason = choice.finish_reason;
          this.finishReasonSeen = true;
          this.#sendToolCalls(out);
        }
      }
    }
    const usage = convertOpenAIUsage(chunk.usage);
    if (usage !== undefined) {
      this.#usage = usage;
      out.push({ type: "usage", usage });
    }
  }

  #toolCallDeltas(
    deltas: NonNullable<NonNullable<OpenAIChatChunk["choices"]>[number]["delta"]>["tool_calls"] &
      object,
    out: ProviderStreamEvent[],
  ): void {
    for (const delta of deltas) {
      const index = typeof delta.index === "number" ? delta.index : this.#toolCalls.length;
      let state = this.#toolCalls[index];
      if (state === undefined) {
        state = { id: "", name: "", arguments: "" };
        this.#toolCalls[index] = state;
      }
      const event: {
        type: "tool-call-delta";
        index: number;
        id?: string;
        name?: string;
        argumentsDelta: string;
      } = { type: "tool-call-delta", index, argumentsDelta: delta.function?.arguments ?? "" };
      // The id and the name come from the first fragment that carries them: some compatible
      // servers repeat both in every fragment, which must not append to them.
      if (typeof delta.id === "string" && delta.id !== "" && state.id === "") {
        state.id = delta.id;
        event.id = delta.id;
      }
      const name = delta.function?.name;
      if (typeof name === "string" && name !== "" && state.name === "") {
        state.name = name;
        event.name = name;
      }
      state.arguments += event.argumentsDelta;
      if (event.argumentsDelta !== "" || event.id !== undefined || event.name !== undefined) {
        out.push(event);
      }
    }
  }

  #sendToolCalls(out: ProviderStreamEvent[]): void {
    if (this.#toolCallsSent) return;
    this.#toolCallsSent = true;
    for (const call of this.#assembled()) out.push({ type: "tool-call", toolCall: call });
  }

  #assembled(): ToolCall[] {
    const calls: ToolCall[] = [];
    for (const state of this.#toolCalls) {
      if (state !== undefined)
        calls.push({ id: state.id, name: state.name, arguments: state.arguments });
    }
    return calls;
  }

  end(out: ProviderStreamEvent[]): void {
    this.#sendToolCalls(out);
    const raw = this.#rawFinishReason;
    const response: { -readonly [K in keyof ProviderResponse]: ProviderResponse[K] } = {
      content: this.text,
      provider: this.#meta.provider,
      model: this.#meta.model,
      responseModel: this.#responseModel ?? this.#meta.model,
      finishReason: mapOpenAIFinishReason(raw),
      rawFinishReason: raw,
      toolCalls: this.#assembled(),
      usage: this.#usage,
      requestId: this.#meta.requestId,
      rateLimit: this.#meta.rateLimit,
    };
    if (this.#refusal !== "") response.refusal = this.#refusal;
    out.push({ type: "finish", response });
  }
}
