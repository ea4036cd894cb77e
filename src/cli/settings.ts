import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  type CallOptions,
  type ClientConfig,
  defaultStatePath,
  FileStateStore,
  MemoryStateStore,
  type ProviderSettings,
  providerOf,
  type StateStore,
} from "../index.node.js";
import { validateConfigFile } from "./config-file.js";
import { CliError, EXIT } from "./exit-codes.js";

/** The global flags, as commander parses them. */
export interface GlobalFlags {
  readonly provider?: string;
  readonly model?: string;
  readonly apiKey?: string;
  readonly baseUrl?: string;
  /** false with `--no-retry`. */
  readonly retry?: boolean;
  /** false with `--no-fallback`. */
  readonly fallback?: boolean;
  readonly verbose?: boolean;
  readonly json?: boolean;
  readonly config?: string;
  readonly state?: string;
}

/** Everything a command needs to build its client, resolved from flags, env, config file. */
export interface Settings {
  /** The client configuration (hooks and store excepted). */
  readonly config: ClientConfig;
  /** The target of `-p`/`-m` (or their environment twins), for each call. */
  readonly call: Pick<CallOptions, "provider" | "model">;
  /** The provider `-k`/`--base-url` apply to. */
  readonly selectedProvider: string;
  /** Every provider name the CLI knows: the built-in two plus those of the config file. */
  readonly providerNames: readonly string[];
  /** `memory`, `file` or a `redis://` URL. */
  readonly state: string;
  /** Every API key seen (to keep them out of any output). */
  readonly secrets: readonly string[];
  /** The config file read, if any. */
  readonly configPath: string | undefined;
  /** The `ClientConfig` fields of the config file alone. */
  readonly fileConfig: ClientConfig;
  readonly verbose: boolean;
  readonly json: boolean;
}

const BUILT_IN = ["openai", "anthropic"] as const;

type Env = Readonly<Record<string, string | undefined>>;

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value.trim();

/** The wire format of a provider: its `type`, else by name. */
export function providerType(name: string, settings: ProviderSettings | undefined): string {
  return settings?.type ?? (name === "anthropic" ? "anthropic" : "openai");
}

/** The environment variable holding the key of provider `name` (as the library reads it). */
export function keyVariable(name: string, settings?: ProviderSettings): string {
  const type = providerType(name, settings);
  return name === type
    ? `${type.toUpperCase()}_API_KEY`
    : `${name.toUpperCase().replace(/\W/g, "_")}_API_KEY`;
}

function baseUrlVariable(name: string, settings?: ProviderSettings): string {
  return keyVariable(name, settings).replace(/_API_KEY$/, "_BASE_URL");
}

/** `$XDG_CONFIG_HOME/retry-client/config.json` (or `~/.config/…`). */
export function defaultConfigPath(env: Env = process.env): string {
  const base = nonEmpty(env.XDG_CONFIG_HOME) ?? join(homedir(), ".config");
  return join(base, "retry-client", "config.json");
}

async function readConfigFile(path: string, explicit: boolean): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (!explicit) return {};
    throw new CliError(`cannot read config file ${path}: ${(error as Error).message}`, EXIT.usage);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `config file ${path} is not valid JSON: ${(error as Error).message}`,
      EXIT.usage,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new CliError(`config file ${path} must hold a JSON object`, EXIT.usage);
  validateConfigFile(path, parsed as Record<string, unknown>);
  return parsed as Record<string, unknown>;
}

/**
 * Resolves the settings. Precedence: flags > environment > config file > library defaults.
 * Environment: `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `<NAME>_API_KEY` for custom providers, the
 * matching `*_BASE_URL`, and `RETRY_CLIENT_PROVIDER`, `RETRY_CLIENT_MODEL`, `RETRY_CLIENT_STATE`.
 *
 * @throws CliError (exit 2) for an unreadable config file or a bad `--state`.
 */
export async function resolveSettings(
  flags: GlobalFlags,
  env: Env = process.env,
): Promise<Settings> {
  const explicit = flags.config !== undefined;
  const configPath = flags.config ?? defaultConfigPath(env);
  const file = await readConfigFile(configPath, explicit);
  const fileConfig = file as ClientConfig & { state?: unknown };
  const fileProviders = (fileConfig.providers ?? {}) as Record<string, ProviderSettings>;
  const providerNames = [...new Set([...BUILT_IN, ...Object.keys(fileProviders)])];

  const provider = nonEmpty(flags.provider) ?? nonEmpty(env.RETRY_CLIENT_PROVIDER);
  const model = nonEmpty(flags.model) ?? nonEmpty(env.RETRY_CLIENT_MODEL);
  const secrets: string[] = [];
  if (flags.apiKey) secrets.push(flags.apiKey);
  for (const [name, value] of Object.entries(env)) {
    if (/_API_KEY$|_TOKEN$|_SECRET$/.test(name) && value) secrets.push(value);
  }

  const keyOf = (name: string): string | undefined => {
    const settings = fileProviders[name];
    return nonEmpty(env[keyVariable(name, settings)]) ?? nonEmpty(settings?.apiKey ?? undefined);
  };
  const selectedProvider =
    provider ??
    (model !== undefined ? providerOf(model) : undefined) ??
    fileConfig.defaultProvider ??
    providerNames.find((name) => keyOf(name) !== undefined) ??
    "openai";
  if (flags.provider !== undefined && !providerNames.includes(flags.provider))
    throw new CliError(
      `unknown provider "${flags.provider}": use ${providerNames.join(", ")} or add it to the config file's "providers"`,
      EXIT.usage,
    );

  const providers: Record<string, ProviderSettings> = {};
  for (const name of providerNames) {
    const settings = fileProviders[name] ?? {};
    if (settings.apiKey) secrets.push(settings.apiKey);
    const selected = name === selectedProvider;
    const apiKey = (selected ? nonEmpty(flags.apiKey) : undefined) ?? keyOf(name);
    const flagURL = selected ? nonEmpty(flags.baseUrl) : undefined;
    const envURL = nonEmpty(env[baseUrlVariable(name, settings)]);
    const baseURL = flagURL ?? envURL ?? nonEmpty(settings.baseURL);
    if (baseURL !== undefined)
      checkBaseURL(
        baseURL,
        flagURL !== undefined
          ? "--base-url"
          : envURL !== undefined
            ? baseUrlVariable(name, settings)
            : `"providers.${name}.baseURL" in config file ${configPath}`,
      );
    providers[name] = {
      ...settings,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(baseURL !== undefined ? { baseURL } : {}),
    };
  }

  // `state` and `gateway` (read by `serve`) are the CLI's own keys, not client settings.
  const {
    state: fileState,
    gateway: _gateway,
    ...rest
  } = fileConfig as typeof fileConfig & {
    gateway?: unknown;
  };
  const config: ClientConfig = {
    ...rest,
    providers,
    env,
    ...(flags.retry === false ? { retryEnabled: false } : {}),
    ...(flags.fallback === false ? { fallbackEnabled: false } : {}),
  };
  const state =
    nonEmpty(flags.state) ??
    nonEmpty(env.RETRY_CLIENT_STATE) ??
    (typeof fileState === "string" ? fileState : undefined) ??
    "file";
  const stateSource =
    nonEmpty(flags.state) !== undefined
      ? "--state"
      : nonEmpty(env.RETRY_CLIENT_STATE) !== undefined
        ? "RETRY_CLIENT_STATE"
        : `"state" in config file ${configPath}`;
  if (state !== "memory" && state !== "file" && !/^rediss?:\/\//.test(state))
    throw new CliError(
      `${stateSource} must be memory, file or a redis:// URL, got "${redactURL(state)}"`,
      EXIT.usage,
    );
  if (/^rediss?:\/\//.test(state) && !URL.canParse(state))
    throw new CliError(
      `${stateSource}: "${redactURL(state)}" is not a valid URL: use redis://[:password@]host[:port][/db] (percent-encode special characters in the password)`,
      EXIT.usage,
    );

  return {
    config,
    call: {
      ...(provider !== undefined ? { provider } : {}),
      ...(model !== undefined ? { model } : {}),
    },
    selectedProvider,
    providerNames,
    state,
    secrets,
    configPath: explicit || existsSync(configPath) ? configPath : undefined,
    fileConfig: rest,
    verbose: flags.verbose === true,
    json: flags.json === true,
  };
}

/** A base URL must be an absolute http(s) URL; `source` says where it came from. */
function checkBaseURL(url: string, source: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:"))
    throw new CliError(
      `${source}: "${redactURL(url)}" is not an http(s) URL: use e.g. https://api.openai.com/v1 or http://127.0.0.1:8787`,
      EXIT.usage,
    );
}

/** `url` with anything between `//` and `@` (credentials) hidden. */
function redactURL(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//***@");
}

/** How to get the optional `ioredis` package, for a user of `--state redis://…`. */
export const IOREDIS_HINT =
  "--state redis://… needs the optional package ioredis: install it next to retry-client " +
  "(npm install ioredis, or npm install -g ioredis for a global install); " +
  "with npx: npx -p retry-client -p ioredis retry-client --state redis://… COMMAND";

/** Opens the state store `--state` names. The caller closes it. */
export async function openStateStore(state: string, env: Env = process.env): Promise<StateStore> {
  if (state === "memory") return new MemoryStateStore();
  if (state === "file") return new FileStateStore({ path: defaultStatePath(env) });
  let redis: typeof import("../redis.js");
  try {
    redis = await import("../redis.js");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && /ioredis/.test(String((error as Error).message)))
      throw new CliError(IOREDIS_HINT, EXIT.usage, { cause: error });
    throw error;
  }
  try {
    // The store itself waits (up to its connect timeout) for the first connection.
    return new redis.RedisStateStore({ url: state });
  } catch (error) {
    throw new CliError(
      `--state: cannot use "${redactURL(state)}": ${(error as Error).message}`,
      EXIT.usage,
      { cause: error },
    );
  }
}

/** Where `--state` keeps breaker state, for messages (never a password). */
export function describeState(state: string, env: Env = process.env): string {
  if (state === "memory") return "memory (this process only)";
  if (state === "file") return defaultStatePath(env);
  try {
    const url = new URL(state);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return "redis";
  }
}
