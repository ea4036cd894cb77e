/** A signal that aborts when any of its sources does, and the function that unlinks it. */
export interface LinkedSignal {
  readonly signal: AbortSignal | undefined;
  /**
   * Removes the listeners from the sources (call it when the call ends); undefined when the
   * signal is one of the sources itself (nothing was linked).
   */
  readonly unlink: (() => void) | undefined;
}

/**
 * Links several abort signals into one, without `AbortSignal.any`: Node 20 keeps a record on
 * each source for every signal `any` composed from it, so a long-lived signal reused for every
 * call would grow by one per call. Here each source gets one listener, removed by `unlink()`
 * when the call ends: nothing stays behind on a long-lived signal.
 */
export function linkSignals(sources: ReadonlyArray<AbortSignal | undefined>): LinkedSignal {
  const signals = sources.filter((s): s is AbortSignal => s !== undefined);
  if (signals.length <= 1) return { signal: signals[0], unlink: undefined };
  const controller = new AbortController();
  for (const source of signals) {
    if (source.aborted) {
      controller.abort(source.reason);
      return { signal: controller.signal, unlink: undefined };
    }
  }
  const listeners: Array<[AbortSignal, () => void]> = [];
  const unlink = () => {
    for (const [source, listener] of listeners) source.removeEventListener("abort", listener);
    listeners.length = 0;
  };
  for (const source of signals) {
    const listener = () => {
      unlink();
      controller.abort(source.reason);
    };
    listeners.push([source, listener]);
    source.addEventListener("abort", listener, { once: true });
  }
  return { signal: controller.signal, unlink };
}
