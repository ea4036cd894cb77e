/**
 * Checks of what a server sent, for the parsers of 200 bodies and stream chunks. A value of the
 * wrong type throws {@link WireShapeError}, whose message names the field and the type found —
 * never the value (it may hold anything) — and which the providers turn into a `ServerError`
 * with code `invalid_response`.
 */

/** A field of a 200 body or stream chunk has the wrong type. */
export class WireShapeError extends TypeError {
  constructor(path: string, expected: string, value: unknown) {
    super(`${path} is ${describeType(value)}, expected ${expected}`);
    this.name = "WireShapeError";
  }
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/** An object (not an array), or undefined for `undefined` / `null`. */
export function optionalObject(value: unknown, path: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value))
    throw new WireShapeError(path, "an object", value);
  return value as Record<string, unknown>;
}

/** An object (not an array, not `null`). */
export function requiredObject(value: unknown, path: string): Record<string, unknown> {
  const object = optionalObject(value, path);
  if (object === undefined) throw new WireShapeError(path, "an object", value);
  return object;
}

/** An array, or undefined for `undefined` / `null`. */
export function optionalArray(value: unknown, path: string): readonly unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new WireShapeError(path, "an array", value);
  return value;
}

/** A string, or undefined for `undefined` / `null`. */
export function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new WireShapeError(path, "a string", value);
  return value;
}

/** A token count: a finite number ≥ 0, or undefined for `undefined` / `null`. */
export function optionalCount(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new WireShapeError(path, "a non-negative number", value);
  }
  return value;
}
