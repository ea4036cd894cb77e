/**
 * Validation of numeric options. Every option is checked once, at construction, and a bad value
 * is a `RangeError` naming the option and the value, e.g.
 * `expected a non-negative integer for maxRetries, got -1`.
 */

function fail(expected: string, name: string, value: unknown): never {
  throw new RangeError(`expected ${expected} for ${name}, got ${String(value)}`);
}

/** An integer ≥ 0 (Infinity allowed when `allowInfinity`). */
export function nonNegativeInteger(name: string, value: number, allowInfinity = false): number {
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (!Number.isInteger(value) || value < 0) fail("a non-negative integer", name, value);
  return value;
}

/** An integer ≥ 1. */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) fail("a positive integer", name, value);
  return value;
}

/** A finite number ≥ 0 (Infinity allowed when `allowInfinity`). */
export function nonNegativeNumber(name: string, value: number, allowInfinity = false): number {
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail("a non-negative number", name, value);
  }
  return value;
}

/** A finite number > 0. */
export function positiveNumber(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    fail("a positive number", name, value);
  }
  return value;
}

/** A number in [0, 1]. */
export function fraction(name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1))
    fail("a number from 0 to 1", name, value);
  return value;
}

/** One of `choices`. */
export function oneOf<T extends string>(name: string, value: T, choices: readonly T[]): T {
  if (!choices.includes(value)) fail(`one of ${choices.join(", ")}`, name, value);
  return value;
}

/**
 * The longest delay a timer can honour: `setTimeout` fires after about 1 ms for anything longer
 * than 2³¹ − 1 ms (about 24.8 days), so a longer timeout would fire early instead of late.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * An optional timeout: undefined, or a positive number of milliseconds no longer than
 * {@link MAX_TIMER_MS}. With `allowNone`, `Infinity` means "no timeout".
 */
export function optionalTimeout(
  name: string,
  value: number | undefined,
  allowNone = false,
): number | undefined {
  if (value === undefined) return undefined;
  if (allowNone && value === Number.POSITIVE_INFINITY) return value;
  positiveNumber(name, value);
  return timerMs(name, value);
}

/**
 * A number of milliseconds a timer can honour: at most {@link MAX_TIMER_MS}.
 * @throws RangeError naming the option and the value.
 */
export function timerMs(name: string, value: number): number {
  if (value > MAX_TIMER_MS) {
    fail(`at most ${MAX_TIMER_MS} ms (about 24.8 days; longer timers fire early)`, name, value);
  }
  return value;
}
