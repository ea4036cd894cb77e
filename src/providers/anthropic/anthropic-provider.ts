import type { ProviderError } from "../../errors/errors.js";
import type { TransportHeaders } from "../../http/transport.js";
import type {
  ChatMessage,
  ModelInfo,
  Provider,
  ProviderRequestOptions,
  ProviderResponse,
  ProviderStreamEvent,
} from "../../types.js";
import { requestJson, runSseBatches } from "../shared/http-call.js";
import { type ErrorContext, HttpProvider } from "../shared/http-provider.js";
import { joinURL, type ProviderOptions } from "../shared/provider-options.js";
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
export class AnthropicProvider extends HttpProvider implements Provider {
  /** Claude models continue from an assistant prefill. */
  readonly supportsPrefill = true;
  readonly #messagesURL: string;

  /** @throws RangeError for an invalid timeout or token option. */
  constructor(options: AnthropicProviderOptions = {}) {
    super(options, "anthropic", ANTHROPIC_DEFAULT_BASE_URL);
    this.#messagesURL = joinURL(this.baseURL, "/v1/messages");
  }

  protected authHeaders(apiKey: string | null): Record<string, string> {
    return apiKey === null
      ? { "anthropic-version": ANTHROPIC_VERSION }
      : { "x-api-key": apiKey, "anthropic-version": ANTHROPIC_VERSION };
  }

  protected errorFromResponse(
    status: number,
    bodyText: string,
    headers: TransportHeaders,
    context: ErrorContext,
  ): ProviderError {
    return anthropicErrorFromResponse(status, bodyText, headers, context);
  }

  /**
   * One non-streaming Messages API call.
   * @throws the typed error of the failure (see the failure table in the README); the caller's `signal.reason` on abort.
   */
  async complete(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): Promise<ProviderResponse> {
    const request = buildAnthropicRequest(messages, options, {
      stream: false,
      defaultMaxTokens: this.options.maxTokens,
    });
    const result = await requestJson(
      this.call(options.model, JSON.stringify(request.body), options, this.#messagesURL),
    );
    return parseAnthropicResponse(result.body, {
      provider: this.name,
      model: options.model,
      ...this.responseMeta(result.headers),
      trimLeadingWhitespace: request.trimLeadingWhitespace,
    });
  }

  /**
   * One streaming Messages API call. The last event is `finish` with the whole response.
   * Failures follow the stream contract of `runSseBatches`: typed errors before the first
   * content delta, `StreamInterruptedError` after it.
   * Yields the events of each network read as one batch; `stream()` (from the base) gives them
   * one by one.
   */
  streamBatches(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): AsyncIterable<readonly ProviderStreamEvent[]> {
    const provider = this.name;
    let trimLeadingWhitespace = false;
    return runSseBatches(
      () => {
        const request = buildAnthropicRequest(messages, options, {
          stream: true,
          defaultMaxTokens: this.options.maxTokens,
        });
        trimLeadingWhitespace = request.trimLeadingWhitespace;
        return this.streamCall(
          options.model,
          JSON.stringify(request.body),
          options,
          this.#messagesURL,
        );
      },
      (headers) =>
        new AnthropicStreamDecoder(
          {
            provider,
            model: options.model,
            ...this.responseMeta(headers),
            trimLeadingWhitespace,
          },
          this.errorContext(options.model),
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
        this.call("", undefined, options, joinURL(this.baseURL, "/v1/models", query.slice(1))),
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
}
