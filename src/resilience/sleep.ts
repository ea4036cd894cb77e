/** The longest single `setTimeout` (a longer one fires after about 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Waits `ms`; rejects at once with `signal.reason` when the signal aborts (before or during the
 * wait). Uses the global `setTimeout`, so fake timers control it in tests. A wait longer than
 * a timer can hold (2³¹ − 1 ms) is slept in steps: it never ends early; `Infinity` never ends
 * (only the signal ends it).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (!(ms > 0) && !signal) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let left = Number.isNaN(ms) ? 0 : Math.max(ms, 0);
    let timer: ReturnType<typeof setTimeout>;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const step = () => {
      const chunk = Math.min(left, MAX_TIMER_MS);
      left -= chunk;
      timer = setTimeout(() => {
        if (left > 0) step();
        else {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }
      }, chunk);
    };
    step();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
