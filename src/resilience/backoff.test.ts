import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeBackoff, resolveBackoff } from "./backoff.js";

describe("backoff", () => {
  it("grows exponentially and caps at maxDelayMs (no jitter)", () => {
    const o = resolveBackoff({ baseDelayMs: 100, maxDelayMs: 1000, jitter: 0 });
    expect([0, 1, 2, 3, 4, 5].map((n) => computeBackoff(n, o))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it("proportional jitter shrinks the delay by up to `jitter` of itself", () => {
    const low = resolveBackoff({ baseDelayMs: 1000, jitter: 0.5, random: () => 0.999999 });
    const high = resolveBackoff({ baseDelayMs: 1000, jitter: 0.5, random: () => 0 });
    expect(computeBackoff(0, low)).toBeCloseTo(500, 0);
    expect(computeBackoff(0, high)).toBe(1000);
  });

  it("stays within bounds for every mode, attempt and random draw", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 120_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom("proportional", "full", "decorrelated" as const),
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (base, extra, factor, jitter, jitterMode, attempt, r) => {
          const o = resolveBackoff({
            baseDelayMs: base,
            maxDelayMs: base + extra,
            exponentialBase: factor,
            jitter,
            jitterMode,
            random: () => r,
          });
          const delay = computeBackoff(attempt, o, base * 2);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(base + extra);
          if (jitterMode === "proportional") {
            const nominal = Math.min(base + extra, base * factor ** attempt);
            expect(delay).toBeGreaterThanOrEqual(nominal * (1 - jitter) - 1e-6);
          }
        },
      ),
    );
  });

  it.each([
    [{ baseDelayMs: -1 }, "expected a non-negative number for baseDelayMs, got -1"],
    [{ maxDelayMs: Number.NaN }, "expected a non-negative number for maxDelayMs, got NaN"],
    [{ jitter: 1.5 }, "expected a number from 0 to 1 for jitter, got 1.5"],
    [{ jitter: -0.1 }, "expected a number from 0 to 1 for jitter, got -0.1"],
    [{ exponentialBase: 0.5 }, "expected a number ≥ 1 for exponentialBase, got 0.5"],
    [{ baseDelayMs: 100, maxDelayMs: 10 }, "expected maxDelayMs ≥ baseDelayMs (100), got 10"],
    [
      { jitterMode: "none" as "full" },
      "expected one of proportional, full, decorrelated for jitterMode, got none",
    ],
  ])("rejects bad options %j", (options, message) => {
    expect(() => resolveBackoff(options)).toThrow(new RangeError(message));
  });
});
