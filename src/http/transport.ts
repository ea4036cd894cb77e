/**
 * The transport seam: the one place bytes cross the network. Providers build a request
 * (method, URL, headers, JSON text) and read back a status, headers and a body, whole or as a
 * stream of decoded text chunks. Timeouts, error translation and retries live above it; a
 * transport only moves bytes and honours its `signal`.
 *
 * Two implementations: `createFetchTransport()` (any runtime with `fetch`) and
 * `createNodeTransport()` (Node's `node:http`/`node:https` with a keep-alive agent).
 */

/**
 * Response headers with lower-case names. A header sent several times may appear as an array
 * (Node does this for `set-cookie`); read single values with {@link headerValue}.
 */
export type TransportHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * What a transport needs of an abort signal. A real `AbortSignal` fits; the providers pass a
 * lighter one (an `AbortController` per request costs more CPU than the rest of a provider's
 * work on a request).
 */
export interface TransportSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(
    type: "abort",
    listener: () => void,
    options?: { readonly once?: boolean },
  ): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** One HTTP request as a transport sees it. */
export interface TransportRequest {
  readonly method: "GET" | "POST";
  /** The absolute URL. */
  readonly url: string;
  /** Request headers. They may hold credentials: a transport never puts them in an error. */
  readonly headers: Readonly<Record<string, string>>;
  /** The request body (JSON text), for `POST`. */
  readonly body?: string;
  /**
   * Aborting it cancels the request, or the body when the headers already arrived: the pending
   * promise or the body iteration rejects (with any error; the caller knows why it aborted).
   */
  readonly signal?: TransportSignal;
}

/** A response whose headers arrived. Read the body once, with `text()` or `stream()`. */
export interface TransportResponse {
  readonly status: number;
  readonly headers: TransportHeaders;
  /**
   * The whole body, decoded as UTF-8. With `maxBytes`, a body longer than that many bytes is
   * cancelled as soon as it passes the limit and the promise rejects with
   * {@link BodyTooLargeError}: a server that keeps sending cannot exhaust memory.
   */
  text(options?: { readonly maxBytes?: number }): Promise<string>;
  /**
   * The body as UTF-8 text chunks split anywhere (never inside a character). Leaving the
   * iteration early (`break`, `return()`) cancels the body.
   */
  stream(): AsyncIterable<string>;
  /** Cancels the body without reading it. Safe to call at any time, more than once. */
  cancel(): void;
}

/**
 * Moves one request and its response. Rejects when the request cannot be sent or no headers
 * arrive (network failure: an `Error` with a `code` such as `ECONNREFUSED` where known, possibly
 * as its `cause`), or when `signal` aborts.
 */
export interface Transport {
  request(request: TransportRequest): Promise<TransportResponse>;
  /**
   * Optional: closes the connections kept alive for reuse that no request is using (requests in
   * flight are left alone; later requests open new connections).
   */
  closeIdleConnections?(): void;
}

/** A body passed the `maxBytes` given to {@link TransportResponse.text}. */
export class BodyTooLargeError extends Error {
  readonly code = "ERR_BODY_TOO_LARGE";
  /** The limit that was passed, in bytes. */
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`the response body is longer than ${maxBytes} bytes`);
    this.name = "BodyTooLargeError";
    this.maxBytes = maxBytes;
  }
}

/**
 * The value of a header (name in lower case), the first one when it was sent several times.
 *
 * @example
 * headerValue(response.headers, "retry-after") // "2"
 */
export function headerValue(headers: TransportHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined || typeof value === "string") return value;
  return value[0];
}
