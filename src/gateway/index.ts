/**
 * The gateway: `retry-client serve` as a library. An HTTP server that speaks the OpenAI Chat
 * Completions and Anthropic Messages wires in front of a `RetryClient`. Node only.
 *
 * @packageDocumentation
 */
export { isLoopback, KeyChecker } from "./auth.js";
export { describeFailure, type FailureKind, type GatewayFailure } from "./failure.js";
export {
  createGateway,
  Gateway,
  type GatewayAddress,
  type GatewayOptions,
  type GatewaySettings,
} from "./gateway.js";
export { GatewayMetrics } from "./metrics.js";
