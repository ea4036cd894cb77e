import type { Warning } from "../types.js";

/** The `onWarning` subscribers of a store. A listener that throws never hurts the store. */
export class WarningListeners {
  readonly #listeners = new Set<(warning: Warning) => void>();

  constructor(first?: (warning: Warning) => void) {
    if (first) this.#listeners.add(first);
  }

  /** Subscribes `listener`; returns the unsubscribe function. */
  add(listener: (warning: Warning) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Tells every subscriber. */
  emit(warning: Warning): void {
    for (const listener of this.#listeners) {
      try {
        listener(warning);
      } catch {
        // A listener's failure is not the store's.
      }
    }
  }
}
