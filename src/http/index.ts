/** The HTTP layer: transports, SSE decoding, rate-limit headers. Runtime-neutral (no `node:*`). */
export { getDefaultTransport, setDefaultTransport } from "./default-transport.js";
export { createFetchTransport, type FetchFunction } from "./fetch-transport.js";
export {
  type HeaderSource,
  parseGoDuration,
  parseRateLimitHeaders,
  type RetryAfterOptions,
  retryAfterMsFrom,
} from "./rate-limit.js";
export { createSseDecoder, type SseDecoder, type SseEvent, type SseHandlers } from "./sse.js";
export {
  headerValue,
  type Transport,
  type TransportHeaders,
  type TransportRequest,
  type TransportResponse,
} from "./transport.js";
