import { describe, expect, it } from "vitest";
import { ChatStream } from "./chat-stream.js";
import type { ChatResponse, StreamEvent } from "./types.js";

const response = { content: "ab" } as ChatResponse;

function scripted(events: StreamEvent[], end: "resolve" | Error = "resolve") {
  return new ChatStream(async (emit, signal) => {
    for (const event of events) {
      await Promise.resolve();
      signal.throwIfAborted();
      emit(event);
    }
    if (end !== "resolve") throw end;
    return response;
  });
}

const delta = (text: string): StreamEvent => ({ type: "text-delta", text });

describe("ChatStream", () => {
  it("yields text deltas and resolves .response", async () => {
    const stream = scripted([
      { type: "attempt-start", provider: "p", model: "m", attempt: 0 },
      delta("a"),
      delta("b"),
    ]);
    const texts: string[] = [];
    for await (const text of stream) texts.push(text);
    expect(texts).toEqual(["a", "b"]);
    expect(await stream.response).toBe(response);
  });

  it("events() yields every event, buffered ones included", async () => {
    const stream = scripted([
      delta("a"),
      { type: "usage", usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } },
    ]);
    await stream.response; // everything is buffered before anyone reads
    const types: string[] = [];
    for await (const event of stream.events()) types.push(event.type);
    expect(types).toEqual(["text-delta", "usage"]);
  });

  it("text that arrived while the reader was busy comes as one string", async () => {
    const stream = scripted([
      delta("a"),
      { type: "usage", usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 } },
      delta("b"),
      delta("c"),
    ]);
    await stream.response;
    const texts: string[] = [];
    for await (const text of stream) texts.push(text);
    expect(texts).toEqual(["abc"]);
  });

  it("throws the failure after the buffered events", async () => {
    const failure = new Error("boom");
    const stream = scripted([delta("a")], failure);
    const texts: string[] = [];
    await expect(
      (async () => {
        for await (const text of stream) texts.push(text);
      })(),
    ).rejects.toBe(failure);
    expect(texts).toEqual(["a"]);
  });

  it("leaving the loop early aborts the producer and rejects .response with an AbortError", async () => {
    let aborted = false;
    const stream = new ChatStream(
      (emit, signal) =>
        new Promise((_, reject) => {
          emit(delta("a"));
          signal.addEventListener("abort", () => {
            aborted = true;
            reject(signal.reason);
          });
        }),
    );
    for await (const _ of stream) break;
    expect(aborted).toBe(true);
    expect((await stream.response.catch((e) => e)).name).toBe("AbortError");
  });

  it("can be consumed once", async () => {
    const stream = scripted([delta("a")]);
    stream[Symbol.asyncIterator]();
    expect(() => stream.events()).toThrow("iterated once");
  });

  it("abort(reason) rejects .response with that reason", async () => {
    const stream = new ChatStream(
      (_emit, signal) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    );
    stream.abort("enough");
    expect(await stream.response.catch((e) => e)).toBe("enough");
  });
});
