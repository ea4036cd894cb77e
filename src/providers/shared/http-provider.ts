import { ConfigurationError, type ProviderError } from "../../errors/errors.js";
import { getDefaultTransport } from "../../http/default-transport.js";
import { createFetchTransport } from "../../http/fetch-transport.js";
import { hasRateLimitInfo, parseRateLimitHeaders } from "../../http/rate-limit.js";
import type { Transport, TransportHeaders } from "../../http/transport.js";
import type {
  ChatMessage,
  ProviderRequestOptions,
  ProviderStreamEvent,
  RateLimitInfo,
} from "../../types.js";
import { envPrefix, readEnv } from "./env.js";
import { type ErrorContext, requestIdOf } from "./error-body.js";
import { flattenBatches, type HttpCall, type StreamCall } from "./http-call.js";
import {
  checkBytes,
  checkMs,
  checkTokens,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_MAX_SSE_EVENT_BYTES,
  DEFAULT_SILENT_TARGET_MS,
  DEFAULT_TIMEOUT_MS,
  type ProviderOptions,
  trimBaseURL,
} from "./provider-options.js";
import { checkApiKey, checkBaseURL, checkHeaders } from "./validate-settings.js";

/** Facts every response carries, read from its headers. */
export interface ResponseMeta {
  readonly requestId: string | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
}

/**
 * The request id (`x-request-id` or `request-id`) and rate-limit facts of a response. `secret`
 * (the API key) is removed from the request id, should a server echo it there.
 */
export function responseMeta(headers: TransportHeaders, secret?: string): ResponseMeta {
  const info = parseRateLimitHeaders(headers);
  return {
    requestId: requestIdOf(headers, secret),
    rateLimit: hasRateLimitInfo(info) ? info : undefined,
  };
}

/**
 * The plumbing the HTTP providers share: options checked once, the key and base URL from the
 * options or the environment (`<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL`), the transport, headers,
 * timeouts, and views for logs that never show the key (it lives in a `#private` field that
 * only this class reads).
 */
export type { ErrorContext };

export abstract class HttpProvider {
  /** The provider name in responses and errors. */
  readonly name: string;
  /** The base URL requests go to. */
  readonly baseURL: string;
  protected readonly options: ProviderOptions;
  readonly #apiKey: string | null | undefined;
  readonly #keyVariable: string;
  readonly #defaultBaseURL: string | undefined;
  readonly #transport: Transport | undefined;
  #jsonHeaders: Readonly<Record<string, string>> | undefined;
  #getHeaders: Readonly<Record<string, string>> | undefined;

  /**
   * @param prefix - The prefix of the environment variables. @default from the name and wire
   * @throws RangeError for an invalid timeout or token option; ConfigurationError for an invalid
   *   base URL, header or key (naming the option or the variable).
   */
  protected constructor(
    options: ProviderOptions,
    wire: "openai" | "anthropic",
    defaultBaseURL: string | undefined,
    prefix?: string,
  ) {
    checkMs("timeoutMs", options.timeoutMs);
    checkMs("connectTimeoutMs", options.connectTimeoutMs);
    checkMs("firstTokenTimeoutMs", options.firstTokenTimeoutMs);
    checkMs("idleTimeoutMs", options.idleTimeoutMs);
    checkMs("silentTargetMs", options.silentTargetMs);
    checkTokens("maxTokens", options.maxTokens);
    checkBytes("maxResponseBytes", options.maxResponseBytes);
    checkBytes("maxSseEventBytes", options.maxSseEventBytes);
    checkApiKey("apiKey", options.apiKey);
    checkBaseURL("baseURL", options.baseURL);
    checkHeaders("headers", options.headers);
    this.name = options.name ?? wire;
    const envPrefixOf = prefix ?? envPrefix(this.name, wire);
    this.#keyVariable = `${envPrefixOf}_API_KEY`;
    if (options.apiKey === null) this.#apiKey = null;
    else {
      this.#apiKey = options.apiKey ?? readEnv(this.#keyVariable, options.env);
      if (options.apiKey === undefined) checkApiKey(this.#keyVariable, this.#apiKey);
    }
    const fromEnv =
      options.baseURL === undefined ? readEnv(`${envPrefixOf}_BASE_URL`, options.env) : undefined;
    checkBaseURL(`${envPrefixOf}_BASE_URL`, fromEnv);
    this.#defaultBaseURL = defaultBaseURL;
    this.baseURL = trimBaseURL(options.baseURL ?? fromEnv ?? defaultBaseURL ?? "");
    this.options = options;
    this.#transport =
      options.transport ?? (options.fetch ? createFetchTransport(options.fetch) : undefined);
  }

  /**
   * Closes this provider's transport's idle keep-alive connections (a shared default
   * transport's too: other clients simply open new ones). Requests in flight are not touched.
   */
  closeIdleConnections(): void {
    (this.#transport ?? getDefaultTransport()).closeIdleConnections?.();
  }

  /** The request id and rate-limit facts of a response, the key removed from the id. */
  protected responseMeta(headers: TransportHeaders): ResponseMeta {
    return responseMeta(headers, this.#apiKey ?? undefined);
  }

  /**
   * True when requests go to the provider's public endpoint. State (breakers, cooldowns,
   * budgets) learnt on any other endpoint is kept under a key that names it.
   */
  get isDefaultEndpoint(): boolean {
    return this.#defaultBaseURL !== undefined && this.baseURL === trimBaseURL(this.#defaultBaseURL);
  }

  /** Whether an API key is configured (from the option or the environment). */
  get hasKey(): boolean {
    return this.#apiKey === null || (this.#apiKey !== undefined && this.#apiKey !== "");
  }

  /** One streaming call, its events in batches (one per network read). */
  abstract streamBatches(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): AsyncIterable<readonly ProviderStreamEvent[]>;

  /** One streaming call, event by event. The last event is `finish` with the whole response. */
  stream(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): AsyncIterable<ProviderStreamEvent> {
    return flattenBatches(this.streamBatches(messages, options));
  }

  /**
   * The headers that carry the key (e.g. `authorization`, `x-api-key`) and the wire's own;
   * `apiKey` is null for an endpoint that needs no key (send no auth header then).
   */
  protected abstract authHeaders(apiKey: string | null): Record<string, string>;

  /** Maps a non-2xx response to its typed error. */
  protected abstract errorFromResponse(
    status: number,
    bodyText: string,
    headers: TransportHeaders,
    context: ErrorContext,
  ): ProviderError;

  /** The context decoders need to map in-band errors (and redact the key from them). */
  protected errorContext(model: string): ErrorContext {
    return { provider: this.name, model, secret: this.#apiKey ?? undefined };
  }

  /**
   * One HTTP call: a `POST` of `body` (JSON text), or a `GET` when `body` is undefined.
   * @throws ConfigurationError naming the option and the variable when no key is configured.
   */
  protected call(
    model: string,
    body: string | undefined,
    options: Partial<ProviderRequestOptions>,
    url: string,
  ): HttpCall {
    // Built only when a response fails: what the request needs from a token limit is its
    // text / 4 plus its output limit.
    const context = (): ErrorContext =>
      body === undefined
        ? this.errorContext(model)
        : {
            ...this.errorContext(model),
            tokensNeeded:
              Math.ceil(body.length / 4) + (options.maxTokens ?? this.options.maxTokens ?? 0),
          };
    return {
      transport: this.#transport ?? getDefaultTransport(),
      provider: this.name,
      model,
      request:
        body === undefined
          ? { method: "GET", url, headers: this.#headers(false) }
          : { method: "POST", url, headers: this.#headers(true), body },
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      connectTimeoutMs: options.connectTimeoutMs ?? this.options.connectTimeoutMs,
      maxResponseBytes: this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      silentTargetMs:
        options.silentTargetMs ?? this.options.silentTargetMs ?? DEFAULT_SILENT_TARGET_MS,
      toError: (status, text, headers) => this.errorFromResponse(status, text, headers, context()),
    };
  }

  /** A streaming call: {@link call} plus the first-token and idle clocks. */
  protected streamCall(
    model: string,
    body: string,
    options: ProviderRequestOptions,
    url: string,
  ): StreamCall {
    return {
      ...this.call(model, body, options, url),
      firstTokenTimeoutMs: options.firstTokenTimeoutMs ?? this.options.firstTokenTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      maxSseEventBytes: this.options.maxSseEventBytes ?? DEFAULT_MAX_SSE_EVENT_BYTES,
    };
  }

  /** The request headers: built once per kind (with or without a JSON body), then shared. */
  #headers(json: boolean): Readonly<Record<string, string>> {
    const cached = json ? this.#jsonHeaders : this.#getHeaders;
    if (cached !== undefined) return cached;
    const key = this.#apiKey;
    if (key !== null && (key === undefined || key === "")) {
      throw new ConfigurationError(
        `${this.name}: no API key: pass the apiKey option or set ${this.#keyVariable}`,
        { option: "apiKey" },
      );
    }
    const headers: Record<string, string> = {
      ...this.authHeaders(key),
      accept: "application/json",
    };
    if (json) headers["content-type"] = "application/json";
    const extra = this.options.headers;
    if (extra !== undefined) {
      for (const name in extra) headers[name.toLowerCase()] = extra[name] as string;
    }
    Object.freeze(headers);
    if (json) this.#jsonHeaders = headers;
    else this.#getHeaders = headers;
    return headers;
  }

  /** A plain view for logs: never the key. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, baseURL: this.baseURL, hasKey: this.hasKey };
  }

  /** What `util.inspect` shows (never the key). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `${this.constructor.name} ${JSON.stringify(this.toJSON())}`;
  }
}
