import { RetryClientError, TimeoutError, type TimeoutKind } from "../errors/errors.js";
import { toConnectionError } from "./network-error.js";
import type { TransportSignal } from "./transport.js";

type Timer = ReturnType<typeof setTimeout>;

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

/**
 * The life of one HTTP attempt: links the caller's signal and the timeouts to one
 * `AbortSignal` handed to the transport, and turns whatever the transport threw into the error
 * the caller must see. One per request; `dispose()` it when done.
 *
 * Timers are plain `setTimeout`s (so fake timers drive them). The idle timer is armed once per
 * idle period and re-armed for the remainder when it fires early, not reset on every delta.
 */
export class RequestControl {
  /** Pass this to the transport. */
  readonly signal = new RequestSignal();
  readonly #callerSignal: AbortSignal | undefined;
  readonly #provider: string;
  readonly #model: string;
  #failure: unknown;
  #connect: Timer | undefined;
  #attempt: Timer | undefined;
  #firstToken: Timer | undefined;
  #idle: Timer | undefined;
  #grace: Timer | undefined;
  #idleMs = 0;
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
    const timer = setTimeout(() => this.#timeout(kind, ms), ms);
    if (kind === "connect") this.#connect = timer;
    else if (kind === "attempt") this.#attempt = timer;
    else this.#firstToken = timer;
  }

  /** Stops the timeout `kind`. */
  disarm(kind: RequestTimeoutKind): void {
    if (kind === "connect") {
      clearTimeout(this.#connect);
      this.#connect = undefined;
    } else if (kind === "attempt") {
      clearTimeout(this.#attempt);
      this.#attempt = undefined;
    } else {
      clearTimeout(this.#firstToken);
      this.#firstToken = undefined;
    }
  }

  /** Starts the idle clock: fails with `TimeoutError("idle")` after `ms` without {@link touch}. */
  startIdle(ms: number | undefined): void {
    if (ms === undefined || ms === Number.POSITIVE_INFINITY) return;
    this.#idleMs = ms;
    this.#lastActivity = Date.now();
    this.#idle = setTimeout(() => this.#checkIdle(), ms);
  }

  /** Records content activity for the idle clock. */
  touch(): void {
    if (this.#idle !== undefined) this.#lastActivity = Date.now();
  }

  #checkIdle(): void {
    const left = this.#lastActivity + this.#idleMs - Date.now();
    if (left > 0) this.#idle = setTimeout(() => this.#checkIdle(), left);
    else {
      this.#idle = undefined;
      this.#timeout("idle", this.#idleMs);
    }
  }

  /**
   * After a stream's finish reason: give the server `ms` to send its tail (usage, `[DONE]`),
   * then stop reading. {@link endedByGrace} tells the reader it was this, not a failure.
   */
  startGrace(ms: number): void {
    if (this.#grace !== undefined || this.#failure !== undefined) return;
    this.#grace = setTimeout(() => this.fail(GRACE), ms);
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

  /** Clears every timer and unlinks the caller's signal. */
  dispose(): void {
    clearTimeout(this.#connect);
    clearTimeout(this.#attempt);
    clearTimeout(this.#firstToken);
    clearTimeout(this.#idle);
    clearTimeout(this.#grace);
    this.#idle = undefined;
    if (this.#onCallerAbort !== undefined) {
      this.#callerSignal?.removeEventListener("abort", this.#onCallerAbort);
    }
  }
}
