import type { SseEvent } from "../../http/sse.js";
import type { ProviderResponse, ProviderStreamEvent, ToolCall, Usage } from "../../types.js";
import type { StreamDecoder } from "../shared/http-call.js";
import { optionalCount, optionalObject } from "../shared/wire-shape.js";
import type { AnthropicStreamEvent, AnthropicUsage } from "./anthropic-wire.js";
import { type AnthropicErrorContext, anthropicStreamError } from "./map-anthropic-error.js";
import { mapAnthropicStopReason } from "./map-anthropic-stop-reason.js";
import { type AnthropicResponseMeta, convertAnthropicUsage } from "./parse-anthropic-response.js";

interface ToolBlock {
  /** Position among the tool calls of this answer (the `index` of tool-call events). */
  readonly toolIndex: number;
  readonly id: string;
  readonly name: string;
  arguments: string;
}

/**
 * Decodes a Messages API SSE stream: `message_start`, `content_block_start/delta/stop` (text,
 * `input_json_delta` for tool calls; thinking is not text and is skipped), `message_delta`
 * (stop reason and cumulative usage), `message_stop`, `ping`, `error`. A `data:` that is not
 * JSON is skipped with a `warning`; an `error` event throws its typed error.
 */
export class AnthropicStreamDecoder implements StreamDecoder {
  finishReasonSeen = false;
  terminated = false;
  text = "";
  /** Thinking deltas seen: progress for the idle clock, though not content. */
  progress = 0;
  #responseModel: string | undefined;
  #rawStopReason: string | undefined;
  #usage: AnthropicUsage = {};
  #hasUsage = false;
  /** Tool blocks still open, by content-block index (a closed one is removed at once). */
  #blocks: Map<number, ToolBlock> | undefined;
  #toolCount = 0;
  readonly #toolCalls: ToolCall[] = [];
  #trimPending: boolean;
  readonly #meta: AnthropicResponseMeta;
  readonly #errorContext: AnthropicErrorContext;

  constructor(meta: AnthropicResponseMeta, errorContext: AnthropicErrorContext) {
    this.#meta = meta;
    this.#errorContext = errorContext;
    this.#trimPending = meta.trimLeadingWhitespace === true;
  }

  onEvent(event: SseEvent, out: ProviderStreamEvent[]): void {
    if (event.data === "" || event.event === "ping") return;
    let data: AnthropicStreamEvent;
    try {
      data = JSON.parse(event.data) as AnthropicStreamEvent;
    } catch (error) {
      out.push({
        type: "warning",
        warning: {
          code: "malformed-chunk",
          message: `${this.#meta.provider} ${this.#meta.model}: skipped a stream event that is not JSON`,
          // Not the parser's own error: its message quotes the event, which may hold anything.
          cause: new SyntaxError(`not JSON (${(error as Error).name})`),
        },
      });
      return;
    }
    if (typeof data !== "object" || data === null) return;
    switch (data.type ?? event.event) {
      case "message_start": {
        const message = data.message;
        if (typeof message?.model === "string") this.#responseModel = message.model;
        if (message?.usage) {
          // The input tokens are billed from here on, even if the stream breaks later.
          this.#mergeUsage(message.usage);
          const usage = this.#currentUsage();
          if (usage !== undefined) out.push({ type: "usage", usage });
        }
        break;
      }
      case "content_block_start": {
        const block = optionalObject(data.content_block, "content_block") as
          | AnthropicStreamEvent["content_block"]
          | undefined;
        if (block?.type === "text" && typeof block.text === "string") this.#text(block.text, out);
        else if (block?.type === "tool_use") {
          const tool: ToolBlock = {
            toolIndex: this.#toolCount++,
            id: typeof block.id === "string" ? block.id : "",
            name: typeof block.name === "string" ? block.name : "",
            arguments: "",
          };
          this.#blocks ??= new Map();
          this.#blocks.set(data.index ?? -1, tool);
          out.push({
            type: "tool-call-delta",
            index: tool.toolIndex,
            id: tool.id,
            name: tool.name,
            argumentsDelta: "",
          });
        }
        break;
      }
      case "content_block_delta": {
        const delta = optionalObject(data.delta, "delta") as AnthropicStreamEvent["delta"];
        if (delta?.type === "text_delta" && typeof delta.text === "string")
          this.#text(delta.text, out);
        else if (delta?.type === "thinking_delta" || delta?.type === "signature_delta")
          this.progress++;
        else if (delta?.type === "input_json_delta" && typeof delta.partial_json === "string") {
          const tool = this.#blocks?.get(data.index ?? -1);
          if (tool !== undefined && delta.partial_json !== "") {
            tool.arguments += delta.partial_json;
            out.push({
              type: "tool-call-delta",
              index: tool.toolIndex,
              argumentsDelta: delta.partial_json,
            });
          }
        }
        break;
      }
      case "content_block_stop": {
        const index = data.index ?? -1;
        const tool = this.#blocks?.get(index);
        if (tool !== undefined) {
          // Removed once closed: `end()` then only sees blocks left open (linear, not n²).
          this.#blocks?.delete(index);
          this.#closeTool(tool, out);
        }
        break;
      }
      case "message_delta": {
        const stop = data.delta?.stop_reason;
        if (typeof stop === "string" && stop !== "") {
          this.#rawStopReason = stop;
          this.finishReasonSeen = true;
        }
        if (data.usage) {
          this.#mergeUsage(data.usage);
          const usage = this.#currentUsage();
          if (usage !== undefined) out.push({ type: "usage", usage });
        }
        break;
      }
      case "message_stop":
        this.terminated = true;
        break;
      case "error":
        throw anthropicStreamError(data.error, this.#errorContext, this.#meta.requestId);
      default:
        break;
    }
  }

  #text(text: string, out: ProviderStreamEvent[]): void {
    let piece = text;
    if (this.#trimPending) {
      piece = piece.trimStart();
      if (piece === "") return;
      this.#trimPending = false;
    }
    if (piece === "") return;
    this.text += piece;
    out.push({ type: "text-delta", text: piece });
  }

  /** `message_delta` usage is cumulative: later values replace earlier ones, field by field. */
  #mergeUsage(usage: AnthropicUsage): void {
    const merged: AnthropicUsage = { ...this.#usage };
    for (const [key, value] of Object.entries(optionalObject(usage, "usage") ?? {})) {
      // Token counts must be numbers; other fields (service tier, …) are not ours to check.
      if (key.endsWith("_tokens")) {
        const count = optionalCount(value, `usage.${key}`);
        if (count !== undefined) (merged as Record<string, number>)[key] = count;
      }
    }
    this.#usage = merged;
    this.#hasUsage = true;
  }

  #currentUsage(): Usage | undefined {
    return this.#hasUsage ? convertAnthropicUsage(this.#usage) : undefined;
  }

  /** A finished tool block becomes a `tool-call` (empty arguments read as `{}`). */
  #closeTool(tool: ToolBlock, out: ProviderStreamEvent[]): void {
    const call = {
      id: tool.id,
      name: tool.name,
      arguments: tool.arguments === "" ? "{}" : tool.arguments,
    };
    this.#toolCalls.push(call);
    out.push({ type: "tool-call", toolCall: call });
  }

  end(out: ProviderStreamEvent[]): void {
    // Tool blocks left open by a stream that still had its stop reason: close them.
    if (this.#blocks !== undefined) {
      for (const tool of this.#blocks.values()) this.#closeTool(tool, out);
      this.#blocks.clear();
    }
    const raw = this.#rawStopReason;
    const response: ProviderResponse = {
      content: this.text,
      provider: this.#meta.provider,
      model: this.#meta.model,
      responseModel: this.#responseModel ?? this.#meta.model,
      finishReason: mapAnthropicStopReason(raw),
      rawFinishReason: raw,
      toolCalls: [...this.#toolCalls],
      usage: this.#currentUsage(),
      requestId: this.#meta.requestId,
      rateLimit: this.#meta.rateLimit,
    };
    out.push({ type: "finish", response });
  }
}
