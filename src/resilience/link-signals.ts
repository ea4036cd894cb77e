/**
 * Links abort signals into one without `AbortSignal.any` (which, on Node 20, keeps a record on
 * each source per composed signal: a long-lived signal reused for every call would grow). Each
 * source gets one listener; `unlink()` removes them. `unlink` is undefined when the signal is a
 * source itself.
 */
export function linkSignals(sources: ReadonlyArray<AbortSignal | undefined>): {
  readonly signal: AbortSignal | undefined;
  readonly unlink: (() => void) | undefined;
} {
  const signals = sources.filter((s): s is AbortSignal => s !== undefined);
  if (signals.length <= 1) return { signal: signals[0], unlink: undefined };
  const controller = new AbortController();
  const aborted = signals.find((s) => s.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, unlink: undefined };
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
