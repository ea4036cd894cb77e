import { classify, isAbortError } from "../errors/classify.js";
import { TimeoutError } from "../errors/errors.js";
import { nonNegativeInteger, nonNegativeNumber, optionalTimeout } from "../options.js";
import {
  type BackoffOptions,
  computeBackoff,
  definedOnly,
  type ResolvedBackoff,
  resolveBackoff,
} from "./backoff.js";
import { linkSignals } from "./link-signals.js";
import { sleep } from "./sleep.js";

/** Options of {@link retry} and {@link withRetry}. Every field is optional. */
export interface RetryOptions extends BackoffOptions {
  /** Retries after the first attempt. @default 5 */
  readonly maxRetries?: number | undefined;
  /** Longest server-requested wait (`retryAfterMs` on the error) we sleep; longer ones fail at once. @default 60000 */
  readonly maxRetryAfterMs?: number | undefined;
  /** One bound for every attempt and wait together; nothing sleeps past it. @default none */
  readonly deadlineMs?: number | undefined;
  /** Cancels the attempts and any pending wait; its reason is rethrown untouched. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Overrides the classification: true retries, false gives up, undefined keeps the default.
   * By default any error is retried except: this package's errors the failure table does not
   * retry; an error whose `status` / `statusCode` / `response.status` is a client error (400,
   * 401, 404…; 408, 409 and 429 are retried); `TypeError`, `RangeError`, `SyntaxError` and
   * `ReferenceError` (programming errors — unless a network code such as `ECONNRESET` is in
   * their cause chain, as with `fetch failed`); a caller's abort. A `retry-after-ms` /
   * `retry-after` header on the error (`headers`, or `response.headers`) is the wait.
   */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean | undefined;
  /** Called before each wait: the number of the retry about to run (1-based), the error, the wait. */
  readonly onRetry?: ((attempt: number, error: unknown, delayMs: number) => void) | undefined;
  /** The clock, injectable for tests. @default Date.now */
  readonly now?: (() => number) | undefined;
}

/** What the function given to {@link retry} receives. */
export interface RetryContext {
  /** 0 for the first attempt, 1 for the first retry, … */
  readonly attempt: number;
  /** Aborts on the caller's abort and at the deadline. */
  readonly signal: AbortSignal;
}

interface ResolvedRetry {
  readonly backoff: ResolvedBackoff;
  readonly maxRetries: number;
  readonly maxRetryAfterMs: number;
  readonly deadlineMs: number | undefined;
  readonly options: RetryOptions;
}

/** Validates retry options once; throws `RangeError` naming the bad option. */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetry {
  const o = definedOnly(options);
  return {
    backoff: resolveBackoff(options),
    maxRetries: nonNegativeInteger("maxRetries", o.maxRetries ?? 5, true),
    maxRetryAfterMs: nonNegativeNumber("maxRetryAfterMs", o.maxRetryAfterMs ?? 60_000, true),
    deadlineMs: optionalTimeout("deadlineMs", o.deadlineMs),
    options,
  };
}

/**
 * Calls `fn` until it succeeds, retrying what the failure classification says is transient, with
 * exponential backoff and jitter, honouring an error's `retryAfterMs` (up to `maxRetryAfterMs`),
 * the caller's signal and an overall deadline.
 *
 * @throws the last error when retries run out or the error is not retryable; a `TimeoutError`
 *   (kind "deadline") when the deadline cuts an attempt; the signal's reason on abort.
 * @example
 * const data = await retry(({ signal }) => fetch(url, { signal }).then((r) => r.json()), { maxRetries: 3 });
 */
export async function retry<T>(
  fn: (context: RetryContext) => Promise<T> | T,
  options?: RetryOptions,
): Promise<T> {
  return runRetry(fn, resolveRetryOptions(options));
}

async function runRetry<T>(
  fn: (context: RetryContext) => Promise<T> | T,
  resolved: ResolvedRetry,
): Promise<T> {
  const { options, backoff, maxRetries, maxRetryAfterMs, deadlineMs } = resolved;
  const now = options.now ?? Date.now;
  const callerSignal = options.signal;
  callerSignal?.throwIfAborted();
  const deadlineAt = deadlineMs === undefined ? undefined : now() + deadlineMs;
  const deadline = deadlineMs === undefined ? undefined : new AbortController();
  const timer =
    deadline && deadlineMs !== undefined
      ? setTimeout(() => deadline.abort(new TimeoutError("deadline", deadlineMs)), deadlineMs)
      : undefined;
  // Not AbortSignal.any: it leaves a record on a long-lived caller signal for every call.
  const linked = linkSignals([callerSignal, deadline?.signal]);
  const signal = linked.signal ?? new AbortController().signal;
  let previousDelay: number | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn({ attempt, signal });
      } catch (error) {
        if (callerSignal?.aborted) throw callerSignal.reason;
        if (deadline?.signal.aborted) throw deadline.signal.reason;
        if (isAbortError(error, signal)) throw error;
        const decision = classify(error, {
          signal,
          hasOtherTarget: false,
          foreignErrors: "by-shape",
        });
        const wanted = options.shouldRetry?.(error, attempt) ?? decision.retry;
        if (!wanted || attempt >= maxRetries) throw error;
        const serverWait = decision.retryAfterMs;
        if (serverWait !== undefined && serverWait > maxRetryAfterMs) throw error;
        const delay = serverWait ?? computeBackoff(attempt, backoff, previousDelay);
        previousDelay = delay;
        if (deadlineAt !== undefined && now() + delay >= deadlineAt) throw error;
        options.onRetry?.(attempt + 1, error, delay);
        await sleep(delay, signal);
      }
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    linked.unlink?.();
  }
}

/**
 * Wraps `fn` so every call goes through {@link retry}. The same call works as a TS 5 method
 * decorator: `@withRetry({ maxRetries: 3 }) async load() {…}`. Options are validated once.
 *
 * @example
 * const getUser = withRetry({ maxRetries: 3 })(async (id: string) => api.user(id));
 */
export function withRetry(options: RetryOptions = {}) {
  const resolved = resolveRetryOptions(options);
  return <A extends unknown[], R>(
    fn: (this: unknown, ...args: A) => Promise<R> | R,
    _context?: ClassMethodDecoratorContext,
  ): ((this: unknown, ...args: A) => Promise<R>) =>
    function (this: unknown, ...args: A): Promise<R> {
      return runRetry(() => fn.apply(this, args), resolved);
    };
}
