import { describe, expect, it } from "vitest";
import { validateConfigFile } from "./config-file.js";
import { CliError } from "./exit-codes.js";

const problemOf = (value: Record<string, unknown>): string => {
  try {
    validateConfigFile("/etc/rc.json", value);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    return (error as Error).message;
  }
  return "";
};

describe("validateConfigFile", () => {
  it("accepts every JSON-settable ClientConfig field and the CLI's state", () => {
    expect(
      problemOf({
        defaultProvider: "anthropic",
        defaultModel: "claude-sonnet-4-5-20250929",
        providers: {
          groq: { type: "openai", baseURL: "https://api.groq.com/openai/v1", headers: { a: "b" } },
        },
        retryEnabled: true,
        retry: { maxRetries: 3, baseDelayMs: 500, jitterMode: "full" },
        circuitBreaker: { failureThreshold: 3, failureRate: { threshold: 0.5 } },
        fallbackModels: [["openai", "gpt-4o"], { provider: "anthropic", model: "claude-x" }],
        retryBudget: false,
        timeoutMs: 1000,
        midStreamFailure: "restart",
        catalogue: [],
        state: "memory",
      }),
    ).toBe("");
  });

  it.each([
    [{ retyr: {} }, 'unknown key "retyr" (did you mean "retry"?)'],
    [
      { retry: { maxRetires: 1 } },
      'unknown key "retry.maxRetires" (did you mean "retry.maxRetries"?)',
    ],
    [
      { providers: { groq: { baseUrl: "x" } } },
      'unknown key "providers.groq.baseUrl" (did you mean "providers.groq.baseURL"?)',
    ],
    [{ defaultModel: 5 }, '"defaultModel" must be a string, got a number'],
    [{ retryEnabled: "yes" }, '"retryEnabled" must be a boolean, got a string'],
    [{ retryBudget: true }, '"retryBudget" must be an object or false, got a boolean'],
    [
      { midStreamFailure: "retry" },
      '"midStreamFailure" must be one of "error", "restart", "continue"',
    ],
    [
      { fallbackModels: ["gpt-4o"] },
      '"fallbackModels" must be an array of ["provider", "model"] pairs',
    ],
    [{ providers: { openai: "key" } }, '"providers.openai" must be an object, got a string'],
    [{ stateStore: {} }, '"stateStore" cannot be set in a config file'],
    [{ zzzzzzzz: 1 }, 'unknown key "zzzzzzzz"'],
  ])("%j → %s", (value, problem) => {
    const message = problemOf(value);
    expect(message).toContain("config file /etc/rc.json: ");
    expect(message).toContain(problem);
  });

  it("lists every problem at once", () => {
    const message = problemOf({ retyr: 1, defaultModel: 5 });
    expect(message.split("\n  - ")).toHaveLength(3);
  });
});
