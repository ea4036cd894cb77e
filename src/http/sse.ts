/** One server-sent event: its `event:` name (if any) and its `data:` lines joined by `\n`. */
export interface SseEvent {
  /** The `event:` field; undefined when absent or empty (a plain "message"). */
  readonly event: string | undefined;
  /** The `data:` lines, joined by `\n`. */
  readonly data: string;
  /** The last event ID the stream set (an `id:` field without NUL); it carries over to later events. */
  readonly id: string | undefined;
}

/** Receives what an {@link SseDecoder} parses. */
export interface SseHandlers {
  /** A complete event (its terminating blank line arrived). */
  onEvent(event: SseEvent): void;
  /** A `:` comment line, e.g. a keep-alive `: ping` (one leading space stripped). */
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

const LF = 10;
const SPACE = 32;
const COLON = 58;

/**
 * An SSE decoder (the WHATWG event-stream rules): LF, CR and CRLF line ends (a CRLF may be split
 * across chunks), a leading BOM stripped, `:` comments, `event:`, multi-line `data:` joined by
 * `\n`, `id:` (ignored when it holds a NUL), `retry:` and unknown fields ignored, a field without
 * a colon taken as a field with an empty value, one space after the colon stripped. An event
 * without `data:` is not dispatched. An event left unterminated when the body ends is dropped,
 * as the standard says: a cut stream never yields half an event. With `maxEventLength`, what it
 * buffers between chunks (the unfinished line plus the event's data) is bounded.
 *
 * Built for the hot path: each chunk is scanned with `indexOf`, a `data:` value is sliced straight
 * out of the chunk, and only a line split across chunks is ever copied.
 *
 * @example
 * const sse = createSseDecoder({ onEvent: (e) => console.log(e.event, e.data) });
 * for await (const chunk of body) sse.feed(chunk);
 */
export function createSseDecoder(
  handlers: SseHandlers,
  options: SseDecoderOptions = {},
): SseDecoder {
  return new EventStreamDecoder(handlers, options.maxEventLength);
}

/** The decoder's state in one object: no closures per stream. */
class EventStreamDecoder implements SseDecoder {
  readonly #handlers: SseHandlers;
  readonly #limit: number | undefined;
  #failure: SseLimitError | undefined;
  /** A first character has been seen (the BOM check is done). */
  #started = false;
  /** The last chunk ended with CR: a LF starting the next one ends nothing. */
  #skipLF = false;
  /** The unfinished line carried over from the last chunk. */
  #pending = "";
  #data = "";
  #dataLines = 0;
  #eventType: string | undefined;
  #lastId: string | undefined;

  constructor(handlers: SseHandlers, limit: number | undefined) {
    this.#handlers = handlers;
    this.#limit = limit;
  }

  feed(chunk: string): void {
    const limit = this.#limit;
    if (limit === undefined) {
      this.#parse(chunk);
      return;
    }
    if (this.#failure !== undefined) throw this.#failure;
    this.#parse(chunk);
    const pending = this.#pending.length;
    if (pending + this.#data.length > limit) {
      this.#failure = new SseLimitError(pending > limit ? "line" : "event", limit);
      this.#pending = "";
      this.#data = "";
      this.#dataLines = 0;
      this.#eventType = undefined;
      throw this.#failure;
    }
  }

  #dispatch(): void {
    if (this.#dataLines > 0) {
      const event: SseEvent = { event: this.#eventType, data: this.#data, id: this.#lastId };
      this.#data = "";
      this.#dataLines = 0;
      this.#eventType = undefined;
      this.#handlers.onEvent(event);
    } else this.#eventType = undefined;
  }

  #addData(value: string): void {
    this.#data = this.#dataLines === 0 ? value : `${this.#data}\n${value}`;
    this.#dataLines++;
  }

  /** A line other than an empty one or a `data:` one: `line[start, end)`. */
  #otherLine(line: string, start: number, end: number): void {
    let colon = line.indexOf(":", start);
    if (colon >= end) colon = -1;
    if (colon === start) {
      const onComment = this.#handlers.onComment;
      if (onComment !== undefined) {
        onComment.call(
          this.#handlers,
          line.slice(line.charCodeAt(start + 1) === SPACE ? start + 2 : start + 1, end),
        );
      }
      return;
    }
    const field = colon < 0 ? line.slice(start, end) : line.slice(start, colon);
    const value =
      colon < 0
        ? ""
        : line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1, end);
    switch (field) {
      case "data":
        this.#addData(value);
        return;
      case "event":
        this.#eventType = value === "" ? undefined : value;
        return;
      case "id":
        if (!value.includes("\0")) this.#lastId = value;
        return;
      default:
        // `retry:` (reconnection is not ours to do) and unknown fields are ignored.
        return;
    }
  }

  #line(text: string, start: number, end: number): void {
    if (start === end) this.#dispatch();
    else if (isData(text, start)) {
      this.#addData(text.slice(text.charCodeAt(start + 5) === SPACE ? start + 6 : start + 5, end));
    } else this.#otherLine(text, start, end);
  }

  #parse(chunk: string): void {
    const length = chunk.length;
    let pos = 0;
    if (!this.#started) {
      if (length === 0) return;
      this.#started = true;
      if (chunk.charCodeAt(0) === 0xfeff) pos = 1;
    }
    if (this.#skipLF) {
      this.#skipLF = false;
      if (chunk.charCodeAt(pos) === LF) pos++;
    }
    // The next LF and CR at or after `pos` (`length` when none): each is searched for only once
    // it has been passed, so a chunk without CR is not rescanned for one line by line.
    let lf = chunk.indexOf("\n", pos);
    if (lf < 0) lf = length;
    let cr = chunk.indexOf("\r", pos);
    if (cr < 0) cr = length;
    if (this.#pending !== "") {
      const end = Math.min(lf, cr);
      if (end === length) {
        this.#pending += chunk.slice(pos);
        return;
      }
      const whole = this.#pending + chunk.slice(pos, end);
      this.#pending = "";
      this.#line(whole, 0, whole.length);
      pos = end + 1;
      if (end === cr) {
        if (pos === length) this.#skipLF = true;
        else if (chunk.charCodeAt(pos) === LF) pos++;
      }
    }
    while (pos < length) {
      if (lf < pos) {
        lf = chunk.indexOf("\n", pos);
        if (lf < 0) lf = length;
      }
      if (cr < pos) {
        cr = chunk.indexOf("\r", pos);
        if (cr < 0) cr = length;
      }
      if (lf < cr) {
        // The hot path: a `data:` line followed by a blank line is a whole event.
        if (this.#dataLines === 0 && chunk.charCodeAt(lf + 1) === LF && isData(chunk, pos)) {
          const from = chunk.charCodeAt(pos + 5) === SPACE ? pos + 6 : pos + 5;
          const event: SseEvent = {
            event: this.#eventType,
            data: chunk.slice(from, lf),
            id: this.#lastId,
          };
          this.#eventType = undefined;
          pos = lf + 2;
          this.#handlers.onEvent(event);
          continue;
        }
        this.#line(chunk, pos, lf);
        pos = lf + 1;
      } else if (cr < length) {
        this.#line(chunk, pos, cr);
        pos = cr + 1;
        if (pos === length) this.#skipLF = true;
        else if (lf === pos) pos++;
      } else {
        this.#pending = pos === 0 ? chunk : chunk.slice(pos);
        return;
      }
    }
  }
}

/** `text` has `data:` at `i`. */
function isData(text: string, i: number): boolean {
  return (
    text.charCodeAt(i) === 100 && // d
    text.charCodeAt(i + 1) === 97 && // a
    text.charCodeAt(i + 2) === 116 && // t
    text.charCodeAt(i + 3) === 97 && // a
    text.charCodeAt(i + 4) === COLON
  );
}
