import {
  ConnectionError,
  ProviderError,
  RetryClientError,
  ServerError,
  StreamInterruptedError,
} from "../../errors/errors.js";
import { RequestControl } from "../../http/request-control.js";
import { createSseDecoder, type SseEvent, SseLimitError } from "../../http/sse.js";
import {
  BodyTooLargeError,
  headerValue,
  type Transport,
  type TransportHeaders,
  type TransportRequest,
  type TransportResponse,
  type TransportSignal,
} from "../../http/transport.js";
import type { ProviderStreamEvent } from "../../types.js";
import { WireShapeError } from "./wire-shape.js";

/** One HTTP call a provider makes, with the facts its errors need. */
export interface HttpCall {
  readonly transport: Transport;
  readonly provider: string;
  readonly model: string;
  readonly request: Omit<TransportRequest, "signal">;
  readonly signal?: AbortSignal | undefined;
  /** Non-streaming: until the body is read. Streams: until the first content delta. */
  readonly timeoutMs?: number | undefined;
  /** From sending to the response headers. */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * A connection closed without a response byte this long (or longer) after sending is a
   * silent target, not a blip. @default 5000
   */
  readonly silentTargetMs?: number | undefined;
  /** Builds the typed error for a non-2xx response. */
  readonly toError: (status: number, bodyText: string, headers: TransportHeaders) => ProviderError;
  /** The largest 2xx body read (non-streaming), in bytes. @default unbounded */
  readonly maxResponseBytes?: number | undefined;
}

/** Error bodies are read up to this many bytes; past it the status alone decides the error. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

/** A streaming call: adds the stream clocks. */
export interface StreamCall extends HttpCall {
  readonly firstTokenTimeoutMs?: number | undefined;
  readonly idleTimeoutMs?: number | undefined;
  /**
   * After the finish reason, how long to wait for the stream's tail (a usage chunk, `[DONE]`,
   * `message_stop`) before finishing without it.
   * @default 1000
   */
  readonly tailGraceMs?: number | undefined;
  /** The largest SSE event (or line) buffered, in characters. @default unbounded */
  readonly maxSseEventBytes?: number | undefined;
}

/** A JSON response body and its headers. */
export interface JsonResult {
  readonly body: unknown;
  readonly status: number;
  readonly headers: TransportHeaders;
}

/**
 * Sends a request and reads its JSON body, under the connect and attempt timeouts.
 *
 * @throws the `ProviderError` subclass of a non-2xx answer; `TimeoutError` ("connect",
 *   "attempt"); `ConnectionError` for a network failure; the caller's `signal.reason` untouched.
 */
export async function requestJson(call: HttpCall): Promise<JsonResult> {
  call.signal?.throwIfAborted();
  const control = new RequestControl(call.signal, call.provider, call.model);
  control.arm("attempt", call.timeoutMs);
  control.arm("connect", call.connectTimeoutMs);
  const sentAt = Date.now();
  let answered = false;
  try {
    const response = await call.transport.request(withSignal(call.request, control.signal));
    answered = true;
    control.disarm("connect");
    if (response.status < 200 || response.status > 299) throw await errorOf(call, response);
    // The body within `maxResponseBytes`, read here (not in a helper: one promise less).
    const maxBytes = call.maxResponseBytes;
    let text: string | undefined;
    try {
      text = await response.text(maxBytes === undefined ? undefined : { maxBytes });
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
    }
    // `text.length`: a caller's transport may ignore `maxBytes`.
    if (text === undefined || (maxBytes !== undefined && text.length > maxBytes)) {
      throw new ServerError({
        ...failed(call, response.status, "response_too_large"),
        providerMessage: `the response body passed maxResponseBytes (${maxBytes} bytes)`,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // No `cause`: the parser's message quotes the body, which may hold anything.
      throw new ServerError({
        ...failed(call, response.status, "invalid_response"),
        providerMessage: "the response body is not JSON",
      });
    }
    return { body, status: response.status, headers: response.headers };
  } catch (error) {
    const failure = control.translate(error);
    throw answered ? failure : silentTarget(failure, call, sentAt);
  } finally {
    control.dispose();
  }
}

/** The request with the signal of its control (a literal: faster than a spread per request). */
function withSignal(request: HttpCall["request"], signal: TransportSignal): TransportRequest {
  const { method, url, headers, body } = request;
  return body === undefined
    ? { method, url, headers, signal }
    : { method, url, headers, body, signal };
}

function failed(call: HttpCall, status: number, code: string) {
  return { provider: call.provider, model: call.model, status, code };
}

/**
 * The typed error of a non-2xx response, its body read up to 1 MiB (past it, the status alone
 * decides). A redirect (3xx) is not followed: it fails naming only the target's origin.
 */
async function errorOf(call: HttpCall, response: TransportResponse): Promise<ProviderError> {
  const status = response.status;
  if (status >= 300 && status <= 399) {
    response.cancel();
    return new ProviderError({
      ...failed(call, status, "redirect_not_followed"),
      providerMessage: `redirected to ${originOf(headerValue(response.headers, "location"), call.request.url)}, off the configured origin: not followed`,
    });
  }
  const maxBytes = Math.min(MAX_ERROR_BODY_BYTES, call.maxResponseBytes ?? MAX_ERROR_BODY_BYTES);
  let text = "";
  try {
    text = await response.text({ maxBytes });
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
  }
  return call.toError(status, text.length > maxBytes ? "" : text, response.headers);
}

function originOf(location: string | undefined, base: string): string {
  try {
    return new URL(location ?? "", base).origin;
  } catch {
    return "an invalid location";
  }
}

/**
 * Turns the SSE events of one provider's stream into {@link ProviderStreamEvent}s. One per
 * stream; it keeps the state (text so far, tool calls, usage, finish reason).
 */
export interface StreamDecoder {
  /**
   * Handles one SSE event, pushing what it yields to `out`.
   * @throws the typed error of an in-band error event.
   */
  onEvent(event: SseEvent, out: ProviderStreamEvent[]): void;
  /** The finish reason arrived: a stream that ends now is complete, not truncated. */
  readonly finishReasonSeen: boolean;
  /** The terminator (`[DONE]`, `message_stop`) arrived: stop reading. */
  readonly terminated: boolean;
  /** All text so far. */
  readonly text: string;
  /** Pushes the closing events (assembled tool calls not yet sent, usage, `finish`). */
  end(out: ProviderStreamEvent[]): void;
  /**
   * Optional: a count of deltas that are progress without being content (reasoning / thinking
   * deltas). When it grows after content started, the idle clock is reset.
   */
  readonly progress?: number;
}

function isContent(event: ProviderStreamEvent): boolean {
  return (
    (event.type === "text-delta" && event.text !== "") ||
    (event.type === "tool-call-delta" &&
      (event.argumentsDelta !== "" || event.id !== undefined || event.name !== undefined))
  );
}

/**
 * Runs a streaming call: sends it, decodes its SSE body through `createDecoder`, enforces the
 * stream clocks, and applies the stream failure contract:
 * - before the first content delta (text or tool call), a failure is thrown as its typed error
 *   (HTTP error class, in-band error as its HTTP twin, `ConnectionError` for a body that ends
 *   early, `TimeoutError` "connect" / "first-token" / "attempt");
 * - after it, as `StreamInterruptedError` with `partialText` and the typed error as `cause`
 *   (a body that ends before its finish reason is a `ConnectionError` code
 *   `ERR_STREAM_TRUNCATED`; a stall is `TimeoutError` "idle");
 * - a caller's abort rejects with `signal.reason` untouched.
 * Leaving the iteration early cancels the body.
 *
 * It yields the events in batches: those decoded from one chunk of the body at once (one
 * promise per network read, not one per event). A batch is valid only until the next `next()`:
 * handle it synchronously. {@link flattenBatches} gives them one by one.
 *
 * @param prepare - Builds the call; runs on the first `next()`.
 */
export async function* runSseBatches(
  prepare: () => StreamCall,
  createDecoder: (headers: TransportHeaders) => StreamDecoder,
): AsyncGenerator<readonly ProviderStreamEvent[], void, undefined> {
  // Built on the first `next()`, so a bad request (a missing key, an unsupported prefill)
  // fails the iteration like any other stream failure.
  const call = prepare();
  call.signal?.throwIfAborted();
  const control = new RequestControl(call.signal, call.provider, call.model);
  control.arm("connect", call.connectTimeoutMs);
  control.arm("attempt", call.timeoutMs);
  control.arm("first-token", call.firstTokenTimeoutMs);
  const tailGraceMs = call.tailGraceMs ?? 1000;
  let decoder: StreamDecoder | undefined;
  let started = false;
  let cancel: (() => void) | undefined;
  const sentAt = Date.now();
  let answered = false;
  /** An error a decoder threw that is not a package error: a bug, rethrown as itself. */
  let decoderBug: unknown;
  try {
    try {
      const response = await call.transport.request(withSignal(call.request, control.signal));
      answered = true;
      cancel = () => response.cancel();
      control.disarm("connect");
      if (response.status < 200 || response.status > 299) throw await errorOf(call, response);
      const active = createDecoder(response.headers);
      decoder = active;
      const out: ProviderStreamEvent[] = [];
      let inBandError: unknown;
      const sse = createSseDecoder(
        {
          onEvent(event) {
            if (inBandError !== undefined || active.terminated) return;
            try {
              active.onEvent(event, out);
            } catch (error) {
              if (error instanceof WireShapeError) {
                // What the server sent has the wrong shape: a server failure, not our bug.
                inBandError = invalidResponse(call, `stream event: ${error.message}`);
                return;
              }
              if (!RetryClientError.isInstance(error)) decoderBug = error;
              inBandError = error;
            }
          },
        },
        call.maxSseEventBytes === undefined ? {} : { maxEventLength: call.maxSseEventBytes },
      );
      let progress = active.progress ?? 0;
      for await (const chunk of response.stream()) {
        try {
          sse.feed(chunk);
        } catch (error) {
          if (!(error instanceof SseLimitError)) throw error;
          throw new ServerError({
            ...failed(call, response.status, `sse_${error.part}_too_large`),
            providerMessage: `an SSE ${error.part} passed maxSseEventBytes (${error.limit})`,
          });
        }
        if (started && active.progress !== undefined && active.progress !== progress) {
          progress = active.progress;
          control.touch();
        }
        if (out.length > 0) {
          for (let i = 0; i < out.length; i++) {
            if (!isContent(out[i] as ProviderStreamEvent)) continue;
            if (!started) {
              started = true;
              control.disarm("attempt");
              control.disarm("first-token");
              control.startIdle(call.idleTimeoutMs);
            } else control.touch();
            break;
          }
          yield out;
          // Time the consumer spent before pulling again is not a server stall.
          if (started) control.touch();
          out.length = 0;
        }
        if (inBandError !== undefined) throw inBandError;
        // Read on to the end of the body (so a keep-alive socket is reused), but never wait
        // long for a tail that may not come.
        if (active.finishReasonSeen || active.terminated) control.startGrace(tailGraceMs);
      }
      // The wire's end marker ends a stream as complete even without a finish reason.
      if (!active.finishReasonSeen && !active.terminated) throw truncated(call);
    } catch (error) {
      // A bug in a decoder is rethrown as itself, never dressed up as a network failure.
      if (decoderBug !== undefined && error === decoderBug) throw error;
      // The tail grace period cut a stream that already had its finish reason: complete.
      if (!(control.endedByGrace && decoder?.finishReasonSeen && !control.callerAborted)) {
        const translated =
          control.endedByGrace && !control.callerAborted
            ? truncated(call)
            : control.translate(error);
        const failure = answered ? translated : silentTarget(translated, call, sentAt);
        if (control.callerAborted || !started) throw failure;
        const cause = failure as Error;
        throw new StreamInterruptedError(cause.message ?? String(cause), {
          partialText: decoder?.text ?? "",
          provider: call.provider,
          model: call.model,
          cause,
        });
      }
    }
    control.dispose();
    cancel?.();
    cancel = undefined;
    const out: ProviderStreamEvent[] = [];
    (decoder as StreamDecoder).end(out);
    yield out;
  } finally {
    control.dispose();
    cancel?.();
  }
}

/** A 200 whose body does not have the wire's shape. */
export function invalidResponse(
  call: {
    readonly provider: string;
    readonly model: string;
    readonly requestId?: string | undefined;
  },
  what: string,
): ServerError {
  return new ServerError({
    provider: call.provider,
    model: call.model,
    status: 200,
    code: "invalid_response",
    providerMessage: what,
    ...(call.requestId !== undefined ? { requestId: call.requestId } : {}),
  });
}

/** Runs a body parser; a field of the wrong type it meets becomes {@link invalidResponse}. */
export function parseShaped<T>(call: Parameters<typeof invalidResponse>[0], parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof WireShapeError) throw invalidResponse(call, error.message);
    throw error;
  }
}

/**
 * A connection that closed with no response byte after the target stayed silent at least
 * `silentTargetMs` is a silent target: the same `ConnectionError`, with `silentForMs` set.
 */
function silentTarget(failure: unknown, call: HttpCall, sentAt: number): unknown {
  if (!ConnectionError.isInstance(failure) || failure.silentForMs !== undefined) return failure;
  const silentForMs = Date.now() - sentAt;
  if (silentForMs < (call.silentTargetMs ?? 5000)) return failure;
  return new ConnectionError(
    `${failure.message} (after ${silentForMs} ms of silence: a silent target)`,
    {
      provider: failure.provider,
      model: failure.model,
      code: failure.code,
      silentForMs,
      cause: failure.cause,
    },
  );
}

function truncated(call: StreamCall): ConnectionError {
  return new ConnectionError(
    `${call.provider} ${call.model}: the stream ended before its finish reason`,
    { provider: call.provider, model: call.model, code: "ERR_STREAM_TRUNCATED" },
  );
}

/**
 * The events of a batched stream one by one (what `Provider.stream()` returns). Events already
 * decoded are handed out without another trip through the batch source.
 */
export function flattenBatches(
  batches: AsyncIterable<readonly ProviderStreamEvent[]>,
): AsyncIterable<ProviderStreamEvent> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<ProviderStreamEvent> {
      const source = batches[Symbol.asyncIterator]();
      let batch: readonly ProviderStreamEvent[] = [];
      let index = 0;
      return {
        async next(): Promise<IteratorResult<ProviderStreamEvent>> {
          while (index >= batch.length) {
            const result = await source.next();
            if (result.done) return { done: true, value: undefined };
            batch = result.value;
            index = 0;
          }
          return { done: false, value: batch[index++] as ProviderStreamEvent };
        },
        async return(): Promise<IteratorResult<ProviderStreamEvent>> {
          await source.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
