import { describe, expect, it } from "vitest";
import { classify, type FailureKind } from "./classify.js";
import {
  AuthenticationError,
  BadRequestError,
  CircuitOpenError,
  ConfigurationError,
  ConnectionError,
  ContentFilterError,
  ContextLengthExceededError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  ProviderError,
  QuotaExceededError,
  RateLimitError,
  RetryClientError,
  ServerError,
  StreamInterruptedError,
  TimeoutError,
} from "./errors.js";
import { InvalidRequestError } from "./invalid-request-error.js";

const p = { provider: "openai", model: "gpt-4o" };

// One row per line of the failure table in SPEC §2:
// [failure, error, kind, retry same model, fall back, counts toward breaker, cooldown]
const TABLE: Array<[string, unknown, FailureKind, boolean, boolean, boolean, boolean]> = [
  [
    "429 with Retry-After",
    new RateLimitError({ ...p, status: 429, retryAfterMs: 2000 }),
    "rate-limit",
    true,
    true,
    false,
    true,
  ],
  [
    "429 without Retry-After",
    new RateLimitError({ ...p, status: 429 }),
    "rate-limit",
    true,
    true,
    false,
    true,
  ],
  [
    "429 insufficient_quota",
    new QuotaExceededError({ ...p, status: 429, code: "insufficient_quota" }),
    "quota",
    false,
    true,
    true,
    false,
  ],
  [
    "429 request too large",
    new RateLimitError({ ...p, status: 429, requestTooLarge: true }),
    "request-too-large",
    false,
    true,
    false,
    false,
  ],
  ["408", new ProviderError({ ...p, status: 408 }), "server", true, true, true, false],
  ["409", new ProviderError({ ...p, status: 409 }), "server", true, true, true, false],
  ["500", new ServerError({ ...p, status: 500 }), "server", true, true, true, false],
  ["502", new ServerError({ ...p, status: 502 }), "server", true, true, true, false],
  ["503", new ServerError({ ...p, status: 503 }), "server", true, true, true, false],
  ["504", new ServerError({ ...p, status: 504 }), "server", true, true, true, false],
  ["529 overloaded", new OverloadedError({ ...p, status: 529 }), "server", true, true, true, false],
  [
    "connection reset",
    new ConnectionError("reset", { code: "ECONNRESET" }),
    "connection",
    true,
    true,
    true,
    false,
  ],
  ["connect timeout", new TimeoutError("connect", 1000), "timeout", false, true, true, false],
  [
    "first-token timeout",
    new TimeoutError("first-token", 1000),
    "timeout",
    false,
    true,
    true,
    false,
  ],
  ["attempt timeout", new TimeoutError("attempt", 1000), "timeout", false, true, true, false],
  ["idle timeout", new TimeoutError("idle", 1000), "idle-timeout", false, true, true, false],
  ["deadline", new TimeoutError("deadline", 1000), "deadline", false, false, false, false],
  [
    "stream cut after content",
    new StreamInterruptedError("cut", { partialText: "Hel" }),
    "stream-interrupted",
    false,
    true,
    true,
    false,
  ],
  [
    "400 context length",
    new ContextLengthExceededError({ ...p, status: 400 }),
    "context-length",
    false,
    true,
    false,
    false,
  ],
  [
    "400 content filter",
    new ContentFilterError({ ...p, status: 400 }),
    "content-filter",
    false,
    false,
    false,
    false,
  ],
  [
    "400 invalid request",
    new BadRequestError({ ...p, status: 400 }),
    "bad-request",
    false,
    false,
    false,
    false,
  ],
  [
    "422 invalid request",
    new ProviderError({ ...p, status: 422 }),
    "bad-request",
    false,
    false,
    false,
    false,
  ],
  ["401", new AuthenticationError({ ...p, status: 401 }), "auth", false, true, true, false],
  ["403", new PermissionDeniedError({ ...p, status: 403 }), "auth", false, true, true, false],
  ["404", new NotFoundError({ ...p, status: 404 }), "not-found", false, true, true, false],
  [
    "circuit open",
    new CircuitOpenError("openai:gpt-4o", 500),
    "circuit-open",
    false,
    true,
    false,
    false,
  ],
  ["missing key", new ConfigurationError("no key"), "configuration", false, true, false, false],
  [
    "invalid call input",
    new InvalidRequestError("messages", "expected at least one message"),
    "invalid-request",
    false,
    false,
    false,
    false,
  ],
  [
    "connection closed after a long silence",
    new ConnectionError("closed", { code: "ECONNRESET", silentForMs: 15_000 }),
    "silent-target",
    false,
    true,
    true,
    false,
  ],
  ["an error that is not a provider's", new Error("boom"), "foreign", false, false, false, false],
  ["a TypeError (a bug)", new TypeError("x is undefined"), "foreign", false, false, false, false],
  [
    "a package error of no known class",
    new RetryClientError("custom provider failure"),
    "unknown",
    true,
    true,
    true,
    false,
  ],
];

describe("classify: the failure table of SPEC §2", () => {
  it.each(TABLE)("%s", (_name, error, kind, retry, fallback, countsForBreaker, cooldown) => {
    expect(classify(error)).toMatchObject({ kind, retry, fallback, countsForBreaker, cooldown });
  });

  it("in-band stream errors classify like their HTTP twins", () => {
    // Providers raise in-band errors as the class of their HTTP twin, with the twin's status.
    const inband = new OverloadedError({
      provider: "anthropic",
      status: 529,
      type: "overloaded_error",
    });
    expect(classify(inband)).toEqual(
      classify(new OverloadedError({ provider: "anthropic", status: 529 })),
    );
  });

  it("a caller's abort is never retried, never falls back, never counts", () => {
    const controller = new AbortController();
    const reason = new Error("user cancelled");
    controller.abort(reason);
    expect(classify(reason, { signal: controller.signal })).toMatchObject({
      kind: "abort",
      retry: false,
      fallback: false,
      countsForBreaker: false,
    });
    const domAbort = new DOMException("aborted", "AbortError");
    expect(classify(domAbort).kind).toBe("abort");
  });

  it("a timeout with no answer retries only when no other target is left", () => {
    const timeout = new TimeoutError("first-token", 1000);
    expect(classify(timeout, { hasOtherTarget: true }).retry).toBe(false);
    expect(classify(timeout, { hasOtherTarget: false }).retry).toBe(true);
  });

  it("x-should-retry overrides the retry column", () => {
    const noRetry = new ServerError({ ...p, status: 500, rateLimit: { shouldRetry: false } });
    expect(classify(noRetry).retry).toBe(false);
    const yesRetry = new BadRequestError({ ...p, status: 400, rateLimit: { shouldRetry: true } });
    expect(classify(yesRetry).retry).toBe(true);
  });

  it("content-filter fallback is opt-in", () => {
    const error = new ContentFilterError({ ...p, status: 400 });
    expect(classify(error, { fallbackOnContentFilter: true }).fallback).toBe(true);
  });

  it("carries the server's wait", () => {
    expect(
      classify(new RateLimitError({ ...p, status: 429, retryAfterMs: 1234 })).retryAfterMs,
    ).toBe(1234);
    expect(classify(new CircuitOpenError("k", 99)).retryAfterMs).toBe(99);
  });
});
