import { BadRequestError, type ProviderError } from "../../errors/errors.js";
import type { TransportHeaders } from "../../http/transport.js";
import type {
  ChatMessage,
  ModelInfo,
  Provider,
  ProviderRequestOptions,
  ProviderResponse,
  ProviderStreamEvent,
} from "../../types.js";
import { readEnv } from "../shared/env.js";
import { requestJson, runSseBatches } from "../shared/http-call.js";
import { type ErrorContext, HttpProvider } from "../shared/http-provider.js";
import { joinURL, type ProviderOptions } from "../shared/provider-options.js";
import { checkText } from "../shared/validate-settings.js";
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
  readonly organization?: string | undefined;
  /**
   * Forces the body field of the output token limit. @default by model family on any host:
   * `max_completion_tokens` for the reasoning families (`o1`, `o3`, `o4`, `gpt-5`, which reject
   * `max_tokens`) and for every model on api.openai.com; `max_tokens` for other models on other
   * hosts (what OpenAI-compatible servers widely accept)
   */
  readonly maxTokensField?: MaxTokensField | undefined;
}

/** Model ids of the reasoning families, which take `max_completion_tokens` only. */
const REASONING_MODEL = /^(?:o[1-9](?:$|[-.])|gpt-5(?:$|[-.]))/;

/**
 * Whether `model` belongs to a reasoning family (`o1`, `o3`, `o4`, `gpt-5`…), whatever the
 * host: a router prefix (`openai/o3-mini`) and case are ignored.
 */
export function isReasoningModel(model: string): boolean {
  const id = model.slice(model.lastIndexOf("/") + 1).toLowerCase();
  return REASONING_MODEL.test(id);
}

/**
 * The OpenAI Chat Completions provider; also any OpenAI-compatible endpoint (give `baseURL`
 * and a `name`; `apiKey: null` for one that needs no key). Translates and transports; it never
 * retries. A base URL with a query string keeps it on every request.
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
 * @example
 * const ollama = new OpenAIProvider({ name: "ollama", baseURL: "http://localhost:11434/v1", apiKey: null });
 */
export class OpenAIProvider extends HttpProvider implements Provider {
  /** OpenAI has no assistant prefill. */
  readonly supportsPrefill = false;
  readonly #organization: string | undefined;
  readonly #maxTokensField: MaxTokensField | undefined;
  readonly #onOpenAI: boolean;
  readonly #completionsURL: string;
  readonly #fieldByModel = new Map<string, MaxTokensField>();

  /**
   * @throws RangeError for an invalid timeout or token option; ConfigurationError for an
   *   invalid base URL, header or key.
   */
  constructor(
    options: OpenAIProviderOptions = {},
    wire?: { readonly defaultBaseURL: string | undefined; readonly envPrefix: string },
  ) {
    super(options, "openai", wire ? wire.defaultBaseURL : OPENAI_DEFAULT_BASE_URL, wire?.envPrefix);
    checkText("organization", options.organization);
    this.#organization =
      options.organization ??
      (this.name === "openai" ? readEnv("OPENAI_ORG_ID", options.env) : undefined);
    this.#completionsURL = joinURL(this.baseURL, "/chat/completions");
    this.#maxTokensField = options.maxTokensField;
    this.#onOpenAI = /^https?:\/\/api\.openai\.com(\/|$|\?)/.test(this.baseURL);
  }

  /** The URL of a Chat Completions request for `model`. */
  protected chatURL(_model: string): string {
    return this.#completionsURL;
  }

  /** The URL of the model list. */
  protected modelsURL(): string {
    return joinURL(this.baseURL, "/models");
  }

  /** The body field of the output token limit for `model`. */
  protected maxTokensFieldFor(model: string): MaxTokensField {
    if (this.#maxTokensField !== undefined) return this.#maxTokensField;
    if (this.#onOpenAI) return "max_completion_tokens";
    // By model id, worked out once per model (a regular expression on every request otherwise).
    let field = this.#fieldByModel.get(model);
    if (field === undefined) {
      field = isReasoningModel(model) ? "max_completion_tokens" : "max_tokens";
      if (this.#fieldByModel.size >= 1024) this.#fieldByModel.clear();
      this.#fieldByModel.set(model, field);
    }
    return field;
  }

  protected authHeaders(apiKey: string | null): Record<string, string> {
    const headers: Record<string, string> =
      apiKey === null ? {} : { authorization: `Bearer ${apiKey}` };
    if (this.#organization !== undefined) headers["openai-organization"] = this.#organization;
    return headers;
  }

  protected errorFromResponse(
    status: number,
    bodyText: string,
    headers: TransportHeaders,
    context: ErrorContext,
  ): ProviderError {
    return openAIErrorFromResponse(status, bodyText, headers, context);
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
   * @throws the typed error of the failure (see the failure table in the README); the caller's `signal.reason` on abort.
   */
  async complete(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): Promise<ProviderResponse> {
    this.#checkPrefill(options);
    const body = buildOpenAIRequest(messages, options, {
      stream: false,
      defaultMaxTokens: this.options.maxTokens,
      maxTokensField: this.maxTokensFieldFor(options.model),
    });
    const result = await requestJson(
      this.call(options.model, JSON.stringify(body), options, this.chatURL(options.model)),
    );
    return parseOpenAIResponse(result.body, {
      provider: this.name,
      model: options.model,
      ...this.responseMeta(result.headers),
    });
  }

  /**
   * One streaming Chat Completions call (`stream_options.include_usage` on). The last event is
   * `finish` with the whole response. Failures follow the stream contract of `runSseBatches`:
   * typed errors before the first content delta, `StreamInterruptedError` after it.
   * Yields the events of each network read as one batch; `stream()` (from the base) gives them
   * one by one.
   */
  streamBatches(
    messages: readonly ChatMessage[],
    options: ProviderRequestOptions,
  ): AsyncIterable<readonly ProviderStreamEvent[]> {
    const provider = this.name;
    return runSseBatches(
      () => {
        this.#checkPrefill(options);
        const body = buildOpenAIRequest(messages, options, {
          stream: true,
          defaultMaxTokens: this.options.maxTokens,
          maxTokensField: this.maxTokensFieldFor(options.model),
        });
        return this.streamCall(
          options.model,
          JSON.stringify(body),
          options,
          this.chatURL(options.model),
        );
      },
      (headers) =>
        new OpenAIStreamDecoder(
          {
            provider,
            model: options.model,
            ...this.responseMeta(headers),
          },
          this.errorContext(options.model),
        ),
    );
  }

  /** The models the key may use (`GET {baseURL}/models`). */
  async listModels(options: { readonly signal?: AbortSignal } = {}): Promise<ModelInfo[]> {
    const result = await requestJson(this.call("", undefined, options, this.modelsURL()));
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
}
