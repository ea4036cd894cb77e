import { RetryClientError, TimeoutError, type TimeoutKind } from "../errors/errors.js";
import { type Deadline, deadlineClock } from "./deadline-clock.js";
import { toConnectionError } from "./network-error.js";
import type { TransportSignal } from "./transport.js";

/** A timeout this controller can arm (the client owns `"deadline"`). */
export type RequestTimeoutKind = Exclude<TimeoutKind, "deadline" | "idle">;

const GRACE = Symbol("grace");

/** The abort signal a {@link RequestControl} hands its transport: a plain listener list. */
class RequestSignal implements TransportSignal {
  aborted = false;
  reason: unknown;
  #listeners: Array<() => void> | undefined;

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.#listeners === undefined) this.#listeners = [listener];
    else this.#listeners.push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const index = this.#listeners?.indexOf(listener) ?? -1;
    if (index >= 0) this.#listeners?.splice(index, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    for (const listener of listeners ?? []) listener();
  }
}

/** The clocks of a request, in the order they are checked when several are due at once. */
const CONNECT = 0;
const ATTEMPT = 1;
const FIRST_TOKEN = 2;
const IDLE = 3;
const GRACE_PERIOD = 4;
const KIND: readonly TimeoutKind[] = ["connect", "attempt", "first-token", "idle"];

function slotOf(kind: RequestTimeoutKind): number {
  return kind === "connect" ? CONNECT : kind === "attempt" ? ATTEMPT : FIRST_TOKEN;
}

/**
 * The life of one HTTP attempt: links the caller's signal and the timeouts (connect, attempt,
 * first token, idle) to one `AbortSignal` handed to the transport, and turns whatever the
 * transport threw into the error the caller must see. One per request; `dispose()` it when done.
 *
 * The timeouts are deadlines on the process's shared {@link deadlineClock} (one `setTimeout`
 * for every request in flight, driven by fake timers too), not a timer each; they fire exactly
 * when a timer of their own would. The idle deadline moves with the activity it sees and is
 * checked when it comes due, not reset on every delta.
 */
export class RequestControl implements Deadline {
  /** Pass this to the transport. */
  readonly signal = new RequestSignal();
  readonly #callerSignal: AbortSignal | undefined;
  readonly #provider: string;
  readonly #model: string;
  #failure: unknown;
  /** When each clock runs out (`Date.now()` ms); Infinity when it is not running. */
  readonly #due = [
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
  ];
  /** Each clock's length, for the error's message. */
  readonly #ms = [0, 0, 0, 0, 0];
  /** The order the clocks were started in: of two due at once, the one started first fires. */
  readonly #order = [0, 0, 0, 0, 0];
  #started = 0;
  /** Its place on the shared clock (kept by the clock). */
  at = Number.POSITIVE_INFINITY;
  index = -1;
  order = 0;
  #lastActivity = 0;
  #onCallerAbort: (() => void) | undefined;

  constructor(callerSignal: AbortSignal | undefined, provider: string, model: string) {
    this.#callerSignal = callerSignal;
    this.#provider = provider;
    this.#model = model;
    if (callerSignal !== undefined) {
      const onAbort = () => this.signal.abort(callerSignal.reason);
      this.#onCallerAbort = onAbort;
      callerSignal.addEventListener("abort", onAbort, { once: true });
    }
  }

  /** Starts the timeout `kind` (nothing when `ms` is undefined or infinite). */
  arm(kind: RequestTimeoutKind, ms: number | undefined): void {
    if (ms === undefined || ms === Number.POSITIVE_INFINITY) return;
    this.#start(slotOf(kind), ms, Date.now() + ms);
  }

  /** Stops the timeout `kind`. */
  disarm(kind: RequestTimeoutKind): void {
    const slot = slotOf(kind);
    if (this.#due[slot] === Number.POSITIVE_INFINITY) return;
    this.#due[slot] = Number.POSITIVE_INFINITY;
    this.#reschedule();
  }

  /** Starts the idle clock: fails with `TimeoutError("idle")` after `ms` without {@link touch}. */
  startIdle(ms: number | undefined): void {
    if (ms === undefined || ms === Number.POSITIVE_INFINITY) return;
    this.#lastActivity = Date.now();
    this.#start(IDLE, ms, this.#lastActivity + ms);
  }

  /** Records content activity for the idle clock. */
  touch(): void {
    if (this.#due[IDLE] !== Number.POSITIVE_INFINITY) this.#lastActivity = Date.now();
  }

  /**
   * After a stream's finish reason: give the server `ms` to send its tail (usage, `[DONE]`),
   * then stop reading. {@link endedByGrace} tells the reader it was this, not a failure.
   */
  startGrace(ms: number): void {
    if (this.#due[GRACE_PERIOD] !== Number.POSITIVE_INFINITY || this.#failure !== undefined) return;
    this.#start(GRACE_PERIOD, ms, Date.now() + ms);
  }

  #start(slot: number, ms: number, at: number): void {
    this.#due[slot] = at;
    this.#ms[slot] = ms;
    this.#order[slot] = ++this.#started;
    if (this.index < 0 || at < this.at) deadlineClock.schedule(this, at);
  }

  /** Moves this request's place on the clock to its earliest running clock. */
  #reschedule(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.#due) if (at < next) next = at;
    if (next === Number.POSITIVE_INFINITY) deadlineClock.cancel(this);
    else if (next !== this.at || this.index < 0) {
      deadlineClock.schedule(this, next);
    }
  }

  /** Called by the clock: fails with the clock that ran out first (of equals, the first started). */
  onDeadline(now: number): void {
    if (this.#failure !== undefined) return;
    const due = this.#due;
    // The idle clock runs from the last activity, which may have moved since it was scheduled.
    if (due[IDLE] !== Number.POSITIVE_INFINITY) due[IDLE] = this.#lastActivity + this.#ms[IDLE]!;
    let first = -1;
    for (let slot = 0; slot < due.length; slot++) {
      const at = due[slot]!;
      if (at > now) continue;
      if (
        first < 0 ||
        at < due[first]! ||
        (at === due[first] && this.#order[slot]! < this.#order[first]!)
      ) {
        first = slot;
      }
    }
    if (first >= 0) {
      due[first] = Number.POSITIVE_INFINITY;
      if (first === GRACE_PERIOD) this.fail(GRACE);
      else this.#timeout(KIND[first]!, this.#ms[first]!);
    }
    if (this.#failure === undefined) this.#reschedule();
  }

  /** True when the grace period after the finish reason ended the read. */
  get endedByGrace(): boolean {
    return this.#failure === GRACE;
  }

  /** True when the caller's own signal aborted. */
  get callerAborted(): boolean {
    return this.#callerSignal?.aborted === true;
  }

  /** Aborts the request with `error` (the first failure wins). */
  fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.signal.abort(error);
  }

  #timeout(kind: TimeoutKind, ms: number): void {
    this.fail(new TimeoutError(kind, ms, { provider: this.#provider, model: this.#model }));
  }

  /**
   * The error to throw for `error` caught during the request: the caller's abort reason
   * untouched; else the timeout that fired; else a package error as is; else a
   * `ConnectionError` (network failure).
   */
  translate(error: unknown): unknown {
    if (this.#callerSignal?.aborted) return this.#callerSignal.reason;
    if (this.#failure !== undefined && this.#failure !== GRACE) return this.#failure;
    if (RetryClientError.isInstance(error)) return error;
    return toConnectionError(error, this.#provider, this.#model);
  }

  /** Stops every clock and unlinks the caller's signal. */
  dispose(): void {
    this.#due.fill(Number.POSITIVE_INFINITY);
    deadlineClock.cancel(this);
    if (this.#onCallerAbort !== undefined) {
      this.#callerSignal?.removeEventListener("abort", this.#onCallerAbort);
    }
  }
}
