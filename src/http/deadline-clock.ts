/** Something with a deadline on a {@link DeadlineClock}; the clock keeps `at` and `index`. */
export interface Deadline {
  /** When it is due (`Date.now()` milliseconds), while scheduled. */
  at: number;
  /** Its place in the clock's heap; -1 when not scheduled (start it at -1). */
  index: number;
  /** When it was scheduled, kept by the clock: of two due at once, the earlier one goes first. */
  order?: number;
  /** Called at or after `at` (with `Date.now()`), once per scheduling. */
  onDeadline(now: number): void;
}

/**
 * One timer for many deadlines: a min-heap by due time and a single `setTimeout` armed for the
 * earliest. Scheduling, moving and cancelling cost a few comparisons: no `Timeout` object or
 * closure per request.
 *
 * No granularity is added: a deadline is called on the first timer turn at or after its due
 * time, as a `setTimeout` of its own would be; never early. The timer is a plain `setTimeout`
 * (fake timers drive it, with `Date` faked too). While no deadline is pending it stays armed but
 * unref'd: it never keeps a process alive on its own, and one request at a time does not arm a
 * new timer each.
 */
export class DeadlineClock {
  readonly #heap: Deadline[] = [];
  #scheduled = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /** The timer functions it was armed with: fake timers may have been swapped in or out since. */
  #setTimer: typeof setTimeout | undefined;
  #clearTimer: typeof clearTimeout | undefined;

  /** Calls `entry.onDeadline` at `at`, replacing its earlier schedule if any. */
  schedule(entry: Deadline, at: number): void {
    entry.at = at;
    entry.order = ++this.#scheduled;
    if (entry.index < 0) {
      entry.index = this.#heap.length;
      this.#heap.push(entry);
    }
    this.#sift(entry.index);
    this.#arm();
  }

  /** Forgets `entry`'s schedule (nothing when it has none). */
  cancel(entry: Deadline): void {
    if (entry.index < 0) return;
    this.#remove(entry);
    // The timer may stay armed for a deadline that is gone: it then finds nothing due and
    // re-arms for the next one.
    if (this.#heap.length === 0) (this.#timer as { unref?: () => void } | undefined)?.unref?.();
  }

  #remove(entry: Deadline): void {
    const last = this.#heap.pop() as Deadline;
    if (last !== entry) {
      this.#heap[entry.index] = last;
      last.index = entry.index;
      this.#sift(last.index);
    }
    entry.index = -1;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    try {
      for (let first = this.#heap[0]; first !== undefined && first.at <= now; ) {
        this.#remove(first);
        first.onDeadline(now);
        first = this.#heap[0];
      }
    } finally {
      this.#arm();
    }
  };

  #arm(): void {
    const first = this.#heap[0];
    if (first === undefined) return;
    if (this.#timerAt > first.at || this.#setTimer !== globalThis.setTimeout) {
      if (this.#timer !== undefined) this.#clearTimer?.(this.#timer);
      this.#setTimer = globalThis.setTimeout;
      this.#clearTimer = globalThis.clearTimeout;
      this.#timerAt = first.at;
      this.#timer = setTimeout(this.#fire, Math.max(0, first.at - Date.now()));
    } else (this.#timer as { ref?: () => void } | undefined)?.ref?.();
  }

  /** Moves the entry at `index` up or down to its place. */
  #sift(index: number): void {
    const heap = this.#heap;
    const entry = heap[index] as Deadline;
    for (;;) {
      const parent = (index - 1) >> 1;
      let next = index > 0 && before(entry, heap[parent] as Deadline) ? parent : -1;
      if (next < 0) {
        const left = 2 * index + 1;
        const right = left + 1;
        const child =
          right < heap.length && before(heap[right] as Deadline, heap[left] as Deadline)
            ? right
            : left;
        if (child < heap.length && before(heap[child] as Deadline, entry)) next = child;
      }
      if (next < 0) break;
      const other = heap[next] as Deadline;
      heap[index] = other;
      other.index = index;
      index = next;
    }
    heap[index] = entry;
    entry.index = index;
  }
}

/** Whether `a` is due before `b`: earlier, or as early and scheduled first. */
function before(a: Deadline, b: Deadline): boolean {
  return a.at < b.at || (a.at === b.at && (a.order ?? 0) < (b.order ?? 0));
}

/** The clock every request of this process shares. */
export const deadlineClock = new DeadlineClock();
