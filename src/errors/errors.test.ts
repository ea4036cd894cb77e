import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  BadRequestError,
  ContextLengthExceededError,
  FallbackExhaustedError,
  formatMs,
  OverloadedError,
  ProviderError,
  QuotaExceededError,
  RateLimitError,
  RetryClientError,
  ServerError,
  StreamInterruptedError,
  TimeoutError,
} from "./errors.js";

describe("errors", () => {
  it("name the class and say what failed and where", () => {
    const error = new RateLimitError({
      provider: "openai",
      model: "gpt-4o",
      status: 429,
      code: "rate_limit_exceeded",
      retryAfterMs: 2000,
    });
    expect(error.name).toBe("RateLimitError");
    expect(error.message).toBe("openai gpt-4o: 429 rate_limit_exceeded (retry after 2s)");
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.stack).toContain("RateLimitError");
  });

  it("isInstance follows the hierarchy", () => {
    const quota = new QuotaExceededError({ provider: "openai", status: 429 });
    expect(QuotaExceededError.isInstance(quota)).toBe(true);
    expect(RateLimitError.isInstance(quota)).toBe(true);
    expect(ProviderError.isInstance(quota)).toBe(true);
    expect(RetryClientError.isInstance(quota)).toBe(true);
    expect(ServerError.isInstance(quota)).toBe(false);
    expect(OverloadedError.isInstance(new ServerError({ provider: "x" }))).toBe(false);
    expect(ServerError.isInstance(new OverloadedError({ provider: "x" }))).toBe(true);
    expect(BadRequestError.isInstance(new ContextLengthExceededError({ provider: "x" }))).toBe(
      true,
    );
    expect(RetryClientError.isInstance(new Error("x"))).toBe(false);
    expect(RetryClientError.isInstance(null)).toBe(false);
  });

  it("isInstance survives a duplicate copy of the package", () => {
    // A second install defines its own classes; only the Symbol.for marker is shared.
    const foreign = Object.create(Error.prototype) as Record<symbol, unknown>;
    foreign[Symbol.for("retry-client.error.kinds")] = [
      "RateLimitError",
      "ProviderError",
      "RetryClientError",
    ];
    expect(RateLimitError.isInstance(foreign)).toBe(true);
    expect(ServerError.isInstance(foreign)).toBe(false);
  });

  it("keeps the cause and serialises facts", () => {
    const cause = new ServerError({ provider: "anthropic", status: 500 });
    const error = new StreamInterruptedError("connection reset", {
      partialText: "Once upon",
      provider: "anthropic",
      model: "claude",
      cause,
    });
    expect(error.cause).toBe(cause);
    const json = error.toJSON();
    expect(json).toMatchObject({ name: "StreamInterruptedError", partialText: "Once upon" });
    expect((json.cause as { name: string }).name).toBe("ServerError");
    expect(JSON.parse(JSON.stringify(error)).partialText).toBe("Once upon");
    expect(inspect(error)).toContain("Once upon");
  });

  it("FallbackExhaustedError lists each target's failure", () => {
    const errors = [
      new OverloadedError({ provider: "anthropic", model: "claude-sonnet-4", status: 529 }),
      new TimeoutError("first-token", 5000, { provider: "openai", model: "gpt-4o" }),
    ];
    const error = new FallbackExhaustedError(errors);
    expect(error.message).toContain("anthropic claude-sonnet-4: 529");
    expect(error.message).toContain("openai gpt-4o: first-token timeout after 5s");
    expect(error.errors).toEqual(errors);
    expect(error.cause).toBe(errors[1]);
  });

  it("formats durations", () => {
    expect(formatMs(250)).toBe("250ms");
    expect(formatMs(1500)).toBe("1.5s");
    expect(formatMs(60000)).toBe("60s");
  });
});
