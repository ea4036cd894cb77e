/**
 * Type checks of 200 bodies and stream chunks. A field of the wrong type throws
 * {@link WireShapeError}, naming the field and the type found (never the value); providers turn
 * it into a `ServerError` with code `invalid_response`.
 */
export class WireShapeError extends TypeError {
  constructor(path: string, expected: string, value: unknown) {
    const found = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    super(`${path} is ${found}, expected ${expected}`);
    this.name = "WireShapeError";
  }
}

const absent = (value: unknown): value is null | undefined => value === undefined || value === null;

/** An object, or undefined for undefined / null. */
export function optionalObject(value: unknown, path: string): Record<string, unknown> | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== "object" || Array.isArray(value))
    throw new WireShapeError(path, "an object", value);
  return value as Record<string, unknown>;
}

/** An object (not null). */
export function requiredObject(value: unknown, path: string): Record<string, unknown> {
  const object = optionalObject(value, path);
  if (object === undefined) throw new WireShapeError(path, "an object", value);
  return object;
}

/** An array, or undefined for undefined / null. */
export function optionalArray(value: unknown, path: string): readonly unknown[] | undefined {
  if (absent(value)) return undefined;
  if (!Array.isArray(value)) throw new WireShapeError(path, "an array", value);
  return value;
}

/** A string, or undefined for undefined / null. */
export function optionalString(value: unknown, path: string): string | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== "string") throw new WireShapeError(path, "a string", value);
  return value;
}

/** A token count (a finite number ≥ 0), or undefined for undefined / null. */
export function optionalCount(value: unknown, path: string): number | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw new WireShapeError(path, "a non-negative number", value);
  return value;
}
