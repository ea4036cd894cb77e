import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CircuitOpenError, ServerError } from "../errors/errors.js";
import { circuitBreaker } from "./circuit-breaker.js";
import { withRetry } from "./retry.js";

const serverError = () => new ServerError({ provider: "x", status: 503 });

describe("decorators", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("works as a TS 5 method decorator and keeps `this`", async () => {
    class Service {
      calls = 0;
      @withRetry({ baseDelayMs: 1, maxRetries: 3 })
      async load(id: string): Promise<string> {
        if (++this.calls < 3) throw serverError();
        return `user:${id}`;
      }
    }
    const service = new Service();
    const promise = service.load("42");
    await vi.runAllTimersAsync();
    await expect(promise).resolves.toBe("user:42");
    expect(service.calls).toBe(3);
  });

  it("circuitBreaker works as a method decorator sharing the named breaker", async () => {
    class Search {
      @circuitBreaker("decorated-search", { failureThreshold: 2 })
      async query(): Promise<string> {
        throw serverError();
      }
      @circuitBreaker("decorated-search")
      async other(): Promise<string> {
        return "ok";
      }
    }
    const search = new Search();
    await expect(search.query()).rejects.toBeInstanceOf(ServerError);
    await expect(search.query()).rejects.toBeInstanceOf(ServerError);
    await expect(search.query()).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(search.other()).rejects.toBeInstanceOf(CircuitOpenError);
  });
});
