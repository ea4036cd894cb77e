/**
 * retry-client: LLM API calls that survive rate limits, overloads, outages and broken streams.
 *
 * This entry is runtime-neutral (no `node:*` import): requests go through `fetch`. On Node the
 * package's `node` export condition loads `index.node.ts` instead, which adds the faster
 * keep-alive `node:http` transport and the file state store.
 *
 * @packageDocumentation
 */
export {
  BUILT_IN_MODELS,
  DEFAULT_MODELS,
  type ModelCapabilities,
  ModelCatalogue,
  providerOf,
} from "./client/catalogue.js";
export { ChatStream } from "./client/chat-stream.js";
export {
  createAnthropicChain,
  createMixedChain,
  createOpenAIChain,
  FallbackChain,
  type FallbackChainConfig,
  type FallbackResult,
} from "./client/fallback-chain.js";
export type {
  AttemptEndEvent,
  AttemptStartEvent,
  BreakerTransitionEvent,
  CallContext,
  CallEndEvent,
  CallOutcome,
  CallStartEvent,
  Endpoint,
  FallbackEvent,
  FirstChunkEvent,
  Instrumentation,
  RetryEvent,
  StreamRestartEvent,
  TargetSkippedEvent,
  WarningEvent,
} from "./client/instrumentation.js";
export { type CircuitStatus, type CooldownStatus, RetryClient } from "./client/retry-client.js";
export type {
  CallOptions,
  ChatResponse,
  ClientConfig,
  DeploymentGroup,
  MidStreamFailure,
  ModelRef,
  ModelSpec,
  ProviderSettings,
  RetryConfig,
  StreamEvent,
} from "./client/types.js";
export type {
  MessageInput,
  OpenAIStyleMessage,
  OpenAIStyleTextPart,
  OpenAIStyleToolCall,
} from "./client/validate-call.js";
export * from "./errors/index.js";
export { getDefaultTransport, setDefaultTransport } from "./http/default-transport.js";
export { createFetchTransport } from "./http/fetch-transport.js";
export { parseRateLimitHeaders } from "./http/rate-limit.js";
export {
  BodyTooLargeError,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from "./http/transport.js";
export { Message } from "./message.js";
export {
  AnthropicProvider,
  type AnthropicProviderOptions,
} from "./providers/anthropic/anthropic-provider.js";
export {
  AZURE_DEFAULT_API_VERSION,
  AzureOpenAIProvider,
  type AzureOpenAIProviderOptions,
} from "./providers/azure/azure-openai-provider.js";
export {
  isReasoningModel,
  OpenAIProvider,
  type OpenAIProviderOptions,
} from "./providers/openai/openai-provider.js";
export {
  type BackoffOptions,
  type BreakerPermit,
  type BreakerSnapshot,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  circuitBreaker,
  computeBackoff,
  type FailureRateOptions,
  getCircuitBreaker,
  type JitterMode,
  RetryBudget,
  type RetryBudgetOptions,
  type RetryContext,
  type RetryOptions,
  retry,
  type StateChangeListener,
  sleep,
  withRetry,
} from "./resilience/index.js";
export {
  estimateRequestTokens,
  type GroupStrategy,
  type HedgeOptions,
} from "./routing/index.js";
export { MemoryStateStore, type MemoryStateStoreOptions } from "./state/memory-state-store.js";
export type { StateStore } from "./state/state-store.js";
export type * from "./types.js";
