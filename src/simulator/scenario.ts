import { readFile } from "node:fs/promises";
import { ConfigurationError } from "../errors/index.js";
import { type Fault, type FaultDirective, faultName, parseFault } from "./faults.js";
import { deterministicRandom } from "./random.js";

/**
 * One phase of a model's timeline. It applies to a request when every bound it sets holds
 * (time bounds are half-open `[fromMs, untilMs)` on the scenario clock; request bounds are
 * half-open `[fromRequest, untilRequest)` on the number of earlier requests for the model),
 * and then with probability `rate` (default 1).
 */
export interface ScenarioPhase {
  /** A fault name (`"503"`, `"429-retry-after-2s"`, `"ok"` …), see docs/simulator.md. */
  readonly fault: string;
  readonly fromMs?: number;
  readonly untilMs?: number;
  readonly fromRequest?: number;
  readonly untilRequest?: number;
  /** Probability 0..1 that the phase applies to a request within its bounds. @default 1 */
  readonly rate?: number;
}

/** Random faults injected where no phase applies. */
export interface ScenarioChaos {
  /** Fault name → probability 0..1 per request. The probabilities must sum to at most 1. */
  readonly rates: Readonly<Record<string, number>>;
  /** Models chaos applies to (`"*"` for all). @default ["*"] */
  readonly models?: readonly string[];
}

/**
 * A scenario script: per-model timelines, global chaos and a seed. JSON-serialisable.
 *
 * @example
 * { "name": "blip", "models": { "gpt-4o": [{ "fault": "503", "untilMs": 5000 }] } }
 */
export interface Scenario {
  readonly name?: string;
  readonly description?: string;
  /** Seed of the chaos / `rate` draws; the simulator's `seed` option overrides it. @default 1 */
  readonly seed?: number;
  /** Answer text for every model. */
  readonly text?: string;
  /**
   * Where the scenario clock starts: at the simulator's start (or last reset), or at the first
   * request after it. @default "start"
   */
  readonly clock?: "start" | "first-request";
  /** Model name (without fault directives) or `"*"` → its timeline, phases in order. */
  readonly models?: Readonly<Record<string, readonly ScenarioPhase[]>>;
  readonly chaos?: ScenarioChaos;
}

/** A scenario checked and with its faults parsed. */
export interface CompiledScenario {
  readonly source: Scenario;
  readonly name: string;
  readonly seed: number;
  readonly clock: "start" | "first-request";
  readonly text: string | undefined;
  readonly models: ReadonlyMap<string, readonly CompiledPhase[]>;
  readonly chaos: readonly {
    readonly fault: Fault;
    readonly name: string;
    readonly rate: number;
  }[];
  readonly chaosModels: readonly string[];
}

interface CompiledPhase {
  readonly fault: Fault;
  readonly name: string;
  readonly fromMs: number;
  readonly untilMs: number;
  readonly fromRequest: number;
  readonly untilRequest: number;
  readonly rate: number;
}

function invalid(where: string, why: string): ConfigurationError {
  return new ConfigurationError(`simulator scenario: ${where}: ${why}`, { option: "scenario" });
}

function optionalNumber(value: unknown, where: string, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" ||
    Number.isNaN(value) ||
    value < 0 ||
    (integer && !Number.isInteger(value))
  )
    throw invalid(
      where,
      `expected a non-negative ${integer ? "integer" : "number"}, got ${JSON.stringify(value)}`,
    );
  return value;
}

function rateOf(value: unknown, where: string): number {
  const rate = optionalNumber(value, where, 1);
  if (rate > 1) throw invalid(where, `expected a probability within 0..1, got ${rate}`);
  return rate;
}

function faultOf(value: unknown, where: string): Fault {
  if (typeof value !== "string")
    throw invalid(where, `expected a fault name, got ${JSON.stringify(value)}`);
  try {
    return parseFault(value);
  } catch (error) {
    throw invalid(where, (error as Error).message);
  }
}

/**
 * Checks a scenario (e.g. parsed from a JSON file) and compiles it.
 *
 * @throws ConfigurationError naming the bad field and value.
 */
export function compileScenario(input: unknown): CompiledScenario {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw invalid("(root)", "expected a JSON object");
  const s = input as Scenario;
  const models = new Map<string, CompiledPhase[]>();
  if (s.models !== undefined) {
    if (typeof s.models !== "object" || s.models === null)
      throw invalid("models", "expected an object");
    for (const [model, phases] of Object.entries(s.models)) {
      if (!Array.isArray(phases))
        throw invalid(`models["${model}"]`, "expected an array of phases");
      models.set(
        model,
        phases.map((p: ScenarioPhase, i) => {
          const where = `models["${model}"][${i}]`;
          if (typeof p !== "object" || p === null) throw invalid(where, "expected an object");
          const fault = faultOf(p.fault, `${where}.fault`);
          return {
            fault,
            name: faultName(fault),
            fromMs: optionalNumber(p.fromMs, `${where}.fromMs`, 0),
            untilMs: optionalNumber(p.untilMs, `${where}.untilMs`, Number.POSITIVE_INFINITY),
            fromRequest: optionalNumber(p.fromRequest, `${where}.fromRequest`, 0, true),
            untilRequest: optionalNumber(
              p.untilRequest,
              `${where}.untilRequest`,
              Number.POSITIVE_INFINITY,
              true,
            ),
            rate: rateOf(p.rate, `${where}.rate`),
          };
        }),
      );
    }
  }
  const chaos: { fault: Fault; name: string; rate: number }[] = [];
  let chaosModels: readonly string[] = ["*"];
  if (s.chaos !== undefined) {
    if (typeof s.chaos !== "object" || s.chaos === null || typeof s.chaos.rates !== "object")
      throw invalid("chaos", 'expected { "rates": { "<fault>": <probability> } }');
    let total = 0;
    for (const [name, rate] of Object.entries(s.chaos.rates)) {
      const fault = faultOf(name, `chaos.rates["${name}"]`);
      const r = rateOf(rate, `chaos.rates["${name}"]`);
      total += r;
      chaos.push({ fault, name: faultName(fault), rate: r });
    }
    if (total > 1 + 1e-9)
      throw invalid("chaos.rates", `the probabilities sum to ${total}, more than 1`);
    if (s.chaos.models !== undefined) {
      if (!Array.isArray(s.chaos.models) || !s.chaos.models.every((m) => typeof m === "string"))
        throw invalid("chaos.models", "expected an array of model names");
      chaosModels = s.chaos.models;
    }
  }
  if (s.clock !== undefined && s.clock !== "start" && s.clock !== "first-request")
    throw invalid("clock", `expected "start" or "first-request", got ${JSON.stringify(s.clock)}`);
  if (s.text !== undefined && typeof s.text !== "string")
    throw invalid("text", "expected a string");
  if (s.seed !== undefined && (typeof s.seed !== "number" || !Number.isFinite(s.seed)))
    throw invalid("seed", `expected a number, got ${JSON.stringify(s.seed)}`);
  return {
    source: s,
    name: typeof s.name === "string" ? s.name : "custom",
    seed: s.seed ?? 1,
    clock: s.clock ?? "start",
    text: s.text,
    models,
    chaos,
    chaosModels,
  };
}

/** Where the fault applied to a request came from. */
export type FaultSource = "model-name" | "scenario" | "chaos";

/** What decides a request's fault. */
export interface FaultContext {
  /** The model name as sent, directives included (request counters are kept per this name). */
  readonly modelKey: string;
  /** The model name without directives (what scenario timelines are keyed by). */
  readonly model: string;
  readonly directives: readonly FaultDirective[];
  /** How many earlier requests this model name had since start/reset. */
  readonly requestIndex: number;
  /** Milliseconds since this model name's first request. */
  readonly sinceModelFirstMs: number;
  /** Milliseconds on the scenario clock. */
  readonly scenarioMs: number;
  readonly seed: number;
  /** Whether the request ends with an assistant prefill (`rejects-prefill` applies only then). */
  readonly hasPrefill?: boolean;
}

/** The fault picked for a request. */
export interface FaultChoice {
  readonly fault: Fault;
  readonly name: string;
  readonly source: FaultSource | undefined;
}

const HEALTHY: FaultChoice = { fault: { kind: "ok" }, name: "ok", source: undefined };

/**
 * Picks the fault for one request. Precedence: the model name's directives (first that
 * applies), then the scenario's timeline for the model, then its `"*"` timeline (first phase
 * that applies), then chaos; else a healthy answer. A pure function of its arguments.
 */
export function selectFault(
  context: FaultContext,
  scenario: CompiledScenario | undefined,
): FaultChoice {
  const { modelKey, requestIndex, seed } = context;
  let salt = 0;
  const draw = () => deterministicRandom(seed, modelKey, requestIndex, salt++);
  for (const d of context.directives) {
    if (d.fault.kind === "rejects-prefill" && !context.hasPrefill) continue;
    if (d.firstRequests !== undefined && requestIndex >= d.firstRequests) continue;
    if (d.forMs !== undefined && context.sinceModelFirstMs >= d.forMs) continue;
    if (d.rate !== undefined && draw() >= d.rate) continue;
    return { fault: d.fault, name: d.name, source: "model-name" };
  }
  if (!scenario) return HEALTHY;
  for (const key of [context.model, "*"]) {
    for (const p of scenario.models.get(key) ?? []) {
      if (p.fault.kind === "rejects-prefill" && !context.hasPrefill) continue;
      if (context.scenarioMs < p.fromMs || context.scenarioMs >= p.untilMs) continue;
      if (requestIndex < p.fromRequest || requestIndex >= p.untilRequest) continue;
      if (p.rate < 1 && draw() >= p.rate) continue;
      return { fault: p.fault, name: p.name, source: "scenario" };
    }
  }
  if (
    scenario.chaos.length > 0 &&
    (scenario.chaosModels.includes("*") || scenario.chaosModels.includes(context.model))
  ) {
    const r = deterministicRandom(seed, modelKey, requestIndex, 1000);
    let cumulative = 0;
    for (const c of scenario.chaos) {
      cumulative += c.rate;
      if (r < cumulative) return { fault: c.fault, name: c.name, source: "chaos" };
    }
  }
  return HEALTHY;
}

/** The scenarios built into the simulator, by name. */
export const BUILT_IN_SCENARIOS: Readonly<Record<string, Scenario>> = {
  healthy: {
    name: "healthy",
    description: "Every model answers at once, every time.",
  },
  flaky: {
    name: "flaky",
    description:
      "Every model fails now and then: 15% 500, 5% 503, 10% 429 (Retry-After 1s), 3% reset.",
    chaos: { rates: { "500": 0.15, "503": 0.05, "429-retry-after-1s": 0.1, reset: 0.03 } },
  },
  outage: {
    name: "outage",
    description:
      "Every model answers 503 for the first 10 s after the first request, then recovers.",
    clock: "first-request",
    models: { "*": [{ fault: "503", untilMs: 10_000 }] },
  },
  chaos: {
    name: "chaos",
    description:
      "A bit of everything, at random (seeded): rate limits, 5xx, 529, resets, slow first tokens, cut, stalled and malformed streams.",
    chaos: {
      rates: {
        "429-retry-after-1s": 0.06,
        "429-bare": 0.03,
        "500": 0.05,
        "503": 0.04,
        overloaded: 0.04,
        reset: 0.03,
        "slow-1s": 0.04,
        "cut-after-3": 0.03,
        "stall-after-3": 0.02,
        "malformed-after-2": 0.03,
        "sse-error": 0.02,
        "no-terminator": 0.02,
      },
    },
  },
  demo: {
    name: "demo",
    description:
      "For `retry-client demo` (clock from the first request). gpt-4o: the first 2 requests get 429 with Retry-After 1s, then 503 until 12 s, then healthy. claude-sonnet-4-20250514 and every other model: healthy.",
    clock: "first-request",
    models: {
      "gpt-4o": [
        { fault: "429-retry-after-1s", untilRequest: 2 },
        { fault: "503", untilMs: 12_000 },
      ],
    },
  },
};

/** Names of the built-in scenarios. */
export const BUILT_IN_SCENARIO_NAMES: readonly string[] = Object.keys(BUILT_IN_SCENARIOS);

/**
 * Resolves a scenario argument: a built-in name, else a path to a JSON scenario file.
 *
 * @throws ConfigurationError when it is neither, or the file is not a valid scenario.
 */
export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  const builtIn = BUILT_IN_SCENARIOS[nameOrPath];
  if (builtIn && !nameOrPath.includes("/") && !nameOrPath.endsWith(".json")) return builtIn;
  let text: string;
  try {
    text = await readFile(nameOrPath, "utf8");
  } catch (error) {
    throw new ConfigurationError(
      `simulator: scenario "${nameOrPath}" is neither a built-in scenario (${BUILT_IN_SCENARIO_NAMES.join(", ")}) nor a readable file`,
      { option: "scenario", cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`simulator: scenario file ${nameOrPath} is not valid JSON`, {
      option: "scenario",
      cause: error,
    });
  }
  compileScenario(parsed);
  return parsed as Scenario;
}
