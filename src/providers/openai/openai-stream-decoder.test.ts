import { describe, expect, it } from "vitest";
import type { ProviderStreamEvent } from "../../types.js";
import { WireShapeError } from "../shared/wire-shape.js";
import { OpenAIStreamDecoder } from "./openai-stream-decoder.js";

function decoder(): OpenAIStreamDecoder {
  return new OpenAIStreamDecoder(
    { provider: "openai", model: "m", requestId: undefined, rateLimit: undefined },
    { provider: "openai", model: "m" } as never,
  );
}

function feed(chunk: unknown, d = decoder()): ProviderStreamEvent[] {
  const out: ProviderStreamEvent[] = [];
  d.onEvent({ event: undefined, data: JSON.stringify(chunk), id: undefined }, out);
  return out;
}

describe("OpenAIStreamDecoder shape checks", () => {
  const wrong: Array<[unknown, string]> = [
    [{ choices: "x" }, "choices is a string, expected an array"],
    [{ choices: [null] }, "choices[0] is null, expected an object"],
    [{ choices: [{ index: 1 }, []] }, "choices[1] is an array, expected an object"],
    [{ choices: [{ delta: 5 }] }, "choices[0].delta is a number, expected an object"],
    [{ choices: [{ delta: [] }] }, "choices[0].delta is an array, expected an object"],
    [
      { choices: [{ delta: { content: 5 } }] },
      "choices[0].delta.content is a number, expected a string",
    ],
    [
      { choices: [{ delta: { content: "a", tool_calls: {} } }] },
      "choices[0].delta.tool_calls is a object, expected an array",
    ],
    [
      { choices: [{ delta: { content: "a" }, finish_reason: 3 }] },
      "choices[0].finish_reason is a number, expected a string",
    ],
    [
      { choices: [{ delta: {} }, { delta: { content: false } }] },
      "choices[1].delta.content is a boolean, expected a string",
    ],
  ];
  for (const [chunk, message] of wrong) {
    it(`names the field: ${message}`, () => {
      let error: unknown;
      try {
        feed(chunk);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(WireShapeError);
      expect((error as Error).message).toBe(message);
    });
  }

  it("absent and null fields are fine; only choice 0's text counts", () => {
    const d = decoder();
    expect(feed({ choices: [{ delta: null, finish_reason: null }] }, d)).toEqual([]);
    expect(
      feed({ choices: [{ delta: { content: null, tool_calls: null, refusal: null } }] }, d),
    ).toEqual([]);
    expect(feed({ choices: [{ index: 1, delta: { content: "no" } }] }, d)).toEqual([]);
    expect(feed({ choices: [{ delta: { content: "" } }] }, d)).toEqual([]);
    expect(feed({ choices: [{ delta: { content: "hi" }, finish_reason: "" }] }, d)).toEqual([
      { type: "text-delta", text: "hi" },
    ]);
    expect(d.finishReasonSeen).toBe(false);
    feed({ choices: [{ delta: {}, finish_reason: "stop" }] }, d);
    expect(d.finishReasonSeen).toBe(true);
    expect(d.text).toBe("hi");
  });
});
