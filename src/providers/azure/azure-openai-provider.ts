import { ConfigurationError } from "../../errors/errors.js";
import { OpenAIProvider, type OpenAIProviderOptions } from "../openai/openai-provider.js";
import { envPrefix, readEnv } from "../shared/env.js";
import { joinURL, trimBaseURL } from "../shared/provider-options.js";
import { checkBaseURL, checkText } from "../shared/validate-settings.js";

/** The Azure OpenAI data-plane API version used when none is given (the latest GA one). */
export const AZURE_DEFAULT_API_VERSION = "2024-10-21";

/** Options of {@link AzureOpenAIProvider}. */
export interface AzureOpenAIProviderOptions extends OpenAIProviderOptions {
  /**
   * The resource endpoint, e.g. `https://my-resource.openai.azure.com`. Give it or `baseURL`.
   * @default the `AZURE_OPENAI_ENDPOINT` environment variable (for the provider named "azure")
   */
  readonly endpoint?: string | undefined;
  /**
   * The `api-version` query parameter.
   * @default the `AZURE_OPENAI_API_VERSION` or `OPENAI_API_VERSION` variable, else "2024-10-21"
   */
  readonly apiVersion?: string | undefined;
  /** The deployment to call. @default the call's model name (deployments are often named so) */
  readonly deployment?: string | undefined;
}

/**
 * Azure OpenAI: the Chat Completions wire at deployment URLs
 * (`{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`), with the key
 * in an `api-key` header. Errors (Azure's `{ error: { code, message, innererror } }` bodies,
 * content-filter refusals) map like OpenAI's.
 *
 * The key comes from `apiKey`, else `AZURE_OPENAI_API_KEY` (for the provider named "azure"; any
 * other name reads `<NAME>_API_KEY`). `baseURL` may be given instead of `endpoint`: either the
 * `…/openai` root (deployments are appended) or one deployment's URL (`…/deployments/x`).
 *
 * @example
 * const azure = new AzureOpenAIProvider({ endpoint: "https://my-resource.openai.azure.com", apiKey, deployment: "gpt-4o" });
 */
export class AzureOpenAIProvider extends OpenAIProvider {
  readonly #apiVersion: string;
  readonly #deployment: string | undefined;
  /** The `…/openai` root, or one deployment's URL (no query). */
  readonly #root: string;
  readonly #fixedDeployment: boolean;
  readonly #urls = new Map<string, string>();

  /** @throws ConfigurationError when no endpoint is configured, or for an invalid setting. */
  constructor(options: AzureOpenAIProviderOptions = {}) {
    const name = options.name ?? "azure";
    const prefix = name === "azure" ? "AZURE_OPENAI" : envPrefix(name, "openai");
    checkBaseURL("endpoint", options.endpoint);
    const endpoint =
      options.endpoint ??
      (options.baseURL === undefined ? readEnv(`${prefix}_ENDPOINT`, options.env) : undefined);
    checkBaseURL(`${prefix}_ENDPOINT`, endpoint);
    const baseURL =
      options.baseURL ?? (endpoint === undefined ? undefined : `${trimBaseURL(endpoint)}/openai`);
    super(
      { ...options, name, ...(baseURL === undefined ? {} : { baseURL }) },
      {
        defaultBaseURL: undefined,
        envPrefix: prefix,
      },
    );
    if (this.baseURL === "") {
      throw new ConfigurationError(
        `${name}: no Azure endpoint: pass the endpoint option (https://<resource>.openai.azure.com) or set ${prefix}_ENDPOINT`,
        { option: "endpoint" },
      );
    }
    checkText("apiVersion", options.apiVersion);
    checkText("deployment", options.deployment);
    const fromBase = /[?&]api-version=([^&]+)/.exec(this.baseURL)?.[1];
    this.#apiVersion =
      options.apiVersion ??
      (fromBase === undefined ? undefined : decodeURIComponent(fromBase)) ??
      readEnv(`${prefix}_API_VERSION`, options.env) ??
      readEnv("OPENAI_API_VERSION", options.env) ??
      AZURE_DEFAULT_API_VERSION;
    this.#deployment = options.deployment;
    const q = this.baseURL.indexOf("?");
    this.#root = q < 0 ? this.baseURL : this.baseURL.slice(0, q);
    this.#fixedDeployment = /\/deployments\/[^/]+$/.test(this.#root);
  }

  /** The API version requests carry. */
  get apiVersion(): string {
    return this.#apiVersion;
  }

  protected override authHeaders(apiKey: string | null): Record<string, string> {
    return apiKey === null ? {} : { "api-key": apiKey };
  }

  protected override chatURL(model: string): string {
    const deployment = this.#deployment ?? model;
    let url = this.#urls.get(deployment);
    if (url === undefined) {
      const base = this.#fixedDeployment
        ? this.#root
        : `${this.#root}/deployments/${encodeURIComponent(deployment)}`;
      url = joinURL(base, "/chat/completions", this.#query());
      if (this.#urls.size < 1000) this.#urls.set(deployment, url);
    }
    return url;
  }

  protected override modelsURL(): string {
    const root = this.#fixedDeployment
      ? this.#root.replace(/\/deployments\/[^/]+$/, "")
      : this.#root;
    return joinURL(root, "/models", this.#query());
  }

  #query(): string {
    return `api-version=${encodeURIComponent(this.#apiVersion)}`;
  }
}
