import { createParser, type EventSourceMessage } from "eventsource-parser";

/** One server-sent event: its `event:` name (if any) and its `data:` lines joined by `\n`. */
export type SseEvent = EventSourceMessage;

/** Receives what an {@link SseDecoder} parses. */
export interface SseHandlers {
  /** A complete event (its terminating blank line arrived). */
  onEvent(event: SseEvent): void;
  /** A `:` comment line, e.g. a keep-alive `: ping`. */
  onComment?(comment: string): void;
}

/** Options of {@link createSseDecoder}. */
export interface SseDecoderOptions {
  /**
   * The most text (characters) buffered for one event or line; past it `feed()` throws
   * {@link SseLimitError}. @default unbounded
   */
  readonly maxEventLength?: number;
}

/** Feeds text chunks, split at any point, to the handlers as whole events. */
export interface SseDecoder {
  /** Parses one chunk. @throws SseLimitError past `maxEventLength`. */
  feed(chunk: string): void;
}

/** A line without its end, or an event without its blank line, passed `maxEventLength`. */
export class SseLimitError extends Error {
  readonly part: "line" | "event";
  readonly limit: number;
  constructor(part: "line" | "event", limit: number) {
    super(
      part === "line"
        ? `an SSE line passed ${limit} characters without ending`
        : `an SSE event passed ${limit} characters without its terminating blank line`,
    );
    this.name = "SseLimitError";
    this.part = part;
    this.limit = limit;
  }
}

/**
 * An SSE decoder (WHATWG event-stream rules, by `eventsource-parser`): LF, CR and CRLF line
 * ends, comments, multi-line `data:`, events split at any byte. An event left unterminated when
 * the body ends is dropped, as the standard says: a cut stream never yields half an event.
 * With `maxEventLength`, what it buffers is bounded.
 *
 * @example
 * const sse = createSseDecoder({ onEvent: (e) => console.log(e.event, e.data) });
 * for await (const chunk of body) sse.feed(chunk);
 */
export function createSseDecoder(
  handlers: SseHandlers,
  options: SseDecoderOptions = {},
): SseDecoder {
  const limit = options.maxEventLength;
  let failure: SseLimitError | undefined;
  let lineLength = 0; // since the last line break: a line that never ends vs a long event
  const parser = createParser({
    onEvent: (event) => handlers.onEvent(event),
    onComment: handlers.onComment ? (comment) => handlers.onComment?.(comment) : undefined,
    ...(limit === undefined
      ? {}
      : {
          maxBufferSize: limit,
          onError: () => {
            failure ??= new SseLimitError(lineLength > limit ? "line" : "event", limit);
          },
        }),
  });
  if (limit === undefined) return { feed: (chunk) => parser.feed(chunk) };
  return {
    feed(chunk) {
      if (failure !== undefined) throw failure;
      const end = Math.max(chunk.lastIndexOf("\n"), chunk.lastIndexOf("\r"));
      lineLength = end < 0 ? lineLength + chunk.length : chunk.length - end - 1;
      parser.feed(chunk);
      if (failure !== undefined) throw failure;
    },
  };
}
