import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BadRequestError, RateLimitError, ServerError, TimeoutError } from "../errors/errors.js";
import { retry, withRetry } from "./retry.js";

const serverError = () => new ServerError({ provider: "x", status: 503 });

describe("retry", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("retries transient failures with backoff and reports each retry", async () => {
    const onRetry = vi.fn();
    let calls = 0;
    const promise = retry(
      () => {
        calls++;
        if (calls < 3) throw serverError();
        return "ok";
      },
      { baseDelayMs: 100, jitter: 0, onRetry },
    );
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(200);
    await expect(promise).resolves.toBe("ok");
    expect(onRetry.mock.calls.map(([attempt, , delay]) => [attempt, delay])).toEqual([
      [1, 100],
      [2, 200],
    ]);
  });

  it("leaves no listener on a long-lived caller signal once a call with a deadline ends", async () => {
    const caller = new AbortController();
    for (let i = 0; i < 3; i++) {
      await expect(retry(() => i, { signal: caller.signal, deadlineMs: 1000 })).resolves.toBe(i);
    }
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
  });

  it("gives up after maxRetries with the last error", async () => {
    let calls = 0;
    const promise = retry(
      () => {
        calls++;
        throw serverError();
      },
      { maxRetries: 2, baseDelayMs: 10, jitter: 0 },
    );
    const assertion = expect(promise).rejects.toBeInstanceOf(ServerError);
    await vi.runAllTimersAsync();
    await assertion;
    expect(calls).toBe(3);
  });

  it("does not retry client errors, and shouldRetry overrides", async () => {
    let calls = 0;
    const bad = () => {
      calls++;
      throw new BadRequestError({ provider: "x", status: 400 });
    };
    await expect(retry(bad)).rejects.toBeInstanceOf(BadRequestError);
    expect(calls).toBe(1);
    const forced = retry(bad, { maxRetries: 1, baseDelayMs: 1, shouldRetry: () => true });
    const assertion = expect(forced).rejects.toBeInstanceOf(BadRequestError);
    await vi.runAllTimersAsync();
    await assertion;
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      retry(
        () => {
          calls++;
          throw serverError();
        },
        { shouldRetry: () => false },
      ),
    ).rejects.toBeInstanceOf(ServerError);
    expect(calls).toBe(1);
  });

  it("waits exactly what the server asked for", async () => {
    let calls = 0;
    const onRetry = vi.fn();
    const promise = retry(
      () => {
        if (++calls === 1)
          throw new RateLimitError({ provider: "x", status: 429, retryAfterMs: 1500 });
        return "ok";
      },
      { onRetry },
    );
    await vi.advanceTimersByTimeAsync(1499);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(promise).resolves.toBe("ok");
    expect(onRetry).toHaveBeenCalledWith(1, expect.any(RateLimitError), 1500);
  });

  it("does not sleep a server wait longer than maxRetryAfterMs", async () => {
    const error = new RateLimitError({ provider: "x", status: 429, retryAfterMs: 120_000 });
    await expect(
      retry(() => {
        throw error;
      }),
    ).rejects.toBe(error);
  });

  it("never sleeps past the deadline", async () => {
    let calls = 0;
    const start = Date.now();
    const promise = retry(
      () => {
        calls++;
        throw serverError();
      },
      { deadlineMs: 1000, baseDelayMs: 400, jitter: 0, maxRetries: 10 },
    );
    const assertion = expect(promise).rejects.toBeInstanceOf(ServerError);
    await vi.runAllTimersAsync();
    await assertion;
    // 0 → wait 400 → 400: next wait 800 would end past 1000, so it stops.
    expect(calls).toBe(2);
    expect(Date.now() - start).toBe(400);
  });

  it("cuts a hanging attempt at the deadline with TimeoutError(deadline)", async () => {
    const promise = retry(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      { deadlineMs: 500 },
    );
    const assertion = expect(promise).rejects.toMatchObject({
      name: "TimeoutError",
      kind: "deadline",
    });
    await vi.advanceTimersByTimeAsync(500);
    await assertion;
    expect(TimeoutError.isInstance(await promise.catch((e) => e))).toBe(true);
  });

  it("an abort during a wait rejects at once with the reason untouched", async () => {
    const controller = new AbortController();
    let calls = 0;
    const promise = retry(
      () => {
        calls++;
        throw serverError();
      },
      { signal: controller.signal, baseDelayMs: 10_000 },
    );
    await vi.advanceTimersByTimeAsync(10);
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(promise).rejects.toBe(reason);
    expect(calls).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("an already aborted signal makes no call", async () => {
    const fn = vi.fn();
    await expect(retry(fn, { signal: AbortSignal.abort("gone") })).rejects.toBe("gone");
    expect(fn).not.toHaveBeenCalled();
  });

  it("rejects bad options with RangeError naming them", async () => {
    await expect(retry(() => 1, { maxRetries: -1 })).rejects.toThrow(
      "expected a non-negative integer for maxRetries, got -1",
    );
    expect(() => withRetry({ deadlineMs: 0 })).toThrow(
      "expected a positive number for deadlineMs, got 0",
    );
  });
});

describe("withRetry", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("wraps a function", async () => {
    let calls = 0;
    const fn = withRetry({ baseDelayMs: 1 })(async (a: number, b: number) => {
      if (++calls < 2) throw serverError();
      return a + b;
    });
    const promise = fn(2, 3);
    await vi.runAllTimersAsync();
    await expect(promise).resolves.toBe(5);
  });
});
