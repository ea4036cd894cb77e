import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConnectionError, TimeoutError } from "../errors/errors.js";
import { RequestControl } from "./request-control.js";

describe("RequestControl", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires a timeout with its kind and aborts the transport signal", () => {
    const control = new RequestControl(undefined, "openai", "gpt-4o");
    control.arm("connect", 1000);
    vi.advanceTimersByTime(999);
    expect(control.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(control.signal.aborted).toBe(true);
    const error = control.translate(new Error("socket hang up")) as TimeoutError;
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect(error.kind).toBe("connect");
    expect(error.message).toBe("openai gpt-4o: connect timeout after 1s");
    control.dispose();
  });

  it("idle: the clock restarts on every touch, without a timer per delta", () => {
    const control = new RequestControl(undefined, "anthropic", "claude");
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    control.startIdle(100);
    for (let i = 0; i < 100; i++) {
      vi.advanceTimersByTime(5);
      control.touch();
    }
    expect(control.signal.aborted).toBe(false);
    // 100 deltas over 500 ms: about one timer per idle period, not one per delta.
    expect(setTimeoutSpy.mock.calls.length).toBeLessThanOrEqual(6);
    vi.advanceTimersByTime(100);
    expect(control.signal.aborted).toBe(true);
    expect((control.translate(undefined) as TimeoutError).kind).toBe("idle");
    setTimeoutSpy.mockRestore();
    control.dispose();
  });

  it("a caller's abort wins and is returned untouched; disarmed timers never fire", () => {
    const caller = new AbortController();
    const control = new RequestControl(caller.signal, "openai", "m");
    control.arm("attempt", 50);
    control.disarm("attempt");
    vi.advanceTimersByTime(100);
    expect(control.signal.aborted).toBe(false);
    const reason = { why: "user" };
    caller.abort(reason);
    expect(control.signal.aborted).toBe(true);
    expect(control.translate(new Error("aborted"))).toBe(reason);
    control.dispose();
  });

  it("anything else is a ConnectionError with the system code", () => {
    const control = new RequestControl(undefined, "openai", "m");
    const error = control.translate(
      new TypeError("fetch failed", {
        cause: Object.assign(new Error("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" }),
      }),
    ) as ConnectionError;
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.code).toBe("ENOTFOUND");
    expect(error.message).toContain("getaddrinfo ENOTFOUND x");
    control.dispose();
  });
});
