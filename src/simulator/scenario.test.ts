import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseModelName } from "./faults.js";
import { deterministicRandom } from "./random.js";
import {
  BUILT_IN_SCENARIO_NAMES,
  BUILT_IN_SCENARIOS,
  compileScenario,
  type FaultContext,
  loadScenario,
  selectFault,
} from "./scenario.js";

const context = (over: Partial<FaultContext> = {}): FaultContext => ({
  modelKey: "gpt-4o",
  model: "gpt-4o",
  directives: [],
  requestIndex: 0,
  sinceModelFirstMs: 0,
  scenarioMs: 0,
  seed: 1,
  ...over,
});

describe("selectFault", () => {
  const scenario = compileScenario({
    models: {
      "gpt-4o": [
        { fault: "429", fromRequest: 0, untilRequest: 2 },
        { fault: "503", fromMs: 1000, untilMs: 3000 },
      ],
      "*": [{ fault: "500", untilMs: 500 }],
    },
  });

  it("walks a model's phases in order, then '*', then healthy", () => {
    expect(selectFault(context({ requestIndex: 1 }), scenario)).toMatchObject({
      name: "429-retry-after-1s",
      source: "scenario",
    });
    expect(selectFault(context({ requestIndex: 2, scenarioMs: 100 }), scenario).name).toBe("500");
    expect(selectFault(context({ requestIndex: 2, scenarioMs: 999 }), scenario)).toMatchObject({
      name: "ok",
      source: undefined,
    });
    expect(selectFault(context({ requestIndex: 5, scenarioMs: 1000 }), scenario).name).toBe("503");
    expect(selectFault(context({ requestIndex: 5, scenarioMs: 3000 }), scenario).name).toBe("ok");
    expect(
      selectFault(context({ model: "other", modelKey: "other", scenarioMs: 499 }), scenario).name,
    ).toBe("500");
  });

  it("lets the model name's directives win over the scenario", () => {
    const { directives } = parseModelName("gpt-4o~404-first-1");
    expect(selectFault(context({ directives }), scenario)).toMatchObject({
      name: "404",
      source: "model-name",
    });
    expect(selectFault(context({ directives, requestIndex: 1 }), scenario)).toMatchObject({
      source: "scenario",
    });
  });

  it("draws chaos from the seed, the model and the request number alone", () => {
    const chaos = compileScenario({ chaos: { rates: { "500": 0.3, reset: 0.2 } } });
    const pick = (seed: number, i: number) =>
      selectFault(context({ seed, requestIndex: i }), chaos).name;
    const a = Array.from({ length: 200 }, (_, i) => pick(3, i));
    expect(Array.from({ length: 200 }, (_, i) => pick(3, i))).toEqual(a);
    expect(Array.from({ length: 200 }, (_, i) => pick(4, i))).not.toEqual(a);
    const share = (name: string) => a.filter((n) => n === name).length / a.length;
    expect(share("500")).toBeGreaterThan(0.2);
    expect(share("500")).toBeLessThan(0.4);
    expect(share("reset")).toBeGreaterThan(0.1);
    expect(share("ok")).toBeGreaterThan(0.4);
  });

  it("restricts chaos to the listed models", () => {
    const chaos = compileScenario({ chaos: { rates: { "500": 1 }, models: ["gpt-4o"] } });
    expect(selectFault(context(), chaos).name).toBe("500");
    expect(selectFault(context({ model: "claude", modelKey: "claude" }), chaos).name).toBe("ok");
  });

  it("spreads deterministic random numbers over [0, 1)", () => {
    const values = Array.from({ length: 10_000 }, (_, i) => deterministicRandom(9, "m", i));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});

describe("compileScenario", () => {
  it("compiles every built-in scenario", () => {
    expect(BUILT_IN_SCENARIO_NAMES).toEqual(["healthy", "flaky", "outage", "chaos", "demo"]);
    for (const s of Object.values(BUILT_IN_SCENARIOS))
      expect(() => compileScenario(s)).not.toThrow();
  });

  it.each([
    [[], "(root): expected a JSON object"],
    [{ models: { m: [{ fault: "nope" }] } }, 'models["m"][0].fault'],
    [
      { models: { m: [{ fault: "500", untilMs: -1 }] } },
      'models["m"][0].untilMs: expected a non-negative number, got -1',
    ],
    [{ models: { m: [{ fault: "500", fromRequest: 1.5 }] } }, "expected a non-negative integer"],
    [{ models: { m: [{ fault: "500", rate: 2 }] } }, "within 0..1"],
    [{ models: { m: {} } }, "expected an array of phases"],
    [{ chaos: { rates: { "500": 0.7, "503": 0.7 } } }, "sum to 1.4"],
    [{ clock: "later" }, 'expected "start" or "first-request"'],
  ])("rejects %j naming the field", (input, message) => {
    expect(() => compileScenario(input)).toThrow(message);
  });
});

describe("loadScenario", () => {
  it("returns a built-in by name and reads a JSON file by path", async () => {
    expect(await loadScenario("demo")).toBe(BUILT_IN_SCENARIOS.demo);
    const dir = await mkdtemp(join(tmpdir(), "sim-scenario-"));
    const file = join(dir, "s.json");
    await writeFile(file, JSON.stringify({ name: "mine", models: { "*": [{ fault: "503" }] } }));
    expect(await loadScenario(file)).toMatchObject({ name: "mine" });
    await writeFile(file, "{");
    await expect(loadScenario(file)).rejects.toThrow(/not valid JSON/);
    await expect(loadScenario("no-such-scenario")).rejects.toThrow(
      /neither a built-in scenario \(healthy, flaky/,
    );
  });
});
