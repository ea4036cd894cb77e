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

/** Feeds text chunks, split at any point, to the handlers as whole events. */
export interface SseDecoder {
  /** Parses one chunk; may call the handlers any number of times. */
  feed(chunk: string): void;
}

/**
 * An SSE decoder (WHATWG event-stream rules, by `eventsource-parser`): LF, CR and CRLF line
 * ends, comments, multi-line `data:`, events split at any byte. An event left unterminated when
 * the body ends is dropped, as the standard says: a cut stream never yields half an event.
 *
 * @example
 * const sse = createSseDecoder({ onEvent: (e) => console.log(e.event, e.data) });
 * for await (const chunk of body) sse.feed(chunk);
 */
export function createSseDecoder(handlers: SseHandlers): SseDecoder {
  const parser = createParser({
    onEvent: (event) => handlers.onEvent(event),
    onComment: handlers.onComment ? (comment) => handlers.onComment?.(comment) : undefined,
  });
  return { feed: (chunk) => parser.feed(chunk) };
}
