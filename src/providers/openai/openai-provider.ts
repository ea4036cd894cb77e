import { BadRequestError, ConfigurationError } from "../../errors/errors.js";
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
import { buildOpenAIRequest, type MaxTokensField } from "./build-openai-request.js";
import { openAIErrorFromResponse } from "./map-openai-error.js";
import { OpenAIStreamDecoder } from "./openai-stream-decoder.js";
import type { OpenAIModelList } from "./openai-wire.js";
import { parseOpenAIResponse } from "./parse-openai-response.js";

/** The public OpenAI endpoint (its base URL includes `/v1`). */
export const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";

/** Options of {@link OpenAIProvider}. */
export interface OpenAIProviderOptions extends ProviderOptions {
  /** Sent as `OpenAI-Organization`. @default the `OPENAI_ORG_ID` environment variable */
  readonly organization?: string;
  /**
   * The body field for the output token limit. @default "max_completion_tokens" on
   * api.openai.com (its reasoning and newest models reject `max_tokens`), "max_tokens" on any
   * other base URL (what OpenAI-compatible servers widely accept)
   */
  readonly maxTokensField?: MaxTokensField;
}

function requestId(headers: TransportHeaders): string | undefined {
  return headerValue(headers, "x-request-id") ?? headerValue(headers, "request-id");
}

function rateLimitOf(headers: TransportHeaders): RateLimitInfo | undefined {
  const info = parseRateLimitHeaders(headers);
  return hasRateLimitInfo(info) ? info : undefined;
}

/**
 * The OpenAI Chat Completions provider; also any OpenAI-compatible endpoint (give `baseURL`
 * and a `name`). Translates and transports; it never retries.
 *
 * The key comes from `apiKey`, else `OPENAI_API_KEY`; a missing key throws
 * `ConfigurationError` when a request is made (constructing never throws for it; see
 * {@link OpenAIProvider.hasKey}). The key is held in a private field: it never appears in
 * errors, `JSON.stringify` or `util.inspect` output.
 *
 * @example
 * const openai = new OpenAIProvider({ timeoutMs: 30_000 });
 * const res = await openai.complete([{ role: "user", content: "Hi" }], { model: "gpt-4o-mini" });
 * @example
 * const groq = new OpenAIProvider({ name: "groq", baseURL: "https://api.groq.com/openai/v1", apiKey });
 */
export class OpenAIProvider implements Provider {
  /** The provider name in responses and errors. */
  readonly name: string;
  /** OpenAI has no assistant prefill. */
  readonly supportsPrefill = false;
  /** The base URL requests go to (`{baseURL}/chat/completions`). */
  readonly baseURL: string;
  readonly #apiKey: string | undefined;
  /** The variable the key is read from (named in the missing-key error). */
  readonly #keyVariable: string;
  readonly #organization: string | undefined;
  readonly #options: OpenAIProviderOptions;
  readonly #transport: Transport | undefined;
  readonly #maxTokensField: MaxTokensField;
  readonly #completionsURL: string;

  /** @throws RangeError for an invalid timeout or token option. */
  constructor(options: OpenAIProviderOptions = {}) {
    checkMs("timeoutMs", options.timeoutMs);
    checkMs("connectTimeoutMs", options.connectTimeoutMs);
    checkMs("firstTokenTimeoutMs", options.firstTokenTimeoutMs);
    checkMs("idleTimeoutMs", options.idleTimeoutMs);
    checkTokens("maxTokens", options.maxTokens);
    this.name = options.name ?? "openai";
    this.#keyVariable = `${envPrefix(this.name, "openai")}_API_KEY`;
    this.#apiKey = options.apiKey ?? readEnv(this.#keyVariable, options.env);
    this.#organization =
      options.organization ??
      (this.name === "openai" ? readEnv("OPENAI_ORG_ID", options.env) : undefined);
    this.baseURL = trimBaseURL(
      options.baseURL ??
        readEnv(`${envPrefix(this.name, "openai")}_BASE_URL`, options.env) ??
        OPENAI_DEFAULT_BASE_URL,
    );
    this.#completionsURL = `${this.baseURL}/chat/completions`;
    this.#options = options;
    this.#transport =
      options.transport ?? (options.fetch ? createFetchTransport(options.fetch) : undefined);
    this.#maxTokensField =
      options.maxTokensField ??
      (/^https?:\/\/api\.openai\.com(\/|$)/.test(this.baseURL)
        ? "max_completion_tokens"
        : "max_tokens");
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
      authorization: `Bearer ${key}`,
      accept: "application/json",
    };
    if (json) headers["content-type"] = "application/json";
    if (this.#organization !== undefined) headers["openai-organization"] = this.#organization;
    const extra = this.#options.headers;
    if (extra !== undefined)
      for (const name in extra) headers[name.toLowerCase()] = extra[name] as string;
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
        openAIErrorFromResponse(status, text, headers, { provider, model, secret }),
    };
  }

  #checkPrefill(options: ProviderRequestOptions): void {
    if (options.prefill !== undefined && options.prefill !== "") {
      throw new BadRequestError({
        provider: this.name,
        model: options.model,
        code: "prefill_unsupported",
        providerMessage: "this provider does not support assistant prefill",
      });
    }
  }

  /**
   * One non-streaming Chat Completions call.
   * @throws the typed error of the failure (see SPEC §2); the caller's `signal.reason` on abort.
   */
  async complete(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): Promise<ProviderResponse> {
    this.#checkPrefill(options);
    const body = buildOpenAIRequest(messages, options, {
      stream: false,
      defaultMaxTokens: this.#options.maxTokens,
      maxTokensField: this.#maxTokensField,
    });
    const result = await requestJson(
      this.#call(options.model, JSON.stringify(body), options, this.#completionsURL),
    );
    return parseOpenAIResponse(result.body, {
      provider: this.name,
      model: options.model,
      requestId: requestId(result.headers),
      rateLimit: rateLimitOf(result.headers),
    });
  }

  /**
   * One streaming Chat Completions call (`stream_options.include_usage` on). The last event is
   * `finish` with the whole response. Failures follow the stream contract of `runSseStream`:
   * typed errors before the first content delta, `StreamInterruptedError` after it.
   */
  stream(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): AsyncIterable<ProviderStreamEvent> {
    const provider = this.name;
    const secret = this.#apiKey;
    return runSseStream(
      () => {
        this.#checkPrefill(options);
        const body = buildOpenAIRequest(messages, options, {
          stream: true,
          defaultMaxTokens: this.#options.maxTokens,
          maxTokensField: this.#maxTokensField,
        });
        return {
          ...this.#call(options.model, JSON.stringify(body), options, this.#completionsURL),
          firstTokenTimeoutMs: options.firstTokenTimeoutMs ?? this.#options.firstTokenTimeoutMs,
          idleTimeoutMs: options.idleTimeoutMs ?? this.#options.idleTimeoutMs,
        };
      },
      (headers) =>
        new OpenAIStreamDecoder(
          {
            provider,
            model: options.model,
            requestId: requestId(headers),
            rateLimit: rateLimitOf(headers),
          },
          { provider, model: options.model, secret },
        ),
    );
  }

  /** The models the key may use (`GET {baseURL}/models`). */
  async listModels(options: { readonly signal?: AbortSignal } = {}): Promise<ModelInfo[]> {
    const result = await requestJson(this.#call("", undefined, options, `${this.baseURL}/models`));
    const list = (result.body ?? {}) as OpenAIModelList;
    const models: ModelInfo[] = [];
    for (const entry of Array.isArray(list.data) ? list.data : []) {
      if (typeof entry?.id !== "string") continue;
      const model: { -readonly [K in keyof ModelInfo]: ModelInfo[K] } = {
        id: entry.id,
        provider: this.name,
      };
      if (typeof entry.created === "number") model.createdAt = entry.created * 1000;
      models.push(model);
    }
    return models;
  }

  /** A plain view for logs: never the key. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, baseURL: this.baseURL, hasKey: this.hasKey };
  }

  /** What `util.inspect` shows (never the key). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `OpenAIProvider ${JSON.stringify(this.toJSON())}`;
  }
}
