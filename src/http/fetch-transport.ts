import type {
  Transport,
  TransportHeaders,
  TransportRequest,
  TransportResponse,
  TransportSignal,
} from "./transport.js";

/** The subset of the WHATWG `fetch` this transport calls (so a test double or a proxy fits). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/**
 * A transport over `fetch`: runs on Node, Bun, Deno, browsers and edge runtimes. Used by default
 * outside Node, and whenever a `fetch` is passed to a provider (proxies, tests).
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
      const init: RequestInit = { method: request.method, headers: request.headers };
      if (request.body !== undefined) init.body = request.body;
      if (request.signal !== undefined) init.signal = toAbortSignal(request.signal);
      const response = await fetchImpl(request.url, init);
      return new FetchTransportResponse(response, request.signal);
    },
  };
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

  async text(): Promise<string> {
    // Through stream(), not Response.text(): some fetch implementations (and test doubles)
    // stop honouring the signal once the headers arrived.
    let text = "";
    for await (const chunk of this.stream()) text += chunk;
    return text;
  }

  async *stream(): AsyncIterable<string> {
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
