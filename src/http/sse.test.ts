import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSseDecoder, type SseEvent, SseLimitError } from "./sse.js";

function decode(chunks: readonly string[]): { events: SseEvent[]; comments: string[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const sse = createSseDecoder({
    onEvent: (e) => events.push(e),
    onComment: (c) => comments.push(c),
  });
  for (const chunk of chunks) sse.feed(chunk);
  return { events, comments };
}

describe("createSseDecoder", () => {
  it("handles CRLF, CR, comments, event names and multi-line data", () => {
    const { events, comments } = decode([
      ': keep-alive\r\n\r\nevent: message_start\r\ndata: {"a":1}\r\n\r\n',
      "data: line one\rdata: line two\r\r",
      "data: x\n\n",
    ]);
    expect(comments).toEqual(["keep-alive"]);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ["message_start", '{"a":1}'],
      [undefined, "line one\nline two"],
      [undefined, "x"],
    ]);
  });

  it("joins an event split anywhere, and drops one left unterminated", () => {
    const text = "event: ping\ndata: {}\n\ndata: [DONE]\n\ndata: partial";
    for (let cut = 0; cut <= text.length; cut++) {
      const { events } = decode([text.slice(0, cut), text.slice(cut)]);
      expect(events.map((e) => e.data)).toEqual(["{}", "[DONE]"]);
    }
  });

  it("with maxEventLength, a line that never ends and an event that never ends fail, each named", () => {
    const feedUntilError = (chunk: string, first = "") => {
      const sse = createSseDecoder({ onEvent: () => {} }, { maxEventLength: 1000 });
      sse.feed(first);
      for (let i = 0; i < 100; i++) {
        try {
          sse.feed(chunk);
        } catch (error) {
          return error as SseLimitError;
        }
      }
      return undefined;
    };
    const line = feedUntilError("x".repeat(100), "data: ");
    expect(line).toBeInstanceOf(SseLimitError);
    expect(line?.part).toBe("line");
    const event = feedUntilError("data: yyyyyyyyyy\n");
    expect(event?.part).toBe("event");
    expect(event?.limit).toBe(1000);
  });

  it("events under the limit decode the same however the bytes are chunked", () => {
    const text = 'data: {"a":1}\n\nevent: e\ndata: one\ndata: two\n\n: ping\n\ndata: [DONE]\n\n';
    fc.assert(
      fc.property(fc.array(fc.nat(text.length), { maxLength: 6 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: string[] = [];
        let last = 0;
        for (const p of points) {
          chunks.push(text.slice(last, p));
          last = p;
        }
        chunks.push(text.slice(last));
        const events: string[] = [];
        const sse = createSseDecoder(
          { onEvent: (e) => events.push(e.data) },
          { maxEventLength: 20 },
        );
        for (const chunk of chunks) sse.feed(chunk);
        expect(events).toEqual(['{"a":1}', "one\ntwo", "[DONE]"]);
      }),
    );
  });
});

/** The WHATWG event-stream algorithm, written plainly over the whole text: the reference. */
function reference(text: string): { events: SseEvent[]; comments: string[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const lines = body.split(/\r\n|\r|\n/);
  lines.pop(); // what follows the last line end is unterminated
  let data = "";
  let eventType = "";
  let lastId: string | undefined;
  let hasData = false;
  for (const line of lines) {
    if (line === "") {
      if (hasData) {
        events.push({ event: eventType === "" ? undefined : eventType, data, id: lastId });
      }
      data = "";
      eventType = "";
      hasData = false;
      continue;
    }
    if (line.startsWith(":")) {
      comments.push(line.slice(line.startsWith(": ") ? 2 : 1));
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      data = hasData ? `${data}\n${value}` : value;
      hasData = true;
    } else if (field === "event") eventType = value;
    else if (field === "id" && !value.includes("\0")) lastId = value;
  }
  return { events, comments };
}

function chunksAt(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts)].sort((a, b) => a - b);
  const chunks: string[] = [];
  let last = 0;
  for (const p of points) {
    chunks.push(text.slice(last, p));
    last = p;
  }
  chunks.push(text.slice(last));
  return chunks;
}

describe("createSseDecoder, the standard's edge cases", () => {
  it("a CRLF split across chunks is one line end, not two", () => {
    const { events } = decode(["data: a\r", "\ndata: b\r\n\r\n"]);
    expect(events.map((e) => e.data)).toEqual(["a\nb"]);
  });

  it("an event ended by CR CR at the end of a chunk is dispatched at once", () => {
    const events: string[] = [];
    const sse = createSseDecoder({ onEvent: (e) => events.push(e.data) });
    sse.feed("data: a\r\r");
    expect(events).toEqual(["a"]);
    sse.feed("\ndata: b\n\n"); // that LF ends an empty line: nothing to dispatch
    expect(events).toEqual(["a", "b"]);
  });

  it("strips one leading BOM, only at the start of the stream", () => {
    expect(decode(["", "\uFEFFdata: a\n\n"]).events.map((e) => e.data)).toEqual(["a"]);
    // A BOM later on is part of the field name: an unknown field, ignored.
    expect(decode(["data: a\n\n\uFEFFdata: b\n\n"]).events.map((e) => e.data)).toEqual(["a"]);
    expect(decode(["\uFEFF\uFEFFdata: b\n\n"]).events).toEqual([]);
  });

  it("fields: one space stripped, no colon means an empty value, retry and unknown ignored", () => {
    const { events } = decode([
      "data:  two spaces\ndata:none\n\n",
      "data\ndata\n\n",
      "retry: 1000\nfoo: bar\ndata: x\n\n",
      "data\n\n",
    ]);
    expect(events.map((e) => e.data)).toEqual([" two spaces\nnone", "\n", "x", ""]);
  });

  it("an event without data is not dispatched, and its name does not leak to the next", () => {
    const { events } = decode(["event: lonely\n\ndata: y\n\nevent:\ndata: z\n\n"]);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      [undefined, "y"],
      [undefined, "z"],
    ]);
  });

  it("id: the last one without NUL, carried over to later events", () => {
    const { events } = decode([
      "data: a\n\nid: 1\ndata: b\n\ndata: c\n\nid: x\0y\ndata: d\n\nid\ndata: e\n\n",
    ]);
    expect(events.map((e) => [e.id, e.data])).toEqual([
      [undefined, "a"],
      ["1", "b"],
      ["1", "c"],
      ["1", "d"],
      ["", "e"],
    ]);
  });

  it("comments keep all but one leading space", () => {
    expect(decode([":a\n", ":  b\n", ":\n"]).comments).toEqual(["a", " b", ""]);
  });

  it("drops an event whose blank line never comes", () => {
    expect(decode(["data: a\n", "data: b\n"]).events).toEqual([]);
    expect(decode(["data: a"]).events).toEqual([]);
  });

  it("matches the standard's algorithm on any text, however it is chunked", () => {
    const token = fc.constantFrom(
      "data",
      "data:",
      "data: ",
      "event:",
      "event: e",
      "id: 7",
      "id:\0",
      "retry: 5",
      ":",
      ": c",
      " ",
      "x",
      "é😀",
      "\uFEFF",
      "\0",
      "\r",
      "\n",
      "\r\n",
      "\n\n",
    );
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 40 }),
        fc.array(fc.nat(400), { maxLength: 8 }),
        (tokens, cuts) => {
          const text = tokens.join("");
          const events: SseEvent[] = [];
          const comments: string[] = [];
          const sse = createSseDecoder({
            onEvent: (e) => events.push(e),
            onComment: (c) => comments.push(c),
          });
          for (const chunk of chunksAt(
            text,
            cuts.map((c) => c % (text.length + 1)),
          )) {
            sse.feed(chunk);
          }
          expect({ events, comments }).toEqual(reference(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("with maxEventLength, a stream within it decodes as without", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(200), { maxLength: 8 }), (cuts) => {
        const text = 'event: e\r\ndata: {"a":1}\r\n\r\n: ping\rdata: one\rdata: two\r\rdata: x\n\n';
        const events: SseEvent[] = [];
        const sse = createSseDecoder({ onEvent: (e) => events.push(e) }, { maxEventLength: 16 });
        for (const chunk of chunksAt(
          text,
          cuts.map((c) => c % (text.length + 1)),
        ))
          sse.feed(chunk);
        expect(events).toEqual(reference(text).events);
      }),
    );
  });

  it("after a limit error, every later feed throws the same error", () => {
    const sse = createSseDecoder({ onEvent: () => {} }, { maxEventLength: 10 });
    expect(() => sse.feed("data: 0123456789")).toThrow(SseLimitError);
    let again: unknown;
    try {
      sse.feed("\n\n");
    } catch (error) {
      again = error;
    }
    expect(again).toBeInstanceOf(SseLimitError);
    expect((again as SseLimitError).part).toBe("line");
  });
});
