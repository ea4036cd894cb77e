/** Something with deadlines, told when its earliest one may have passed. */
export interface DeadlineOwner {
  /** Called at or after the time it was scheduled for (`Date.now()` as `now`). */
  onDeadline(now: number): void;
}

/** One owner's slot on a {@link DeadlineClock}: create it once, schedule it any number of times. */
export class Deadline {
  readonly owner: DeadlineOwner;
  /** When it is due (`Date.now()` milliseconds); meaningful while scheduled. */
  at = Number.POSITIVE_INFINITY;
  /** Its place in the clock's heap; -1 when not scheduled. */
  index = -1;

  constructor(owner: DeadlineOwner) {
    this.owner = owner;
  }
}

type Entry = Deadline;

/**
 * One timer for many deadlines: a min-heap of owners by due time (`Date.now()` milliseconds)
 * and a single `setTimeout` armed for the earliest. Scheduling, moving and cancelling a
 * deadline cost a few comparisons; no `Timeout` object or closure per request.
 *
 * Granularity: none added. An owner is called on the first timer turn at or after its due
 * time, as a `setTimeout` of its own would be: never early, late only by what the event loop
 * is late. The timer is a plain `setTimeout` (so fake timers drive it, `Date` faked too). When
 * no deadline is left it is unref'd rather than cleared (cleared where timers have no `unref`):
 * it never keeps a process alive on its own, and a process making one request at a time does
 * not arm a new timer for each.
 */
export class DeadlineClock {
  readonly #heap: Entry[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /** Whether the timer holds the process open (it does while a deadline is pending). */
  #held = false;
  /** The functions the timer was armed with (fake timers may have been swapped in since). */
  #setTimer: typeof setTimeout | undefined;
  #clearTimer: typeof clearTimeout | undefined;

  /** Calls `entry.owner.onDeadline` at `at` (replacing its earlier schedule, if any). */
  schedule(entry: Deadline, at: number): void {
    if (entry.index < 0) {
      entry.at = at;
      entry.index = this.#heap.length;
      this.#heap.push(entry);
      this.#up(entry.index);
    } else {
      const earlier = at < entry.at;
      entry.at = at;
      if (earlier) this.#up(entry.index);
      else this.#down(entry.index);
    }
    this.#arm();
  }

  /** Forgets `entry`'s schedule (nothing when it has none). */
  cancel(entry: Deadline): void {
    if (entry.index < 0) return;
    this.#remove(entry);
    // The timer may stay armed for a deadline that is gone: it then finds nothing due and
    // re-arms for the next one. With none left it stops holding the process open.
    if (this.#heap.length === 0) this.#release();
  }

  #remove(entry: Entry): void {
    const last = this.#heap.pop() as Entry;
    if (last !== entry) {
      this.#heap[entry.index] = last;
      last.index = entry.index;
      this.#up(last.index);
      this.#down(last.index);
    }
    entry.index = -1;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    try {
      for (;;) {
        const first = this.#heap[0];
        if (first === undefined || first.at > now) break;
        this.#remove(first);
        // An owner may schedule itself again from here (its next deadline).
        first.owner.onDeadline(now);
      }
    } finally {
      this.#arm();
    }
  };

  #arm(): void {
    const first = this.#heap[0];
    if (first === undefined) {
      this.#release();
      return;
    }
    const timer = this.#timer;
    if (
      timer !== undefined &&
      this.#timerAt <= first.at &&
      this.#setTimer === globalThis.setTimeout
    ) {
      if (!this.#held) {
        this.#held = true;
        (timer as { ref?: () => void }).ref?.();
      }
      return;
    }
    this.#disarm();
    this.#setTimer = globalThis.setTimeout;
    this.#clearTimer = globalThis.clearTimeout;
    this.#timerAt = first.at;
    this.#held = true;
    this.#timer = setTimeout(this.#fire, Math.max(0, first.at - Date.now()));
  }

  /** No deadline left: the timer may stay armed, but must not keep the process alive. */
  #release(): void {
    const timer = this.#timer as { unref?: () => void } | undefined;
    if (timer === undefined || !this.#held) return;
    if (typeof timer.unref === "function") {
      this.#held = false;
      timer.unref();
    } else this.#disarm();
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clearTimer?.(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #up(index: number): void {
    const heap = this.#heap;
    const entry = heap[index] as Entry;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as Entry;
      if (parent.at <= entry.at) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = entry;
    entry.index = index;
  }

  #down(index: number): void {
    const heap = this.#heap;
    const entry = heap[index] as Entry;
    const length = heap.length;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && (heap[right] as Entry).at < (heap[child] as Entry).at) child = right;
      const smaller = heap[child] as Entry;
      if (smaller.at >= entry.at) break;
      heap[index] = smaller;
      smaller.index = index;
      index = child;
    }
    heap[index] = entry;
    entry.index = index;
  }
}

/** The clock every request of this process shares. */
export const deadlineClock = new DeadlineClock();
