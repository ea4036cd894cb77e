/**
 * The failure table of SPEC §2, row by row, against the simulator over real loopback HTTP.
 * Each test names its row. Waits are real but short (ms-scale backoff; second-scale only where
 * the wire format itself is in seconds).
 */
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  AuthenticationError,
  BadRequestError,
  ContentFilterError,
  FallbackExhaustedError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  QuotaExceededError,
  RateLimitError,
  ServerError,
} from "../src/errors/errors.js";
import { clientFor, Message, seen, simulator } from "./helpers/client.js";

const sim = await simulator();
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const hi = [Message.user("hi")];
const fallback = [["anthropic", "claude-sonnet-4-5-20250929"]] as const;

describe("429 rate limits", () => {
  it("with Retry-After ≤ cap: waits exactly what the server said, then retries the same model", async () => {
    const onRetry = vi.fn();
    const client = clientFor(sim, { onRetry, fallbackModels: fallback });
    const started = Date.now();
    const res = await client.complete(hi, { model: "gpt-4o~429-retry-after-1s-first-1" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(res.provider).toBe("openai");
    expect(onRetry).toHaveBeenCalledWith(1, expect.any(RateLimitError), 1000);
    expect(res.attempts.map((a) => [a.outcome, a.status, a.retryAfterMs])).toEqual([
      ["error", 429, 1000],
      ["success", undefined, undefined],
    ]);
    expect(res.attempts[1]!.delayBeforeMs).toBe(1000);
  });

  it("honours retry-after-ms and an HTTP-date Retry-After", async () => {
    const client = clientFor(sim);
    const ms = await client.complete(hi, { model: "gpt-4o~429-retry-after-ms-120ms-first-1" });
    expect(ms.attempts[0]!.retryAfterMs).toBe(120);
    expect(ms.attempts[1]!.delayBeforeMs).toBe(120);
    const date = await client.complete(hi, { model: "gpt-4o~429-retry-after-date-2s-first-1" });
    // An HTTP date has one-second resolution: the wait is what is left until that second.
    expect(date.attempts[0]!.retryAfterMs).toBeGreaterThan(900);
    expect(date.attempts[0]!.retryAfterMs).toBeLessThanOrEqual(3000);
  });

  it("a wait over maxRetryAfterMs is not slept: falls back at once", async () => {
    const client = clientFor(sim, { fallbackModels: fallback, maxRetryAfterMs: 5000 });
    const started = Date.now();
    const res = await client.complete(hi, { model: "gpt-4o~429-retry-after-30s" });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.provider).toBe("anthropic");
    expect(seen(sim, "gpt-4o")).toHaveLength(1);
  });

  it("a wait past the deadline is not slept: falls back at once", async () => {
    const client = clientFor(sim, { fallbackModels: fallback });
    const started = Date.now();
    const res = await client.complete(hi, { model: "gpt-4o~429-retry-after-2s", deadlineMs: 1500 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.provider).toBe("anthropic");
  });

  it("without Retry-After: backoff with jitter, then falls back after retries", async () => {
    const delays: number[] = [];
    const client = clientFor(sim, {
      fallbackModels: fallback,
      retry: { maxRetries: 2, baseDelayMs: 20, jitter: 0.5, random: () => 0.5 },
      onRetry: (_attempt, _error, delayMs) => delays.push(delayMs),
    });
    const res = await client.complete(hi, { model: "gpt-4o~429-bare" });
    expect(delays).toEqual([15, 30]); // 20×2^n × (1 − 0.5 × 0.5)
    expect(res.provider).toBe("anthropic");
    expect(seen(sim, "gpt-4o")).toHaveLength(3);
    // Rate limits never count toward the breaker: they cool the model down instead.
    expect(await client.circuits()).toEqual([]);
  });

  it("sets a cooldown that other calls honour: they skip the cooling model", async () => {
    const client = clientFor(sim, { fallbackModels: fallback });
    const first = client.complete(hi, { model: "gpt-4o~429-retry-after-ms-400ms-first-1" });
    await new Promise((r) => setTimeout(r, 100));
    const second = await client.complete(hi, { model: "gpt-4o~429-retry-after-ms-400ms-first-1" });
    expect(second.provider).toBe("anthropic");
    expect((await first).provider).toBe("openai");
    expect(seen(sim, "gpt-4o")).toHaveLength(2); // the first call's 429 and its retry only
  });

  it("when every target is cooling down: waits for the earliest within the cap", async () => {
    const client = clientFor(sim);
    await client.complete(hi, { model: "gpt-4o~429-retry-after-ms-300ms-first-1" });
    // Cool it down again, then ask while it cools: the call waits rather than failing.
    const model = "gpt-4o~429-retry-after-ms-300ms-first-1";
    await client.store.set(
      `cooldown:${client.stateKey({ provider: "openai", model })}`,
      { until: Date.now() + 200, retryAfterMs: 200 },
      200,
    );
    const started = Date.now();
    const res = await client.complete(hi, { model });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(res.attempts[0]).toMatchObject({ outcome: "skipped", errorClass: "RateLimitError" });
  });

  it("when every target is cooling down beyond the cap: throws RateLimitError with retryAfterMs at once", async () => {
    const client = clientFor(sim, { maxRetryAfterMs: 1000 });
    await client.store.set(
      `cooldown:${client.stateKey({ provider: "openai", model: "gpt-4o" })}`,
      { until: Date.now() + 5000, retryAfterMs: 5000 },
      5000,
    );
    const error = await client.complete(hi).catch((e) => e);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.retryAfterMs).toBeGreaterThan(4000);
    expect(seen(sim, "gpt-4o")).toHaveLength(0);
  });

  it("insufficient_quota: no retry, falls back, counts toward the breaker", async () => {
    const client = clientFor(sim, { fallbackModels: fallback });
    const res = await client.complete(hi, { model: "gpt-4o~quota" });
    expect(res.provider).toBe("anthropic");
    expect(res.attempts[0]).toMatchObject({ errorClass: "QuotaExceededError", status: 429 });
    expect(seen(sim, "gpt-4o")).toHaveLength(1);
    expect(await client.circuits()).toMatchObject([
      {
        key: client.stateKey({ provider: "openai", model: "gpt-4o~quota" }),
        baseURL: sim.openaiBaseURL,
        failures: 1,
      },
    ]);
  });

  it("request too large for the TPM limit: no retry, falls back, does not count", async () => {
    const client = clientFor(sim, { fallbackModels: fallback });
    const res = await client.complete(hi, { model: "gpt-4o~too-large" });
    expect(res.provider).toBe("anthropic");
    expect(seen(sim, "gpt-4o")).toHaveLength(1);
    expect(await client.circuits()).toEqual([]);
  });
});

describe("server errors and connection failures: retry, then fall back; they count", () => {
  it.each([
    ["openai", "gpt-4o", 500],
    ["openai", "gpt-4o", 502],
    ["openai", "gpt-4o", 503],
    ["openai", "gpt-4o", 504],
    ["openai", "gpt-4o", 408],
    ["openai", "gpt-4o", 409],
    ["anthropic", "claude-sonnet-4-5-20250929", 529],
    ["anthropic", "claude-sonnet-4-5-20250929", 500],
  ])("%s %s: %i is retried on the same model", async (provider, model, status) => {
    const client = clientFor(sim);
    const res = await client.complete(hi, { provider, model: `${model}~${status}-first-2` });
    expect(res.provider).toBe(provider);
    expect(res.attempts.map((a) => a.status ?? "ok")).toEqual([status, status, "ok"]);
  });

  it("529 is an OverloadedError and falls back after retries", async () => {
    const client = clientFor(sim, {
      defaultProvider: "anthropic",
      defaultModel: "claude-sonnet-4-5-20250929~529",
      fallbackModels: [["openai", "gpt-4o"]],
      retry: { maxRetries: 2, baseDelayMs: 1 },
    });
    const res = await client.complete(hi);
    expect(res.provider).toBe("openai");
    expect(res.attempts.slice(0, 3).every((a) => a.errorClass === "OverloadedError")).toBe(true);
    expect(await client.circuits()).toMatchObject([{ failures: 3 }]);
  });

  it("a single target that keeps failing throws its own error, carrying attempts", async () => {
    const client = clientFor(sim, { retry: { maxRetries: 1, baseDelayMs: 1 } });
    const error = await client.complete(hi, { model: "gpt-4o~503" }).catch((e) => e);
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error.status).toBe(503);
    expect(error.attempts).toHaveLength(2);
  });

  it("connection reset before headers is retried", async () => {
    const client = clientFor(sim);
    const res = await client.complete(hi, { model: "gpt-4o~reset-first-1" });
    expect(res.attempts.map((a) => a.errorClass ?? "ok")).toEqual(["ConnectionError", "ok"]);
  });

  it("connection refused is a ConnectionError, retried then fallen back", async () => {
    const client = clientFor(sim, {
      providers: { dead: { type: "openai", apiKey: "k", baseURL: "http://127.0.0.1:9/v1" } },
      defaultProvider: "dead",
      defaultModel: "gpt-4o",
      fallbackModels: [["openai", "gpt-4o"]],
      retry: { maxRetries: 1, baseDelayMs: 1 },
    });
    const res = await client.complete(hi);
    expect(res.provider).toBe("openai");
    expect(res.attempts.slice(0, 2).map((a) => a.errorClass)).toEqual([
      "ConnectionError",
      "ConnectionError",
    ]);
  });
});

describe("timeouts with no answer yet", () => {
  it("fall back at once when another target is available", async () => {
    const client = clientFor(sim, { fallbackModels: fallback, timeoutMs: 150 });
    const res = await client.complete(hi, { model: "gpt-4o~hang" });
    expect(res.provider).toBe("anthropic");
    expect(res.attempts[0]).toMatchObject({ errorClass: "TimeoutError" });
    expect(seen(sim, "gpt-4o")).toHaveLength(1);
  });

  it("are retried when no other target is left", async () => {
    const client = clientFor(sim, { connectTimeoutMs: 150 });
    const res = await client.complete(hi, { model: "gpt-4o~hang-first-1" });
    expect(res.attempts.map((a) => a.errorClass ?? "ok")).toEqual(["TimeoutError", "ok"]);
    expect(res.attempts[0]!.errorMessage).toContain("connect timeout");
  });
});

describe("400s and auth", () => {
  it("context length: falls back only to a model with a larger window", async () => {
    const client = clientFor(sim, {
      catalogue: [
        {
          provider: "openai",
          model: "gpt-4o~context-length",
          contextWindow: 128_000,
          maxOutputTokens: 16_384,
          tools: true,
          vision: true,
          prefill: false,
        },
      ],
      fallbackModels: [
        ["openai", "gpt-4o-mini"], // 128K: no larger, skipped
        ["anthropic", "claude-sonnet-4-5-20250929"], // 200K
      ],
    });
    const res = await client.complete(hi, { model: "gpt-4o~context-length" });
    expect(res.model).toBe("claude-sonnet-4-5-20250929");
    expect(seen(sim, "gpt-4o-mini")).toHaveLength(0);
    expect(res.attempts[0]).toMatchObject({
      errorClass: "ContextLengthExceededError",
      status: 400,
    });
    expect(await client.circuits()).toEqual([]);
  });

  it("content filter: thrown as itself whatever the chain; fallback is opt-in", async () => {
    const client = clientFor(sim, { fallbackModels: fallback });
    const error = await client.complete(hi, { model: "gpt-4o~content-filter" }).catch((e) => e);
    expect(ContentFilterError.isInstance(error)).toBe(true);
    expect(error.attempts).toHaveLength(1);
    const optIn = clientFor(sim, { fallbackModels: fallback, fallbackOnContentFilter: true });
    expect((await optIn.complete(hi, { model: "gpt-4o~content-filter" })).provider).toBe(
      "anthropic",
    );
  });

  it("other 400/422: no retry, no fallback, thrown as itself", async () => {
    const client = clientFor(sim, { fallbackModels: fallback });
    for (const status of [400, 422]) {
      sim.reset();
      const error = await client.complete(hi, { model: `gpt-4o~${status}` }).catch((e) => e);
      expect(BadRequestError.isInstance(error)).toBe(true);
      expect(error.status).toBe(status);
      expect(sim.requests()).toHaveLength(1);
    }
    expect(await client.circuits()).toEqual([]);
  });

  it.each([
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
  ])("%i: no retry, falls back, counts toward the breaker", async (status, kind) => {
    const client = clientFor(sim, { fallbackModels: fallback });
    const res = await client.complete(hi, { model: `gpt-4o~${status}` });
    expect(res.provider).toBe("anthropic");
    expect(res.attempts[0]!.errorClass).toBe(kind.errorName);
    expect(seen(sim, "gpt-4o")).toHaveLength(1);
    expect(await client.circuits()).toMatchObject([{ failures: 1 }]);
  });

  it("every target failing: FallbackExhaustedError lists each target's last error", async () => {
    const client = clientFor(sim, {
      fallbackModels: [["anthropic", "claude-sonnet-4-5-20250929~overloaded"]],
      retry: { maxRetries: 1, baseDelayMs: 1 },
    });
    const error = await client.complete(hi, { model: "gpt-4o~401" }).catch((e) => e);
    expect(FallbackExhaustedError.isInstance(error)).toBe(true);
    expect(error.errors.map((e: Error) => e.name)).toEqual([
      "AuthenticationError",
      "OverloadedError",
    ]);
    expect(error.message).toContain("openai gpt-4o~401: 401");
    expect(error.message).toContain("529");
    expect(error.attempts).toHaveLength(3);
    expect(OverloadedError.isInstance(error.errors[1])).toBe(true);
  });

  it("a target without a key is skipped like an auth failure; alone, its ConfigurationError names the variable", async () => {
    const client = clientFor(sim, {
      providers: { openai: { baseURL: sim.openaiBaseURL } },
      fallbackModels: fallback,
    });
    // clientFor sets a key; take it away for openai only.
    const bare = new (
      client.constructor as typeof import("../src/client/retry-client.js").RetryClient
    )({
      ...client.config,
      providers: {
        openai: { baseURL: sim.openaiBaseURL },
        anthropic: { apiKey: "k", baseURL: sim.anthropicBaseURL },
      },
    });
    expect((await bare.complete(hi)).provider).toBe("anthropic");
    const alone = await bare.complete(hi, { fallbackModels: [] }).catch((e) => e);
    expect(alone.name).toBe("ConfigurationError");
    expect(alone.message).toContain("OPENAI_API_KEY");
  });
});

describe("a caller's abort", () => {
  it("is rethrown untouched, never retried, never counted", async () => {
    const client = clientFor(sim, { fallbackModels: fallback });
    const controller = new AbortController();
    const reason = new Error("user pressed stop");
    setTimeout(() => controller.abort(reason), 100);
    const error = await client
      .complete(hi, { model: "gpt-4o~hang", signal: controller.signal })
      .catch((e) => e);
    expect(error).toBe(reason);
    expect(sim.requests()).toHaveLength(1);
    expect(await client.circuits()).toEqual([]);
  });

  it("during a backoff wait ends the wait at once", async () => {
    const client = clientFor(sim, { retry: { baseDelayMs: 10_000, jitter: 0 } });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort("stop"), 100);
    const error = await client
      .complete(hi, { model: "gpt-4o~503", signal: controller.signal })
      .catch((e) => e);
    expect(error).toBe("stop");
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("QuotaExceededError is a RateLimitError", () => {
  it("keeps the hierarchy", () => {
    expect(RateLimitError.isInstance(new QuotaExceededError({ provider: "openai" }))).toBe(true);
  });
});
