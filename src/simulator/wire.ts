import type { AnswerInputs, AnswerPlan } from "./answer.js";
import type { Fault } from "./faults.js";

/** The two wire formats the simulator speaks. */
export type WireName = "openai" | "anthropic" | "azure";

/** Facts one reply is built from. */
export interface WireContext {
  readonly requestId: string;
  /** The model to report (the request's model without fault directives). */
  readonly model: string;
  /** The simulator clock, epoch milliseconds. */
  readonly nowMs: number;
  /** The request's serial number (ids are derived from it, deterministically). */
  readonly serial: number;
}

/** One server-sent event as bytes, and whether it carries content (text or tool arguments). */
export interface Frame {
  readonly text: string;
  readonly content: boolean;
  /** The final frame(s) a `no-terminator` fault drops (`[DONE]`, `message_stop`). */
  readonly terminator: boolean;
}

/** A complete HTTP reply. */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Errors a wire can answer with: an HTTP fault, or a problem with the request itself. */
export type WireError =
  | Exclude<
      Fault,
      {
        kind:
          | "ok"
          | "reset"
          | "hang"
          | "silent-close"
          | "slow"
          | "cut"
          | "stall"
          | "malformed"
          | "no-terminator"
          | "no-finish-reason"
          | "repeat-tool-ids";
      }
    >
  | { readonly kind: "missing-key" }
  | { readonly kind: "invalid-key"; readonly key: string }
  | { readonly kind: "bad-request"; readonly message: string; readonly param?: string }
  | { readonly kind: "unknown-route"; readonly method: string; readonly path: string };

/** A parsed chat request: what to answer and how. */
export interface ChatRequest {
  readonly model: string;
  readonly stream: boolean;
  /** OpenAI `stream_options.include_usage`. */
  readonly includeUsage: boolean;
  readonly answer: Omit<AnswerInputs, "text" | "toolCallId">;
}

/** Quirks of OpenAI-compatible servers an answer can have. */
export interface AnswerQuirks {
  /** Never send a finish reason (the stream still ends with its end marker). */
  readonly noFinishReason?: boolean;
  /** Repeat the tool call's id and name in every fragment. */
  readonly repeatToolIds?: boolean;
}

/** One provider's wire format. */
export interface Wire {
  readonly name: WireName;
  /** Reads a chat request body, or says what is wrong with it (the provider's 400). */
  parseChat(body: unknown): ChatRequest | { readonly error: string; readonly param?: string };
  /** A tool call id in the provider's format. */
  toolCallId(serial: number): string;
  /** A request id in the provider's format. */
  requestId(serial: number): string;
  /** Headers of a successful reply (rate-limit headroom included). */
  successHeaders(context: WireContext, stream: boolean): Record<string, string>;
  completion(plan: AnswerPlan, context: WireContext, quirks?: AnswerQuirks): string;
  streamFrames(
    plan: AnswerPlan,
    context: WireContext,
    includeUsage: boolean,
    quirks?: AnswerQuirks,
  ): Frame[];
  error(error: WireError, context: WireContext): Reply;
  /** An in-band stream error event (Anthropic `overloaded_error`, OpenAI `server_error`). */
  inBandError(context: WireContext): string;
  /** A `data:` line that is not JSON. */
  malformedFrame(context: WireContext): string;
  /** What the provider sends while the model thinks (SSE comment or `ping`). */
  keepAlive(): string;
  listModels(context: WireContext, extra: readonly string[]): string;
  retrieveModel(id: string, context: WireContext): string;
}

/** `data: …` SSE frame. */
export function sseData(json: string): string {
  return `data: ${json}\n\n`;
}

/** `event: …` + `data: …` SSE frame. */
export function sseEvent(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}

/** RFC 3339 timestamp, whole seconds rounded up (the form Anthropic's reset headers use). */
export function rfc3339Ceil(epochMs: number): string {
  return new Date(Math.ceil(epochMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** HTTP-date (RFC 9110), whole seconds rounded up. */
export function httpDateCeil(epochMs: number): string {
  return new Date(Math.ceil(epochMs / 1000) * 1000).toUTCString();
}

/** A Cloudflare-style HTML error page, what a 502/504 from a provider's edge really looks like. */
export function edgeErrorPage(status: number): Reply {
  const title = status === 502 ? "502 Bad Gateway" : "504 Gateway Time-out";
  return {
    status,
    headers: { "content-type": "text/html" },
    body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`,
  };
}

/** Masks an API key the way providers echo it: `sk-a***wxyz`. Never the whole key. */
export function maskKey(key: string): string {
  if (key.length <= 8) return "***";
  return `${key.slice(0, 4)}${"*".repeat(Math.min(20, key.length - 8))}${key.slice(-4)}`;
}
