import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../errors/index.js";
import { formatGoDuration, parseDuration } from "./duration.js";
import { type Fault, faultName, parseDirective, parseFault, parseModelName } from "./faults.js";

describe("durations", () => {
  it.each([
    ["500ms", 500],
    ["2s", 2000],
    ["1.5s", 1500],
    ["1m", 60_000],
    ["1h", 3_600_000],
  ])("parses %s", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "2", "s", "2 s", "-1s", "1d"])("rejects %j", (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  it.each([
    [0, "0s"],
    [20, "20ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [360_000, "6m0s"],
    [90_500, "1m30.5s"],
    [3_723_000, "1h2m3s"],
  ])("formats %d ms like Go: %s", (ms, text) => expect(formatGoDuration(ms)).toBe(text));
});

const faultArbitrary: fc.Arbitrary<Fault> = fc.oneof(
  fc.constantFrom<Fault>(
    { kind: "ok" },
    { kind: "quota" },
    { kind: "too-large" },
    { kind: "overloaded" },
    { kind: "reset" },
    { kind: "hang" },
    { kind: "no-terminator" },
    { kind: "context-length" },
    { kind: "content-filter" },
    { kind: "rejects-prefill" },
    { kind: "no-finish-reason" },
    { kind: "repeat-tool-ids" },
    { kind: "rate-limit", style: "none", waitMs: 0 },
  ),
  fc.record({
    kind: fc.constant("silent-close" as const),
    afterMs: fc.integer({ min: 0, max: 100_000 }),
  }),
  fc.record({
    kind: fc.constant("rate-limit" as const),
    style: fc.constantFrom(
      "seconds" as const,
      "date" as const,
      "ms" as const,
      "reset" as const,
      "tokens" as const,
    ),
    waitMs: fc.integer({ min: 0, max: 600_000 }),
  }),
  // "429" names the rate-limit fault (with Retry-After), so a plain status fault is never 429.
  fc.record({
    kind: fc.constant("status" as const),
    status: fc.integer({ min: 400, max: 599 }).filter((status) => status !== 429),
  }),
  fc.record({ kind: fc.constant("slow" as const), delayMs: fc.integer({ min: 0, max: 100_000 }) }),
  ...(["sse-error", "cut", "stall", "malformed"] as const).map((kind) =>
    fc.record({ kind: fc.constant(kind), afterTokens: fc.nat(1000) }),
  ),
);

describe("fault grammar", () => {
  it("reads back every fault from its canonical name", () => {
    fc.assert(
      fc.property(faultArbitrary, (fault) => {
        expect(parseFault(faultName(fault))).toEqual(fault);
      }),
    );
  });

  it.each<[string, Fault]>([
    ["429", { kind: "rate-limit", style: "seconds", waitMs: 1000 }],
    ["429-retry-after-2s", { kind: "rate-limit", style: "seconds", waitMs: 2000 }],
    ["429-retry-after-date-3s", { kind: "rate-limit", style: "date", waitMs: 3000 }],
    ["429-retry-after-ms-250ms", { kind: "rate-limit", style: "ms", waitMs: 250 }],
    ["429-reset-6m", { kind: "rate-limit", style: "reset", waitMs: 360_000 }],
    ["529", { kind: "status", status: 529 }],
    ["no-response", { kind: "hang" }],
    ["malformed", { kind: "malformed", afterTokens: 2 }],
    ["sse-error", { kind: "sse-error", afterTokens: 0 }],
    ["CUT-AFTER-3", { kind: "cut", afterTokens: 3 }],
  ])("parses %s", (text, fault) => expect(parseFault(text)).toEqual(fault));

  it.each(["boom", "429-retry-after-2", "cut-after-x", "200", "600", "slow-", "stall-after--1"])(
    "rejects %j with a ConfigurationError that lists the known faults",
    (text) => {
      expect(() => parseFault(text)).toThrow(ConfigurationError);
      expect(() => parseFault(text)).toThrow(/known faults: ok, 429/);
    },
  );

  it("reads window modifiers in any order, and down-<d> as 503 for <d>", () => {
    expect(parseDirective("500-first-3")).toEqual({
      fault: { kind: "status", status: 500 },
      name: "500",
      firstRequests: 3,
    });
    expect(parseDirective("429-retry-after-1s-for-10s-rate-0.5")).toEqual({
      fault: { kind: "rate-limit", style: "seconds", waitMs: 1000 },
      name: "429-retry-after-1s",
      forMs: 10_000,
      rate: 0.5,
    });
    expect(parseDirective("reset-rate-0.25-first-4")).toMatchObject({
      firstRequests: 4,
      rate: 0.25,
    });
    expect(parseDirective("down-5s")).toEqual({
      fault: { kind: "status", status: 503 },
      name: "503",
      forMs: 5000,
    });
    expect(() => parseDirective("500-rate-2")).toThrow(/within 0\.\.1/);
  });

  it("splits a model name at ~ and keeps the rest as the model", () => {
    expect(parseModelName("gpt-4o")).toEqual({ model: "gpt-4o", directives: [] });
    expect(parseModelName("ft:gpt-4o:org::abc")).toEqual({
      model: "ft:gpt-4o:org::abc",
      directives: [],
    });
    const parsed = parseModelName("claude-sonnet-4-20250514~429-first-2~cut-after-3");
    expect(parsed.model).toBe("claude-sonnet-4-20250514");
    expect(parsed.directives.map((d) => d.name)).toEqual(["429-retry-after-1s", "cut-after-3"]);
    expect(parseModelName("~500").model).toBe("");
  });
});
