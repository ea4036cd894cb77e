import { ConfigurationError } from "../../errors/errors.js";
import { getDefaultTransport } from "../../http/default-transport.js";
import { createFetchTransport } from "../../http/fetch-transport.js";
import { hasRateLimitInfo, parseRateLimitHeaders } from "../../http/rate-limit.js";
import { headerValue, type Transport, type TransportHeaders } from "../../http/transport.js";
import type {
  ChatMessage,
  ModelInfo,
  Provider,
  ProviderRequestOptions,
  ProviderResponse,
  ProviderStreamEvent,
  RateLimitInfo,
} from "../../types.js";
import { envPrefix, readEnv } from "../shared/env.js";
import { type HttpCall, requestJson, runSseStream } from "../shared/http-call.js";
import {
  checkMs,
  checkTokens,
  DEFAULT_TIMEOUT_MS,
  type ProviderOptions,
  trimBaseURL,
} from "../shared/provider-options.js";
import { AnthropicStreamDecoder } from "./anthropic-stream-decoder.js";
import type { AnthropicModelList } from "./anthropic-wire.js";
import { buildAnthropicRequest } from "./build-anthropic-request.js";
import { anthropicErrorFromResponse } from "./map-anthropic-error.js";
import { parseAnthropicResponse } from "./parse-anthropic-response.js";

/** The public Anthropic endpoint (its base URL has no `/v1`). */
export const ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com";

/** The `anthropic-version` header this provider speaks. */
export const ANTHROPIC_VERSION = "2023-06-01";

/** Options of {@link AnthropicProvider}. */
export interface AnthropicProviderOptions extends ProviderOptions {}

function requestId(headers: TransportHeaders): string | undefined {
  return headerValue(headers, "request-id") ?? headerValue(headers, "x-request-id");
}

function rateLimitOf(headers: TransportHeaders): RateLimitInfo | undefined {
  const info = parseRateLimitHeaders(headers);
  return hasRateLimitInfo(info) ? info : undefined;
}

/**
 * The Anthropic Messages API provider. Translates and transports; it never retries. Supports
 * assistant prefill (`options.prefill`: the response `content` is then the continuation only).
 *
 * The key comes from `apiKey`, else `ANTHROPIC_API_KEY`; a missing key throws
 * `ConfigurationError` when a request is made (constructing never throws for it; see
 * {@link AnthropicProvider.hasKey}). The key is held in a private field: it never appears in
 * errors, `JSON.stringify` or `util.inspect` output.
 *
 * @example
 * const claude = new AnthropicProvider();
 * const res = await claude.complete(
 *   [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }],
 *   { model: "claude-sonnet-4-20250514", maxTokens: 256 },
 * );
 */
export class AnthropicProvider implements Provider {
  /** The provider name in responses and errors. */
  readonly name: string;
  /** Claude models continue from an assistant prefill. */
  readonly supportsPrefill = true;
  /** The base URL requests go to (`{baseURL}/v1/messages`). */
  readonly baseURL: string;
  readonly #apiKey: string | undefined;
  /** The variable the key is read from (named in the missing-key error). */
  readonly #keyVariable: string;
  readonly #options: AnthropicProviderOptions;
  readonly #transport: Transport | undefined;
  readonly #messagesURL: string;

  /** @throws RangeError for an invalid timeout or token option. */
  constructor(options: AnthropicProviderOptions = {}) {
    checkMs("timeoutMs", options.timeoutMs);
    checkMs("connectTimeoutMs", options.connectTimeoutMs);
    checkMs("firstTokenTimeoutMs", options.firstTokenTimeoutMs);
    checkMs("idleTimeoutMs", options.idleTimeoutMs);
    checkTokens("maxTokens", options.maxTokens);
    this.name = options.name ?? "anthropic";
    this.#keyVariable = `${envPrefix(this.name, "anthropic")}_API_KEY`;
    this.#apiKey = options.apiKey ?? readEnv(this.#keyVariable, options.env);
    this.baseURL = trimBaseURL(
      options.baseURL ??
        readEnv(`${envPrefix(this.name, "anthropic")}_BASE_URL`, options.env) ??
        ANTHROPIC_DEFAULT_BASE_URL,
    );
    this.#messagesURL = `${this.baseURL}/v1/messages`;
    this.#options = options;
    this.#transport =
      options.transport ?? (options.fetch ? createFetchTransport(options.fetch) : undefined);
  }

  /** Whether an API key is configured (from the option or the environment). */
  get hasKey(): boolean {
    return this.#apiKey !== undefined && this.#apiKey !== "";
  }

  #headers(json: boolean): Record<string, string> {
    const key = this.#apiKey;
    if (key === undefined || key === "") {
      throw new ConfigurationError(
        `${this.name}: no API key: pass the apiKey option or set ${this.#keyVariable}`,
        { option: "apiKey" },
      );
    }
    const headers: Record<string, string> = {
      "x-api-key": key,
      "anthropic-version": ANTHROPIC_VERSION,
      accept: "application/json",
    };
    if (json) headers["content-type"] = "application/json";
    const extra = this.#options.headers;
    if (extra !== undefined) {
      for (const name in extra) headers[name.toLowerCase()] = extra[name] as string;
    }
    return headers;
  }

  #call(
    model: string,
    body: string | undefined,
    options: Partial<ProviderRequestOptions>,
    url: string,
  ): HttpCall {
    const secret = this.#apiKey;
    const provider = this.name;
    return {
      transport: this.#transport ?? getDefaultTransport(),
      provider,
      model,
      request:
        body === undefined
          ? { method: "GET", url, headers: this.#headers(false) }
          : { method: "POST", url, headers: this.#headers(true), body },
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      connectTimeoutMs: options.connectTimeoutMs ?? this.#options.connectTimeoutMs,
      toError: (status, text, headers) =>
        anthropicErrorFromResponse(status, text, headers, { provider, model, secret }),
    };
  }

  /**
   * One non-streaming Messages API call.
   * @throws the typed error of the failure (see SPEC §2); the caller's `signal.reason` on abort.
   */
  async complete(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): Promise<ProviderResponse> {
    const request = buildAnthropicRequest(messages, options, {
      stream: false,
      defaultMaxTokens: this.#options.maxTokens,
    });
    const result = await requestJson(
      this.#call(options.model, JSON.stringify(request.body), options, this.#messagesURL),
    );
    return parseAnthropicResponse(result.body, {
      provider: this.name,
      model: options.model,
      requestId: requestId(result.headers),
      rateLimit: rateLimitOf(result.headers),
      trimLeadingWhitespace: request.trimLeadingWhitespace,
    });
  }

  /**
   * One streaming Messages API call. The last event is `finish` with the whole response.
   * Failures follow the stream contract of `runSseStream`: typed errors before the first
   * content delta, `StreamInterruptedError` after it.
   */
  stream(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): AsyncIterable<ProviderStreamEvent> {
    const provider = this.name;
    const secret = this.#apiKey;
    let trimLeadingWhitespace = false;
    return runSseStream(
      () => {
        const request = buildAnthropicRequest(messages, options, {
          stream: true,
          defaultMaxTokens: this.#options.maxTokens,
        });
        trimLeadingWhitespace = request.trimLeadingWhitespace;
        return {
          ...this.#call(options.model, JSON.stringify(request.body), options, this.#messagesURL),
          firstTokenTimeoutMs: options.firstTokenTimeoutMs ?? this.#options.firstTokenTimeoutMs,
          idleTimeoutMs: options.idleTimeoutMs ?? this.#options.idleTimeoutMs,
        };
      },
      (headers) =>
        new AnthropicStreamDecoder(
          {
            provider,
            model: options.model,
            requestId: requestId(headers),
            rateLimit: rateLimitOf(headers),
            trimLeadingWhitespace,
          },
          { provider, model: options.model, secret },
        ),
    );
  }

  /** Every model the key may use (`GET {baseURL}/v1/models`, all pages). */
  async listModels(options: { readonly signal?: AbortSignal } = {}): Promise<ModelInfo[]> {
    const models: ModelInfo[] = [];
    let after: string | undefined;
    for (let page = 0; page < 100; page++) {
      const query =
        after === undefined ? "?limit=1000" : `?limit=1000&after_id=${encodeURIComponent(after)}`;
      const result = await requestJson(
        this.#call("", undefined, options, `${this.baseURL}/v1/models${query}`),
      );
      const list = (result.body ?? {}) as AnthropicModelList;
      for (const entry of Array.isArray(list.data) ? list.data : []) {
        if (typeof entry?.id !== "string") continue;
        const model: { -readonly [K in keyof ModelInfo]: ModelInfo[K] } = {
          id: entry.id,
          provider: this.name,
        };
        if (typeof entry.display_name === "string") model.displayName = entry.display_name;
        const created =
          typeof entry.created_at === "string" ? Date.parse(entry.created_at) : Number.NaN;
        if (!Number.isNaN(created)) model.createdAt = created;
        models.push(model);
      }
      const last = list.last_id ?? models[models.length - 1]?.id;
      if (list.has_more !== true || typeof last !== "string" || last === after) break;
      after = last;
    }
    return models;
  }

  /** A plain view for logs: never the key. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, baseURL: this.baseURL, hasKey: this.hasKey };
  }

  /** What `util.inspect` shows (never the key). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `AnthropicProvider ${JSON.stringify(this.toJSON())}`;
  }
}
