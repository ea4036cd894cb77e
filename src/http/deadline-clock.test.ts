import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Deadline, DeadlineClock } from "./deadline-clock.js";

function entry(onDeadline: (now: number) => void): Deadline {
  return { at: Number.POSITIVE_INFINITY, index: -1, onDeadline };
}

function owner(log: string[], name: string) {
  return entry((now) => log.push(`${name}@${now}`));
}

describe("DeadlineClock", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("calls each owner at its due time, never early, with one timer for all", () => {
    const clock = new DeadlineClock();
    const log: string[] = [];
    const due = [300, 100, 200, 100, 250];
    due.forEach((at, i) => {
      clock.schedule(owner(log, `d${i}`), at);
    });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log.sort()).toEqual(["d1@100", "d3@100"]);
    vi.advanceTimersByTime(200);
    expect(log.slice(2)).toEqual(["d2@200", "d4@250", "d0@300"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("holds the process open only while a deadline is pending; reuses its timer", () => {
    vi.useRealTimers();
    const timeouts = () =>
      process.getActiveResourcesInfo().filter((name) => name === "Timeout").length;
    const clock = new DeadlineClock();
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const before = timeouts();
    for (let i = 0; i < 20; i++) {
      const d = entry(() => {});
      clock.schedule(d, Date.now() + 600_000 + i * 1000);
      expect(timeouts()).toBe(before + 1);
      clock.cancel(d);
      expect(timeouts()).toBe(before);
    }
    // One request at a time: one timer for all of them, unref'd in between.
    expect(setTimeoutSpy.mock.calls.length).toBe(1);
    setTimeoutSpy.mockRestore();
  });

  it("of deadlines due at once, calls the one scheduled first first, whatever was removed between", () => {
    const clock = new DeadlineClock();
    const log: string[] = [];
    const owners = Array.from({ length: 40 }, (_, i) => owner(log, `d${i}`));
    const others = Array.from({ length: 40 }, (_, i) => owner(log, `x${i}`));
    owners.forEach((o, i) => {
      clock.schedule(o, 100);
      clock.schedule(others[i]!, 50 + (i % 7) * 10);
    });
    for (const other of others) clock.cancel(other);
    vi.advanceTimersByTime(100);
    expect(log).toEqual(owners.map((_, i) => `d${i}@100`));
  });

  it("moves and cancels deadlines", () => {
    const clock = new DeadlineClock();
    const log: string[] = [];
    const a = owner(log, "a");
    const b = owner(log, "b");
    clock.schedule(a, 1000);
    clock.schedule(b, 500);
    clock.schedule(b, 2000); // moved later
    clock.schedule(a, 100); // moved earlier
    clock.cancel(a);
    vi.advanceTimersByTime(1999);
    expect(log).toEqual([]);
    clock.cancel(b);
    vi.advanceTimersByTime(10_000);
    expect(log).toEqual([]);
    clock.cancel(b); // cancelling twice is harmless
    expect(b.index).toBe(-1);
  });

  it("keeps the heap ordered under many random schedules and cancels", () => {
    const clock = new DeadlineClock();
    const fired: number[] = [];
    const entries = Array.from({ length: 200 }, (_, i) => entry(() => fired.push(i)));
    const at = entries.map((_, i) => 1 + ((i * 7919) % 1000));
    entries.forEach((e, i) => {
      clock.schedule(e, at[i] as number);
    });
    for (let i = 0; i < 200; i += 3) clock.cancel(entries[i] as Deadline);
    vi.advanceTimersByTime(1000);
    const expected = entries.map((_, i) => i).filter((i) => i % 3 !== 0);
    expect([...fired].sort((x, y) => x - y)).toEqual(expected);
    // Called in due order.
    for (let k = 1; k < fired.length; k++) {
      expect(at[fired[k] as number]).toBeGreaterThanOrEqual(at[fired[k - 1] as number] as number);
    }
  });

  it("an owner may schedule itself again from its callback", () => {
    const clock = new DeadlineClock();
    const times: number[] = [];
    const d: Deadline = entry((now) => {
      times.push(now);
      if (times.length < 3) clock.schedule(d, now + 50);
    });
    clock.schedule(d, 50);
    vi.advanceTimersByTime(1000);
    expect(times).toEqual([50, 100, 150]);
  });

  it("re-arms with the current setTimeout after fake timers were swapped out", () => {
    const clock = new DeadlineClock();
    const log: string[] = [];
    clock.schedule(owner(log, "stale"), 10_000_000);
    vi.useRealTimers();
    const done = new Promise<void>((resolve) => {
      clock.schedule(
        entry(() => resolve()),
        Date.now() + 5,
      );
    });
    return done;
  });
});
