/**
 * The provider simulator: a local OpenAI + Anthropic server that fails on purpose.
 * Node only. See docs/simulator.md.
 *
 * @packageDocumentation
 */
export { DEFAULT_TEXT } from "./answer.js";
export { formatGoDuration, parseDuration } from "./duration.js";
export {
  FAULT_SEPARATOR,
  type Fault,
  type FaultDirective,
  faultName,
  type ParsedModelName,
  parseDirective,
  parseFault,
  parseModelName,
  type RetryAfterStyle,
} from "./faults.js";
export type { LatencyByModel, LatencyDistribution } from "./latency.js";
export type { SimulatedRateLimit } from "./rate-limiter.js";
export {
  BUILT_IN_SCENARIO_NAMES,
  BUILT_IN_SCENARIOS,
  compileScenario,
  type FaultSource,
  loadScenario,
  type Scenario,
  type ScenarioChaos,
  type ScenarioPhase,
} from "./scenario.js";
export {
  type RequestOutcome,
  type Simulator,
  type SimulatorOptions,
  type SimulatorRequest,
  startSimulator,
} from "./server.js";
export type { WireName } from "./wire.js";
