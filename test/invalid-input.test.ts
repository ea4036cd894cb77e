/**
 * Property: for any malformed call input, `complete()` rejects with `InvalidRequestError`, the
 * simulator sees zero requests, and every breaker stays closed.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidRequestError } from "../src/errors/index.js";
import type { Simulator } from "../src/simulator/index.js";
import { clientFor, simulator } from "./helpers/client.js";

let sim: Simulator;
beforeAll(async () => {
  sim = await simulator();
});
afterAll(() => sim.close());

const valid = fc.constantFrom<unknown>(
  { role: "system", content: "Be brief." },
  { role: "user", content: "hi" },
  {
    role: "user",
    content: [
      { type: "text", text: "look" },
      { type: "image", url: "https://x/y.png" },
    ],
  },
  { role: "assistant", content: "ok" },
  { role: "developer", content: "Be kind." },
);

/** Anything that is not a string. */
const notString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
  fc.bigInt(),
);

/** One message no provider could accept. */
const badMessage: fc.Arbitrary<unknown> = fc.oneof(
  fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.constant([])),
  fc.record({
    role: fc
      .string()
      .filter((r) => !["system", "developer", "user", "assistant", "tool"].includes(r)),
    content: fc.string(),
  }),
  fc.record({ role: fc.constantFrom("system", "user", "developer"), content: notString }),
  fc.record({ role: fc.constant("tool"), content: fc.string() }),
  fc.record({ role: fc.constant("tool"), tool_call_id: notString, content: fc.string() }),
  fc.record({ role: fc.constant("tool"), toolCallId: fc.constant(""), content: fc.string() }),
  fc.record({ role: fc.constant("assistant"), content: notString.filter((c) => c != null) }),
  fc.record({
    role: fc.constant("assistant"),
    content: fc.constant(null),
    tool_calls: fc.oneof(fc.string(), fc.constant([{ id: "c1" }]), fc.constant([null])),
  }),
  fc.record({
    role: fc.constant("user"),
    content: fc.array(
      fc.oneof(
        fc.constant(null),
        fc.record({ type: fc.constantFrom("audio", "video", "file") }),
        fc.record({ type: fc.constant("text"), text: notString }),
        fc.record({ type: fc.constant("image") }),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  }),
);

/** A malformed list of messages: not a list, empty, or valid messages with one bad one inserted. */
const badMessages: fc.Arbitrary<unknown> = fc.oneof(
  fc.oneof(fc.string(), fc.constant(null), fc.constant(undefined), fc.integer(), fc.constant([])),
  fc
    .tuple(fc.array(valid, { maxLength: 3 }), badMessage, fc.array(valid, { maxLength: 3 }))
    .map(([before, bad, after]) => [...before, bad, ...after]),
);

function circular() {
  const schema: Record<string, unknown> = { type: "object" };
  schema.properties = { self: { items: schema } };
  return schema;
}

/** Malformed call options (with valid messages). */
const badOptions: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ model: fc.oneof(fc.constant(""), fc.integer(), fc.constant(null)) }),
  fc.record({
    maxTokens: fc.oneof(fc.constant(0), fc.constant(-1), fc.constant(1.5), fc.string()),
  }),
  fc.record({ temperature: fc.oneof(fc.constant(-0.1), fc.constant(Number.NaN), fc.string()) }),
  fc.record({ stop: fc.oneof(fc.string(), fc.constant([1])) }),
  fc.record({ tools: fc.constant([{ name: "t", parameters: circular() }]) }),
  fc.record({ tools: fc.constant([{ name: "", parameters: {} }]) }),
  fc.record({ tools: fc.constant([{ name: "t", parameters: "{}" }]) }),
  fc.record({ toolChoice: fc.oneof(fc.constant("always"), fc.constant({})) }),
  fc.record({ providerOptions: fc.bigInt().map((n) => ({ openai: { seed: n } })) }),
  fc.record({ responseFormat: fc.constant({ type: "xml" }) }),
);

describe("malformed call input never reaches the network", () => {
  it("any malformed input: InvalidRequestError, zero requests, every breaker closed", async () => {
    const client = clientFor(sim, {
      fallbackModels: [["anthropic", "claude-sonnet-4-20250514"]],
      circuitBreaker: { failureThreshold: 1 },
    });
    sim.reset();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          badMessages.map((messages) => ({ messages, options: {} })),
          badOptions.map((options) => ({ messages: [{ role: "user", content: "hi" }], options })),
        ),
        async ({ messages, options }) => {
          const error = await client.complete(messages as never, options).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(InvalidRequestError.isInstance(error), String(error)).toBe(true);
          expect(typeof (error as InvalidRequestError).path).toBe("string");
        },
      ),
      { numRuns: 300 },
    );
    expect(sim.requests()).toHaveLength(0);
    expect(await client.circuits()).toEqual([]);
  });
});
