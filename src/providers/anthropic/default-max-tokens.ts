/**
 * The `max_tokens` sent when a request gives none (the Messages API requires one). Claude 3
 * Opus/Sonnet/Haiku accept at most 4096 output tokens; every later model accepts at least 8192.
 * A larger default would make long non-streaming calls likely to outlive proxies' timeouts, so
 * callers who want more ask for it.
 *
 * @example
 * defaultAnthropicMaxTokens("claude-3-haiku-20240307") // 4096
 */
export function defaultAnthropicMaxTokens(model: string): number {
  if (/^claude-3-(opus|sonnet|haiku)-/.test(model) || /^claude-(2|instant)/.test(model))
    return 4096;
  return 8192;
}
