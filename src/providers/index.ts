/** The OpenAI and Anthropic providers. Runtime-neutral (no `node:*`). */
export {
  ANTHROPIC_DEFAULT_BASE_URL,
  ANTHROPIC_VERSION,
  AnthropicProvider,
  type AnthropicProviderOptions,
} from "./anthropic/anthropic-provider.js";
export { defaultAnthropicMaxTokens } from "./anthropic/default-max-tokens.js";
export {
  OPENAI_DEFAULT_BASE_URL,
  OpenAIProvider,
  type OpenAIProviderOptions,
} from "./openai/openai-provider.js";
export type { ProviderOptions } from "./shared/provider-options.js";
