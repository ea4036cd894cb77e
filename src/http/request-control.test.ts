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

describe("RequestControl on the shared clock", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("many requests in flight share one timer", () => {
    const before = vi.getTimerCount();
    const controls = Array.from({ length: 50 }, (_, i) => {
      const control = new RequestControl(undefined, "openai", "m");
      control.arm("attempt", 600_000 + i);
      control.arm("connect", 10_000);
      control.arm("first-token", 30_000);
      return control;
    });
    expect(vi.getTimerCount() - before).toBeLessThanOrEqual(1);
    for (const control of controls) control.dispose();
  });

  it("of two clocks due at once, the one started first fires", () => {
    const a = new RequestControl(undefined, "openai", "m");
    a.arm("attempt", 100);
    a.arm("connect", 100);
    const b = new RequestControl(undefined, "openai", "m");
    b.arm("connect", 100);
    b.arm("attempt", 100);
    vi.advanceTimersByTime(100);
    expect((a.translate(undefined) as TimeoutError).kind).toBe("attempt");
    expect((b.translate(undefined) as TimeoutError).kind).toBe("connect");
    a.dispose();
    b.dispose();
  });

  it("a disarmed clock leaves the others running, to the millisecond", () => {
    const control = new RequestControl(undefined, "openai", "m");
    control.arm("connect", 50);
    control.arm("first-token", 200);
    control.disarm("connect");
    vi.advanceTimersByTime(199);
    expect(control.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect((control.translate(undefined) as TimeoutError).kind).toBe("first-token");
    control.dispose();
  });
});
