import {
  BodyTooLargeError,
  type Transport,
  type TransportHeaders,
  type TransportRequest,
  type TransportResponse,
  type TransportSignal,
} from "./transport.js";

/** Same-origin redirects followed per request, at most. */
const MAX_REDIRECTS = 5;

/** The subset of the WHATWG `fetch` this transport calls (so a test double or a proxy fits). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/**
 * A transport over `fetch`: runs on Node, Bun, Deno, browsers and edge runtimes. Used by default
 * outside Node, and whenever a `fetch` is passed to a provider (proxies, tests).
 *
 * Redirects: requests go with `redirect: "manual"`. A redirect that stays on the request's
 * origin (scheme, host and port) is followed, up to 5 times (303 turns into a `GET`); any other
 * is returned as it is (a 3xx response, which the providers turn into a typed error), so
 * credentials and the prompt never travel to a host that was not configured.
 *
 * @param fetchFunction - The `fetch` to call. @default globalThis.fetch (looked up per request,
 *   so a later-installed polyfill or mock is honoured)
 * @example
 * const transport = createFetchTransport(myProxyFetch);
 */
export function createFetchTransport(fetchFunction?: FetchFunction): Transport {
  return {
    async request(request: TransportRequest): Promise<TransportResponse> {
      const fetchImpl = fetchFunction ?? (globalThis.fetch as FetchFunction | undefined);
      if (typeof fetchImpl !== "function") {
        throw new TypeError("no fetch available: pass one with the `fetch` option");
      }
      const init: RequestInit = {
        method: request.method,
        headers: request.headers,
        redirect: "manual",
      };
      if (request.body !== undefined) init.body = request.body;
      if (request.signal !== undefined) init.signal = toAbortSignal(request.signal);
      let url = request.url;
      let response = await fetchImpl(url, init);
      for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
        const next = sameOriginRedirect(url, response);
        if (next === undefined) break;
        await response.body?.cancel().catch(() => {});
        if (response.status === 303) {
          init.method = "GET";
          delete init.body;
        }
        url = next;
        response = await fetchImpl(url, init);
      }
      return new FetchTransportResponse(response, request.signal);
    },
  };
}

/** The URL a redirect points to when it stays on the origin of `from`, else undefined. */
function sameOriginRedirect(from: string, response: Response): string | undefined {
  const status = response.status;
  if (status !== 301 && status !== 302 && status !== 303 && status !== 307 && status !== 308) {
    return undefined;
  }
  const location = response.headers.get("location");
  if (location === null) return undefined;
  try {
    const origin = new URL(from);
    const target = new URL(location, origin);
    return target.origin === origin.origin ? target.href : undefined;
  } catch {
    return undefined;
  }
}

/** `fetch` takes a real `AbortSignal`: link one to a lighter transport signal. */
function toAbortSignal(signal: TransportSignal): AbortSignal {
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  return controller.signal;
}

class FetchTransportResponse implements TransportResponse {
  readonly status: number;
  readonly headers: TransportHeaders;
  readonly #response: Response;
  readonly #signal: TransportSignal | undefined;

  constructor(response: Response, signal: TransportSignal | undefined) {
    this.#response = response;
    this.#signal = signal;
    this.status = response.status;
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    this.headers = headers;
  }

  async text(options?: { readonly maxBytes?: number }): Promise<string> {
    // Through the reader, not Response.text(): some fetch implementations (and test doubles)
    // stop honouring the signal once the headers arrived; and the limit is checked per chunk.
    const maxBytes = options?.maxBytes ?? Number.POSITIVE_INFINITY;
    let text = "";
    let bytes = 0;
    for await (const chunk of this.#chunks((length) => {
      bytes += length;
      if (bytes > maxBytes) throw new BodyTooLargeError(maxBytes);
    }))
      text += chunk;
    return text;
  }

  stream(): AsyncIterable<string> {
    return this.#chunks(undefined);
  }

  async *#chunks(count: ((bytes: number) => void) | undefined): AsyncIterable<string> {
    const body = this.#response.body;
    if (body === null) return;
    const reader = body.getReader();
    const decoder = new TextDecoder();
    // Some fetch implementations (and test doubles) ignore the signal once the body is
    // streaming: cancel the reader ourselves so a pending read settles.
    const signal = this.#signal;
    const onAbort = () => {
      reader.cancel(signal?.reason).catch(() => {});
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    let done = false;
    try {
      if (signal?.aborted) throw signal.reason;
      for (;;) {
        const chunk = await reader.read();
        if (signal?.aborted) throw signal.reason;
        if (chunk.done) break;
        count?.(chunk.value.byteLength);
        const text = decoder.decode(chunk.value, { stream: true });
        if (text !== "") yield text;
      }
      done = true;
      const tail = decoder.decode();
      if (tail !== "") yield tail;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (!done) reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }

  cancel(): void {
    const body = this.#response.body;
    if (body !== null && !body.locked) body.cancel().catch(() => {});
  }
}
