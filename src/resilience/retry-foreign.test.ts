import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { classifyByShape } from "../errors/classify.js";
import { retry, withRetry } from "./retry.js";

/** Runs `retry()` on a function that throws `error` each time; returns the calls and the outcome. */
async function attempts(error: unknown, maxRetries = 2) {
  let calls = 0;
  const delays: number[] = [];
  const promise = retry(
    () => {
      calls++;
      throw error;
    },
    { maxRetries, baseDelayMs: 10, jitter: 0, onRetry: (_a, _e, delayMs) => delays.push(delayMs) },
  );
  const settled = promise.then(
    () => "resolved",
    (e: unknown) => e,
  );
  await vi.runAllTimersAsync();
  return { calls, delays, thrown: await settled };
}

const openaiError = (status: number, headers: Record<string, string> = {}) =>
  OpenAI.APIError.generate(
    status,
    { error: { message: `status ${status}`, type: "x" } },
    `status ${status}`,
    new Headers(headers),
  );

const anthropicError = (status: number, headers: Record<string, string> = {}) =>
  Anthropic.APIError.generate(
    status,
    { type: "error", error: { type: "x", message: `status ${status}` } },
    `status ${status}`,
    new Headers(headers),
  );

describe("retry() classifies foreign errors by their shape", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("an openai-node APIError with status 400 is not retried (nor 401, 404, 422)", async () => {
    for (const status of [400, 401, 404, 422]) {
      const error = openaiError(status);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      const { calls, thrown } = await attempts(error);
      expect(calls, `status ${status}`).toBe(1);
      expect(thrown).toBe(error);
    }
  });

  it("an @anthropic-ai/sdk error with status 400 is not retried; 529 overloaded is", async () => {
    expect((await attempts(anthropicError(400))).calls).toBe(1);
    const overloaded = anthropicError(529);
    expect(overloaded).toBeInstanceOf(Anthropic.APIError);
    expect((await attempts(overloaded)).calls).toBe(3);
  });

  it("5xx, 408, 409 and 429 from the SDKs are retried", async () => {
    for (const error of [openaiError(500), openaiError(503), openaiError(408), openaiError(409)]) {
      expect((await attempts(error)).calls).toBe(3);
    }
    expect((await attempts(anthropicError(429))).calls).toBe(3);
  });

  it("a foreign 429's retry-after-ms header is the wait; retry-after (seconds) too", async () => {
    const ms = await attempts(openaiError(429, { "retry-after-ms": "1500" }), 1);
    expect(ms.delays).toEqual([1500]);
    const seconds = await attempts(anthropicError(429, { "retry-after": "2" }), 1);
    expect(seconds.delays).toEqual([2000]);
  });

  it("reads status and headers from statusCode, response.status and plain header records", async () => {
    const axiosLike = Object.assign(new Error("Request failed with status code 429"), {
      response: { status: 429, headers: { "retry-after-ms": "700" } },
    });
    expect((await attempts(axiosLike, 1)).delays).toEqual([700]);
    const gotLike = Object.assign(new Error("Not Found"), { statusCode: 404 });
    expect((await attempts(gotLike)).calls).toBe(1);
  });

  it("x-should-retry on a foreign error overrides", async () => {
    expect((await attempts(openaiError(400, { "x-should-retry": "true" }), 1)).calls).toBe(2);
    expect((await attempts(openaiError(503, { "x-should-retry": "false" }))).calls).toBe(1);
  });

  it("Node network codes are retried, in the error or its cause (fetch failed)", async () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect((await attempts(reset)).calls).toBe(3);
    const fetchFailed = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ETIMEDOUT"), { code: "ETIMEDOUT" }),
    });
    expect((await attempts(fetchFailed)).calls).toBe(3);
    const connection = new OpenAI.APIConnectionError({
      cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
    });
    expect((await attempts(connection)).calls).toBe(3);
  });

  it("TypeError, RangeError, SyntaxError and ReferenceError are programming errors: not retried", async () => {
    for (const error of [
      new TypeError("x is not a function"),
      new RangeError("bad length"),
      new SyntaxError("Unexpected token"),
      new ReferenceError("y is not defined"),
    ]) {
      const { calls, thrown } = await attempts(error);
      expect(calls, error.name).toBe(1);
      expect(thrown).toBe(error);
    }
  });

  it("any other error is retried, and shouldRetry still overrides", async () => {
    expect((await attempts(new Error("flaky"))).calls).toBe(3);
    let calls = 0;
    const promise = retry(
      () => {
        calls++;
        throw new TypeError("retry me anyway");
      },
      { maxRetries: 1, baseDelayMs: 1, shouldRetry: () => true },
    ).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    await promise;
    expect(calls).toBe(2);
  });

  it("withRetry() applies the same rules", async () => {
    let calls = 0;
    const wrapped = withRetry({ maxRetries: 3, baseDelayMs: 1 })(async () => {
      calls++;
      throw openaiError(404);
    });
    await expect(wrapped()).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect(calls).toBe(1);
  });

  it("classifyByShape reports the row it chose", () => {
    expect(classifyByShape(openaiError(429, { "retry-after": "3" }))).toMatchObject({
      kind: "rate-limit",
      retry: true,
      retryAfterMs: 3000,
    });
    expect(classifyByShape(new TypeError("bug"))).toMatchObject({ kind: "foreign", retry: false });
  });
});
