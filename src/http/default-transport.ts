import { createFetchTransport } from "./fetch-transport.js";
import type { Transport } from "./transport.js";

let registered: Transport | undefined;
let fallback: Transport | undefined;

/**
 * The transport providers use when given neither `transport` nor `fetch`: the one registered
 * with {@link setDefaultTransport} (the Node entry point registers the `node:http` transport),
 * else a fetch transport over `globalThis.fetch`.
 */
export function getDefaultTransport(): Transport {
  if (registered !== undefined) return registered;
  fallback ??= createFetchTransport();
  return fallback;
}

/**
 * Registers the transport providers use by default; `undefined` goes back to `fetch`.
 * Providers without their own transport look it up per request, so this applies to them too.
 *
 * @example
 * setDefaultTransport(createNodeTransport());
 */
export function setDefaultTransport(transport: Transport | undefined): void {
  registered = transport;
}
