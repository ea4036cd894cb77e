import type { SseEvent } from "../../http/sse.js";
import type { ProviderResponse, ProviderStreamEvent, ToolCall, Usage } from "../../types.js";
import type { StreamDecoder } from "../shared/http-call.js";
import {
  optionalArray,
  optionalObject,
  optionalString,
  requiredObject,
  WireShapeError,
} from "../shared/wire-shape.js";
import { type OpenAIErrorContext, openAIStreamError } from "./map-openai-error.js";
import { mapOpenAIFinishReason } from "./map-openai-finish-reason.js";
import type { OpenAIChatChunk } from "./openai-wire.js";
import { convertOpenAIUsage, type ResponseMeta } from "./parse-openai-response.js";

/** An object that is not an array (what `requiredObject` accepts). */
function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function choicePath(c: number, field: string): string {
  return `choices[${c}]${field}`;
}

interface ToolCallState {
  id: string;
  name: string;
  arguments: string;
}

/**
 * The most tool calls one answer may assemble. Real answers carry a handful; the bound keeps a
 * hostile chunk from making the decoder hold (or iterate) an unbounded number of them.
 */
export const MAX_STREAM_TOOL_CALLS = 1024;

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
  /** By the wire's `index` (any integer: a Map, never a holey array as long as the index). */
  /** Made on the first tool-call fragment: most answers have none. */
  #toolCalls: Map<number, ToolCallState> | undefined;
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
          // Not the parser's own error: its message quotes the chunk, which may hold anything.
          cause: new SyntaxError(`not JSON (${(error as Error).name})`),
        },
      });
      return;
    }
    if (typeof chunk !== "object" || chunk === null) return;
    if (chunk.error !== undefined && chunk.error !== null) {
      throw openAIStreamError(chunk.error, this.#errorContext, this.#meta.requestId);
    }
    if (typeof chunk.model === "string" && chunk.model !== "") this.#responseModel ??= chunk.model;
    const choices = optionalArray(chunk.choices, "choices");
    if (choices !== undefined) {
      // The checks of wire-shape.ts, written out: a field's path is built only when it is wrong.
      for (let c = 0; c < choices.length; c++) {
        const choice = choices[c] as NonNullable<OpenAIChatChunk["choices"]>[number];
        if (!isObject(choice)) throw new WireShapeError(choicePath(c, ""), "an object", choice);
        if ((choice.index ?? 0) !== 0) continue;
        const delta = choice.delta as
          | NonNullable<NonNullable<OpenAIChatChunk["choices"]>[number]["delta"]>
          | null
          | undefined;
        if (delta !== undefined && delta !== null) {
          if (!isObject(delta))
            throw new WireShapeError(choicePath(c, ".delta"), "an object", delta);
          const content: unknown = delta.content;
          if (typeof content === "string") {
            if (content !== "") {
              this.text += content;
              out.push({ type: "text-delta", text: content });
            }
          } else if (content !== undefined && content !== null) {
            throw new WireShapeError(choicePath(c, ".delta.content"), "a string", content);
          }
          if (typeof delta.refusal === "string") this.#refusal += delta.refusal;
          const toolCalls: unknown = delta.tool_calls;
          if (toolCalls !== undefined && toolCalls !== null) {
            if (!Array.isArray(toolCalls)) {
              throw new WireShapeError(choicePath(c, ".delta.tool_calls"), "an array", toolCalls);
            }
            this.#toolCallDeltas(toolCalls, out);
          }
        }
        const finish: unknown = choice.finish_reason;
        if (typeof finish === "string") {
          if (finish !== "") {
            this.#rawFinishReason = finish;
            this.finishReasonSeen = true;
            this.#sendToolCalls(out);
          }
        } else if (finish !== undefined && finish !== null) {
          throw new WireShapeError(choicePath(c, ".finish_reason"), "a string", finish);
        }
      }
    }
    const usage = convertOpenAIUsage(chunk.usage);
    if (usage !== undefined) {
      this.#usage = usage;
      out.push({ type: "usage", usage });
    }
  }

  #toolCallDeltas(deltas: readonly unknown[], out: ProviderStreamEvent[]): void {
    if (deltas.length === 0) return;
    this.#toolCalls ??= new Map();
    const toolCalls = this.#toolCalls;
    for (let i = 0; i < deltas.length; i++) {
      const path = `delta.tool_calls[${i}]`;
      const delta = requiredObject(deltas[i], path);
      const fn = optionalObject(delta.function, `${path}.function`) ?? {};
      const rawIndex = delta.index;
      if (
        rawIndex !== undefined &&
        rawIndex !== null &&
        !(typeof rawIndex === "number" && Number.isSafeInteger(rawIndex) && rawIndex >= 0)
      ) {
        throw new WireShapeError(`${path}.index`, "a non-negative integer", rawIndex);
      }
      const index = typeof rawIndex === "number" ? rawIndex : toolCalls.size;
      let state = toolCalls.get(index);
      if (state === undefined) {
        if (toolCalls.size >= MAX_STREAM_TOOL_CALLS) {
          throw new WireShapeError(
            `${path}.index`,
            `at most ${MAX_STREAM_TOOL_CALLS} tool calls per answer`,
            rawIndex,
          );
        }
        state = { id: "", name: "", arguments: "" };
        toolCalls.set(index, state);
      }
      const event: {
        type: "tool-call-delta";
        index: number;
        id?: string;
        name?: string;
        argumentsDelta: string;
      } = {
        type: "tool-call-delta",
        index,
        argumentsDelta: optionalString(fn.arguments, `${path}.function.arguments`) ?? "",
      };
      // The id and the name come from the first fragment that carries them: some compatible
      // servers repeat both in every fragment, which must not append to them.
      const id = optionalString(delta.id, `${path}.id`);
      if (id !== undefined && id !== "" && state.id === "") {
        state.id = id;
        event.id = id;
      }
      const name = optionalString(fn.name, `${path}.function.name`);
      if (name !== undefined && name !== "" && state.name === "") {
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
    const toolCalls = this.#toolCalls;
    if (toolCalls === undefined) return calls;
    // In index order (at most MAX_STREAM_TOOL_CALLS of them).
    const indexes = [...toolCalls.keys()].sort((a, b) => a - b);
    for (const index of indexes) {
      const state = toolCalls.get(index) as ToolCallState;
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
