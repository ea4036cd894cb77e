import type {
  ChatMessage,
  ChatResponse,
  FinishReason,
  GenerationOptions,
  StreamEvent,
} from "../../index.node.js";
import type { GatewayFailure } from "../failure.js";

/** A caller's request, read from its wire into the client's terms. */
export interface GatewayRequest {
  /** The `model` field as sent: an alias, `provider:model` or a model name. */
  readonly model: string;
  readonly messages: ChatMessage[];
  readonly generation: GenerationOptions;
  readonly stream: boolean;
  /** OpenAI `stream_options.include_usage`. */
  readonly includeUsage: boolean;
  /** Fields of this wire the gateway passes through to providers of the same wire. */
  readonly passThrough: Record<string, unknown> | undefined;
}

/** Turns the client's stream events into one wire's SSE frames. */
export interface StreamEncoder {
  /** Frames for one event ("" when the event shows nothing on this wire). */
  event(event: StreamEvent): string;
  /** The closing frames, after the answer completed. */
  finish(response: ChatResponse): string;
  /** The in-band error event that ends a failed stream (never a clean end). */
  error(failure: GatewayFailure): string;
}

/** One wire the gateway serves (OpenAI Chat Completions, Anthropic Messages). */
export interface GatewayWire {
  readonly name: "openai" | "anthropic";
  /** @throws GatewayRequestError for what no provider could accept. */
  parse(body: unknown): GatewayRequest;
  /** The whole answer of a non-streaming call, as JSON text. */
  response(response: ChatResponse, request: GatewayRequest): string;
  /** An error body in this wire's words. */
  errorBody(failure: GatewayFailure): string;
  streamEncoder(request: GatewayRequest): StreamEncoder;
}

let serial = 0;
const PREFIX = `${Date.now().toString(36)}${process.pid.toString(36)}`;

/** A unique id for a response (cheaper than a UUID per request). */
export function responseId(prefix: string): string {
  serial += 1;
  return `${prefix}${PREFIX}${serial.toString(36).padStart(6, "0")}`;
}

/** Copies the listed fields of `body` that are set, or undefined when none is. */
export function pickFields(
  body: Record<string, unknown>,
  names: readonly string[],
): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const name of names) {
    if (body[name] !== undefined) {
      out ??= {};
      out[name] = body[name];
    }
  }
  return out;
}

export type { FinishReason };
