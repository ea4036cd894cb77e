import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/**
 * Checks gateway keys in constant time: every presented key is hashed (so lengths never leak)
 * and compared with every configured key's hash, with no early exit.
 */
export class KeyChecker {
  readonly #digests: readonly Buffer[];
  /** Keys found right (only those: a wrong one always takes the constant-time path). */
  readonly #accepted = new Set<string>();

  constructor(keys: readonly string[]) {
    this.#digests = keys.map(digest);
  }

  /** Whether any key is configured (without one, the gateway only listens on loopback). */
  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /** Whether the request carries a configured key in `Authorization: Bearer` or `x-api-key`. */
  check(headers: IncomingHttpHeaders): boolean {
    if (this.#digests.length === 0) return true;
    const presented = presentedKey(headers);
    if (presented === undefined) return false;
    if (this.#accepted.has(presented)) return true;
    const candidate = digest(presented);
    let ok = false;
    for (const known of this.#digests) ok = timingSafeEqual(candidate, known) || ok;
    if (ok) this.#accepted.add(presented);
    return ok;
  }
}

function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined && /^bearer\s/i.test(authorization)) {
    return authorization.slice(7).trim();
  }
  const apiKey = headers["x-api-key"];
  return typeof apiKey === "string" ? apiKey.trim() : undefined;
}

/** Whether `host` is a loopback name or address (the only place a keyless gateway listens). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return (
    h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1"
  );
}
