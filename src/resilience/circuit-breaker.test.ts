import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import {
  BadRequestError,
  CircuitOpenError,
  RateLimitError,
  ServerError,
} from "../errors/errors.js";
import { MemoryStateStore } from "../state/memory-state-store.js";
import {
  afterFailure,
  afterSuccess,
  CircuitBreaker,
  resolveBreakerOptions,
} from "./circuit-breaker.js";

const fail = () => Promise.reject(new ServerError({ provider: "x", status: 500 }));
const ok = () => Promise.resolve("ok");

function setup(options: ConstructorParameters<typeof CircuitBreaker>[1] = {}) {
  let now = 1_000_000;
  const store = new MemoryStateStore({ now: () => now });
  const changes: string[] = [];
  const breaker = new CircuitBreaker("svc", {
    failureThreshold: 3,
    successThreshold: 2,
    minResetTimeoutMs: 1000,
    resetTimeoutMs: 8000,
    store,
    onStateChange: (_key, from, to) => changes.push(`${from}->${to}`),
    ...options,
  });
  return { breaker, store, changes, advance: (ms: number) => (now += ms) };
}

describe("CircuitBreaker", () => {
  it("opens after failureThreshold consecutive failures and fails fast without calling", async () => {
    const { breaker, changes } = setup();
    for (let i = 0; i < 3; i++)
      await expect(breaker.call(fail)).rejects.toBeInstanceOf(ServerError);
    expect(breaker.state).toBe("open");
    const fn = vi.fn(ok);
    const error = await breaker.call(fn).catch((e) => e);
    expect(CircuitOpenError.isInstance(error)).toBe(true);
    expect(error.retryAfterMs).toBe(1000);
    expect(error.key).toBe("svc");
    expect(fn).not.toHaveBeenCalled();
    expect(changes).toEqual(["closed->open"]);
  });

  it("a success resets the consecutive count", async () => {
    const { breaker } = setup();
    await breaker.call(fail).catch(() => {});
    await breaker.call(fail).catch(() => {});
    await breaker.call(ok);
    await breaker.call(fail).catch(() => {});
    await breaker.call(fail).catch(() => {});
    expect(breaker.state).toBe("closed");
  });

  it("half-open after the open period; closes after successThreshold probes", async () => {
    const { breaker, advance, changes } = setup();
    for (let i = 0; i < 3; i++) await breaker.call(fail).catch(() => {});
    advance(1000);
    expect(breaker.state).toBe("half-open");
    await breaker.call(ok);
    expect(breaker.state).toBe("half-open");
    await breaker.call(ok);
    expect(breaker.state).toBe("closed");
    expect(changes).toEqual(["closed->open", "open->half-open", "half-open->closed"]);
  });

  it("the open period doubles after each failed probe up to resetTimeoutMs, then back to min", async () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) await breaker.call(fail).catch(() => {});
    const periods: number[] = [];
    for (let i = 0; i < 5; i++) {
      const snapshot = await breaker.snapshot();
      if (snapshot.state !== "open") throw new Error("expected open");
      periods.push(snapshot.openPeriodMs);
      advance(snapshot.openPeriodMs);
      await breaker.call(fail).catch(() => {});
    }
    expect(periods).toEqual([1000, 2000, 4000, 8000, 8000]);
    advance(8000);
    await breaker.call(ok);
    await breaker.call(ok);
    for (let i = 0; i < 3; i++) await breaker.call(fail).catch(() => {});
    const reopened = await breaker.snapshot();
    expect(reopened.state === "open" && reopened.openPeriodMs).toBe(1000);
  });

  it("lets exactly one probe through while half-open", async () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) await breaker.call(fail).catch(() => {});
    advance(1000);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let probes = 0;
    const calls = Array.from({ length: 20 }, () =>
      breaker.call(async () => {
        probes++;
        await gate;
        return "ok";
      }),
    );
    const settled = Promise.allSettled(calls);
    await new Promise((r) => setTimeout(r, 0));
    release();
    const results = await settled;
    expect(probes).toBe(1);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(
      results.filter((r) => r.status === "rejected" && CircuitOpenError.isInstance(r.reason)),
    ).toHaveLength(19);
  });

  it("a probe whose outcome does not count frees the slot and stays half-open", async () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) await breaker.call(fail).catch(() => {});
    advance(1000);
    const limited = () => Promise.reject(new RateLimitError({ provider: "x", status: 429 }));
    await expect(breaker.call(limited)).rejects.toBeInstanceOf(RateLimitError);
    expect(breaker.state).toBe("half-open");
    await expect(
      breaker.call(() => Promise.reject(new BadRequestError({ provider: "x", status: 400 }))),
    ).rejects.toBeInstanceOf(BadRequestError);
    expect(breaker.state).toBe("half-open");
    await breaker.call(ok); // the slot was free again
    expect(breaker.state).toBe("half-open");
  });

  it("a probe lease whose holder died frees itself after its time bound", async () => {
    const { breaker, advance } = setup({ probeLeaseMs: 5000 });
    for (let i = 0; i < 3; i++) await breaker.call(fail).catch(() => {});
    advance(1000);
    const permit = await breaker.acquire(); // the holder "dies": never reports
    expect(permit.probe).toBe(true);
    await expect(breaker.acquire()).rejects.toBeInstanceOf(CircuitOpenError);
    advance(5000);
    const next = await breaker.acquire();
    expect(next.probe).toBe(true);
  });

  it("does not count rate limits or bad requests", async () => {
    const { breaker } = setup();
    for (let i = 0; i < 10; i++) {
      await breaker
        .call(() => Promise.reject(new RateLimitError({ provider: "x", status: 429 })))
        .catch(() => {});
    }
    expect(breaker.state).toBe("closed");
  });

  it("opens on the failure-rate rule", async () => {
    const { breaker } = setup({
      failureThreshold: 100,
      failureRate: { threshold: 0.5, minimumCalls: 4, windowMs: 10_000 },
    });
    await breaker.call(ok);
    await breaker.call(fail).catch(() => {});
    await breaker.call(ok);
    expect(breaker.state).toBe("closed");
    await breaker.call(fail).catch(() => {}); // 2 of 4 failed
    expect(breaker.state).toBe("open");
  });

  it("shares state through a common store", async () => {
    const store = new MemoryStateStore();
    const a = new CircuitBreaker("shared", { failureThreshold: 2, store });
    const b = new CircuitBreaker("shared", { failureThreshold: 2, store });
    await a.call(fail).catch(() => {});
    await b.call(fail).catch(() => {});
    await expect(a.call(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(b.call(ok)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it("saves and restores with toJSON / initialState, and resets", async () => {
    const { breaker, store } = setup();
    for (let i = 0; i < 3; i++) await breaker.call(fail).catch(() => {});
    const saved = JSON.parse(JSON.stringify(breaker));
    const clock = { now: () => store.now() };
    const restored = new CircuitBreaker("svc", {
      initialState: saved,
      store: new MemoryStateStore(clock),
    });
    expect(restored.state).toBe("open");
    await expect(restored.call(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    await restored.reset();
    expect(restored.state).toBe("closed");
    await expect(restored.call(ok)).resolves.toBe("ok");
  });

  it("never opens below its threshold, whatever the sequence (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.boolean(), { maxLength: 60 }),
        async (threshold, outcomes) => {
          const breaker = new CircuitBreaker("p", { failureThreshold: threshold });
          let run = 0;
          for (const failed of outcomes) {
            if (breaker.state === "open") break;
            run = failed ? run + 1 : 0;
            await breaker.call(failed ? fail : ok).catch(() => {});
            expect(breaker.state as string).toBe(run >= threshold ? "open" : "closed");
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("pure transitions: a late failure or success on an open breaker changes nothing", () => {
    const o = resolveBreakerOptions();
    const open = { state: "open", openedAt: 0, openUntil: 2000, openPeriodMs: 2000 } as const;
    expect(afterFailure(open, o, 10, false)).toBe(open);
    expect(afterSuccess(open, o, false)).toBe(open);
  });

  it("release() frees the probe slot without a verdict (a cancelled call)", async () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) await breaker.call(fail).catch(() => {});
    advance(1000);
    const permit = await breaker.acquire();
    await breaker.release(permit);
    expect(breaker.state).toBe("half-open");
    expect((await breaker.acquire()).probe).toBe(true);
  });

  it("a probe finds the breaker closed by someone else meanwhile: no probe needed", async () => {
    let now = 0;
    const store = new MemoryStateStore({ now: () => now });
    const acquireLease = store.acquireLease.bind(store);
    const breaker = new CircuitBreaker("race", {
      failureThreshold: 1,
      minResetTimeoutMs: 10,
      store,
    });
    await breaker.call(fail).catch(() => {});
    now = 10;
    // Another process resets the breaker between our lease and our transition.
    store.acquireLease = async (key, holder, ttl) => {
      const taken = await acquireLease(key, holder, ttl);
      await store.delete("breaker:race");
      return taken;
    };
    const permit = await breaker.acquire();
    expect(permit.probe).toBe(false);
    expect(await store.get("probe:race")).toBeUndefined();
  });

  it.each([
    [{ failureThreshold: 0 }, "expected a positive integer for failureThreshold, got 0"],
    [{ successThreshold: 1.5 }, "expected a positive integer for successThreshold, got 1.5"],
    [{ resetTimeoutMs: -5 }, "expected a positive number for resetTimeoutMs, got -5"],
    [
      { minResetTimeoutMs: 50_000 },
      "expected minResetTimeoutMs ≤ resetTimeoutMs (30000), got 50000",
    ],
    [
      { failureRate: { threshold: 2 } },
      "expected a number from 0 to 1 for failureRate.threshold, got 2",
    ],
  ])("rejects bad options %j", (options, message) => {
    expect(() => new CircuitBreaker("bad", options)).toThrow(new RangeError(message));
  });
});

describe("the failure count an open breaker keeps (shown by `retry-client circuits`)", () => {
  it("is the count that opened it, plus each failed probe", () => {
    const o = resolveBreakerOptions({ failureThreshold: 3 });
    let s = afterFailure({ state: "closed", failures: 2 }, o, 0, false);
    expect(s).toMatchObject({ state: "open", failures: 3 });
    s = { state: "half-open", successes: 0, openPeriodMs: 1000, failures: 3 };
    expect(afterFailure(s, o, 5000, true)).toMatchObject({ state: "open", failures: 4 });
  });
});

describe("the hot path's shortcuts", () => {
  it("permitWhenClosed gives acquire's permit for a closed snapshot, and nothing otherwise", async () => {
    const breaker = new CircuitBreaker("fast");
    const closed = { state: "closed", failures: 2 } as const;
    expect(breaker.permitWhenClosed(closed)).toEqual(await breaker.acquire(undefined, closed));
    expect(breaker.permitWhenClosed(null)).toEqual({
      probe: false,
      snapshot: { state: "closed", failures: 0 },
    });
    expect(breaker.permitWhenClosed(undefined)).toBeUndefined();
    const open = {
      state: "open",
      openedAt: 0,
      openUntil: 1,
      openPeriodMs: 1,
      failures: 5,
    } as const;
    expect(breaker.permitWhenClosed(open)).toBeUndefined();
    expect(breaker.permitWhenClosed({ state: "half-open", successes: 0, openPeriodMs: 1 })).toBe(
      undefined,
    );
  });

  it("successMatters is false only when success() would record nothing", async () => {
    const store = new MemoryStateStore();
    const breaker = new CircuitBreaker("quiet", { store });
    const permit = await breaker.acquire();
    expect(breaker.successMatters(permit)).toBe(false);
    await breaker.failure(permit, new ServerError({ provider: "p", model: "m", status: 500 }));
    const afterOne = await breaker.acquire();
    expect(breaker.successMatters(afterOne)).toBe(true);
    await breaker.success(afterOne);
    expect(await store.get("breaker:quiet")).toBeUndefined();
    const rated = new CircuitBreaker("rated", { store, failureRate: { threshold: 0.5 } });
    expect(rated.successMatters(await rated.acquire())).toBe(true);
  });
});
