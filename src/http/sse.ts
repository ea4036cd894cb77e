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
  const limit = options.maxEventLength;
  const onComment = handlers.onComment;
  let failure: SseLimitError | undefined;
  let started = false; // a first character has been seen (the BOM check is done)
  let skipLF = false; // the last chunk ended with CR: a LF starting the next one ends nothing
  let pending = ""; // the unfinished line carried over from the last chunk
  let data = "";
  let dataLines = 0;
  let eventType: string | undefined;
  let lastId: string | undefined;

  function dispatch(): void {
    if (dataLines > 0) {
      const event: SseEvent = { event: eventType, data, id: lastId };
      data = "";
      dataLines = 0;
      eventType = undefined;
      handlers.onEvent(event);
    } else eventType = undefined;
  }

  function addData(value: string): void {
    data = dataLines === 0 ? value : `${data}\n${value}`;
    dataLines++;
  }

  /** A line other than an empty one or a `data:` one: `line[start, end)`. */
  function otherLine(line: string, start: number, end: number): void {
    let colon = line.indexOf(":", start);
    if (colon >= end) colon = -1;
    if (colon === start) {
      if (onComment !== undefined) {
        onComment(line.slice(line.charCodeAt(start + 1) === SPACE ? start + 2 : start + 1, end));
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
        addData(value);
        return;
      case "event":
        eventType = value === "" ? undefined : value;
        return;
      case "id":
        if (!value.includes("\0")) lastId = value;
        return;
      default:
        // `retry:` (reconnection is not ours to do) and unknown fields are ignored.
        return;
    }
  }

  function line(text: string, start: number, end: number): void {
    if (start === end) dispatch();
    else if (
      text.charCodeAt(start) === 100 && // d
      text.charCodeAt(start + 1) === 97 && // a
      text.charCodeAt(start + 2) === 116 && // t
      text.charCodeAt(start + 3) === 97 && // a
      text.charCodeAt(start + 4) === COLON
    ) {
      const from = text.charCodeAt(start + 5) === SPACE ? start + 6 : start + 5;
      addData(text.slice(from, end));
    } else otherLine(text, start, end);
  }

  function parse(chunk: string): void {
    const length = chunk.length;
    let pos = 0;
    if (!started) {
      if (length === 0) return;
      started = true;
      if (chunk.charCodeAt(0) === 0xfeff) pos = 1;
    }
    if (skipLF) {
      skipLF = false;
      if (chunk.charCodeAt(pos) === LF) pos++;
    }
    // The next LF and CR at or after `pos` (`length` when none): each is searched for only once
    // it has been passed, so a chunk without CR is not rescanned for one line by line.
    let lf = chunk.indexOf("\n", pos);
    if (lf < 0) lf = length;
    let cr = chunk.indexOf("\r", pos);
    if (cr < 0) cr = length;
    if (pending !== "") {
      const end = Math.min(lf, cr);
      if (end === length) {
        pending += chunk.slice(pos);
        return;
      }
      const whole = pending + chunk.slice(pos, end);
      pending = "";
      line(whole, 0, whole.length);
      pos = end + 1;
      if (end === cr) {
        if (pos === length) skipLF = true;
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
        // The hot path, inlined: a `data:` line; one followed by a blank line is a whole event.
        if (
          dataLines === 0 &&
          chunk.charCodeAt(pos) === 100 && // d
          chunk.charCodeAt(pos + 1) === 97 && // a
          chunk.charCodeAt(pos + 2) === 116 && // t
          chunk.charCodeAt(pos + 3) === 97 && // a
          chunk.charCodeAt(pos + 4) === COLON &&
          chunk.charCodeAt(lf + 1) === LF
        ) {
          const from = chunk.charCodeAt(pos + 5) === SPACE ? pos + 6 : pos + 5;
          const event: SseEvent = { event: eventType, data: chunk.slice(from, lf), id: lastId };
          eventType = undefined;
          pos = lf + 2;
          handlers.onEvent(event);
          continue;
        }
        line(chunk, pos, lf);
        pos = lf + 1;
      } else if (cr < length) {
        line(chunk, pos, cr);
        pos = cr + 1;
        if (pos === length) skipLF = true;
        else if (lf === pos) pos++;
      } else {
        pending = pos === 0 ? chunk : chunk.slice(pos);
        return;
      }
    }
  }

  if (limit === undefined) return { feed: parse };
  return {
    feed(chunk) {
      if (failure !== undefined) throw failure;
      parse(chunk);
      if (pending.length + data.length > limit) {
        failure = new SseLimitError(pending.length > limit ? "line" : "event", limit);
        pending = "";
        data = "";
        dataLines = 0;
        eventType = undefined;
        throw failure;
      }
    },
  };
}
