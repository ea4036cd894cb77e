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
