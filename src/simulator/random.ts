/**
 * Deterministic randomness for chaos: a value is a pure function of the seed, the model and
 * the request's number for that model, so the same seed gives the same faults whatever the
 * order in which concurrent requests for different models arrive.
 */

function fmix32(input: number): number {
  let h = input | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a hash of a string, 32 bits. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A uniform number in [0, 1) determined by `seed`, `key`, `index` and `salt` alone.
 *
 * @example deterministicRandom(42, "gpt-4o", 3, 0) // same value on every run
 */
export function deterministicRandom(seed: number, key: string, index: number, salt = 0): number {
  let h = fmix32(seed ^ 0x9e3779b9);
  h = fmix32(h ^ hashString(key));
  h = fmix32(h ^ Math.imul(index + 1, 0x27d4eb2d));
  h = fmix32(h ^ Math.imul(salt + 1, 0x165667b1));
  return h / 0x1_0000_0000;
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A deterministic id suffix of `length` base-62 characters derived from `n`. */
export function idChars(n: number, length: number, alphabet = ALPHABET): string {
  let out = "";
  let h = fmix32(n + 0x632be5ab);
  for (let i = 0; i < length; i++) {
    if (i % 5 === 0) h = fmix32(h + i + n);
    out += alphabet[h % alphabet.length];
    h = Math.floor(h / alphabet.length);
  }
  return out;
}
