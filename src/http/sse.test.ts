import { describe, expect, it } from "vitest";
import { createSseDecoder, type SseEvent } from "./sse.js";

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
});
