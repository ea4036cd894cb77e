import { ConfigurationError, TimeoutError } from "../errors/errors.js";
import { type Deadline, deadlineClock } from "../http/deadline-clock.js";
import {
  nonNegativeInteger,
  nonNegativeNumber,
  oneOf,
  optionalTimeout,
  positiveNumber,
  timerMs,
} from "../options.js";
import {
  ANTHROPIC_DEFAULT_BASE_URL,
  AnthropicProvider,
} from "../providers/anthropic/anthropic-provider.js";
import { AzureOpenAIProvider } from "../providers/azure/azure-openai-provider.js";
import { OPENAI_DEFAULT_BASE_URL, OpenAIProvider } from "../providers/openai/openai-provider.js";
import { envPrefix, processEnv, readEnv } from "../providers/shared/env.js";
import { checkMs } from "../providers/shared/provider-options.js";
import {
  checkApiKey,
  checkBaseURL,
  checkHeaders,
  checkText,
} from "../providers/shared/validate-settings.js";
import { type ResolvedBackoff, resolveBackoff } from "../resilience/backoff.js";
import {
  type BreakerSnapshot,
  CircuitBreaker,
  type CircuitState,
  resolveBreakerOptions,
  visibleState,
} from "../resilience/circuit-breaker.js";
import { linkSignals } from "../resilience/link-signals.js";
import { RetryBudget } from "../resilience/retry-budget.js";
import type { ResolvedGroup } from "../routing/group-balancer.js";
import { resolveHedge } from "../routing/hedge.js";
import { Router } from "../routing/router.js";
import { MemoryStateStore } from "../state/memory-state-store.js";
import type { StateStore } from "../state/state-store.js";
import type { ChatMessage, Provider, Warning } from "../types.js";
import { Call, type CallEngine, endpointDigest, targetKey } from "./call.js";
import { DEFAULT_MODELS, ModelCatalogue, providerOf } from "./catalogue.js";
import { ChatStream } from "./chat-stream.js";
import { readCooldown } from "./cooldown.js";
import { type CallContext, Instruments } from "./instrumentation.js";
import type {
  CallOptions,
  ChatResponse,
  ClientConfig,
  ModelRef,
  ModelSpec,
  ProviderSettings,
  RetryConfig,
  StreamEvent,
} from "./types.js";
import { type MessageInput, validateCallOptions, validateMessages } from "./validate-call.js";

const BUILT_IN = ["openai", "anthropic"] as const;

/** One row of {@link RetryClient.circuits}. */
export interface CircuitStatus {
  /** `provider:model`, or `provider@<endpoint digest>:model` off the provider's default endpoint. */
  readonly key: string;
  /** The base URL of the target's endpoint, when this client knows it. */
  readonly baseURL: string | undefined;
  readonly state: CircuitState;
  /** Consecutive failures: counting toward the threshold (closed), or those that opened it. */
  readonly failures: number;
  /** Milliseconds until a probe may go (open), else 0. */
  readonly nextProbeInMs: number;
  readonly snapshot: BreakerSnapshot;
}

/** One row of {@link RetryClient.cooldowns}: a target skipped after a rate limit. */
export interface CooldownStatus {
  /** `provider:model`. */
  readonly key: string;
  /** When the cooldown ends (milliseconds since the epoch, the store's clock). */
  readonly until: number;
  /** Milliseconds left. */
  readonly remainingMs: number;
  /** The wait it was set for (never more than `maxRetryAfterMs`). */
  readonly retryAfterMs: number;
}

/**
 * The resilient LLM client: every call walks a chain of targets (the call's model, then the
 * fallbacks), retrying each per the failure table of the README — honouring what the server
 * says, cooldowns, circuit breakers, a retry budget and one overall deadline.
 *
 * @example
 * const client = new RetryClient();                       // keys from the environment
 * const text = await client.chat("Hello, how are you?");
 * for await (const delta of client.stream([Message.user("Tell me a story")])) process.stdout.write(delta);
 */
export class RetryClient {
  /** The configuration as given. */
  readonly config: ClientConfig;
  /** Where breaker state, cooldowns and budgets live. */
  readonly store: StateStore;
  /** Model limits and abilities. */
  readonly catalogue: ModelCatalogue;
  readonly #engine: CallEngine;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #providers = new Map<string, Provider>();
  /** The providers this client built (not those passed in): `close()` closes their idle sockets. */
  readonly #ownProviders = new Set<Provider>();
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #listeners = new Set<(event: StreamEvent) => void>();
  /** Per provider name: the base URL its state keys name (undefined on the default endpoint). */
  readonly #endpoints = new Map<string, string | undefined>();
  /** Target keys by provider, then model. */
  readonly #keys = new Map<string, Map<string, string>>();
  readonly #instruments: Instruments | undefined;
  readonly #unsubscribe: (() => void) | undefined;
  #defaultChain: readonly ModelSpec[] | undefined;
  /** Deployment groups: their members as targets, by group name. */
  readonly #groups = new Map<string, readonly ModelSpec[]>();
  /** Deployment groups as checked, their member keys still to be computed (see `#group`). */
  readonly #groupSettings = new Map<string, Omit<ResolvedGroup, "keys">>();
  readonly #router: Router;

  /**
   * @throws RangeError naming any bad numeric option; ConfigurationError naming a provider
   *   setting that cannot work (a base URL that is not http(s), a header name with a space, a
   *   key with a line break).
   */
  constructor(config: ClientConfig = {}) {
    this.config = config;
    this.#env = config.env ?? processEnv();
    validateCommon(config);
    checkMs("silentTargetMs", config.silentTargetMs);
    for (const [name, settings] of Object.entries(config.providers ?? {})) {
      if (settings !== undefined && !isProvider(settings)) validateSettings(name, settings);
    }
    checkInstrumentation(config.instrumentation);
    resolveBreakerOptions(config.circuitBreaker);
    if (config.maxRetryAfterMs !== undefined) {
      // Infinity cannot be honoured: a wait past a timer's range would end early and spin.
      timerMs("maxRetryAfterMs", nonNegativeNumber("maxRetryAfterMs", config.maxRetryAfterMs));
    }
    this.store = config.stateStore ?? new MemoryStateStore();
    this.catalogue =
      config.catalogue instanceof ModelCatalogue
        ? config.catalogue
        : new ModelCatalogue().addAll(config.catalogue ?? []);
    const retry = config.retry ?? {};
    const backoff: ResolvedBackoff = resolveRetry(retry);
    const budget =
      config.retryBudget === false ? undefined : new RetryBudget(config.retryBudget, this.store);
    this.#resolveGroups(config.groups);
    this.#router = new Router({
      throttling: config.throttling !== false,
      hedge: config.hedge ? resolveHedge(config.hedge) : undefined,
      hedgeWindowMs: budget?.options.windowMs ?? 10_000,
      now: () => this.store.now(),
    });
    this.#instruments = Instruments.from(config, (cause, call) =>
      this.#warn(
        { code: "hook-threw", message: "a callback threw; ignored", cause },
        undefined,
        call,
      ),
    );
    this.#engine = {
      provider: (name) => this.provider(name),
      breaker: (key) => this.#breaker(key),
      budget,
      store: this.store,
      catalogue: this.catalogue,
      config,
      backoff,
      maxRetries: retry.maxRetries ?? 5,
      maxRetryAfterMs: config.maxRetryAfterMs ?? 60_000,
      instruments: this.#instruments,
      warn: (warning, emit, call) => this.#warn(warning, emit, call),
      keyOf: (target) => this.#keyOf(target),
      router: this.#router,
    };
    this.#unsubscribe = this.store.onWarning?.((warning) => {
      this.#warn(warning);
      for (const emit of this.#listeners) emit({ type: "warning", warning });
    });
  }

  /**
   * Sends `messages` and resolves with the answer of the first target that gives one.
   * @throws the failure's own typed error (a 400, a content filter, a single target's error),
   *   `FallbackExhaustedError` when every target failed, `TimeoutError` (kind "deadline"), or the
   *   caller's abort reason untouched. Every error but the abort carries `attempts`.
   */
  complete(messages: readonly MessageInput[], options: CallOptions = {}): Promise<ChatResponse> {
    return this.#run(messages, options, undefined, undefined);
  }

  /** Sends one user message and resolves with the answer's text. */
  async chat(text: string, options: CallOptions = {}): Promise<string> {
    const response = await this.complete([{ role: "user", content: text }], options);
    return response.content;
  }

  /**
   * Streams the answer. Failures before the first content delta are retried and fallen back
   * invisibly; after it, `midStreamFailure` decides.
   */
  stream(messages: readonly MessageInput[], options: CallOptions = {}): ChatStream {
    return new ChatStream((emit, signal) => {
      this.#listeners.add(emit);
      return this.#run(messages, options, emit, signal).finally(() => this.#listeners.delete(emit));
    });
  }

  /** The chain of targets a call with `options` walks, in order. */
  chain(options: Pick<CallOptions, "model" | "provider" | "fallbackModels"> = {}): ModelSpec[] {
    return [...this.#chainFor(options)];
  }

  /** The chain, computed once for calls that name no target (keys are read at first use). */
  #chainFor(
    options: Pick<CallOptions, "model" | "provider" | "fallbackModels">,
  ): readonly ModelSpec[] {
    if (options.model === undefined && options.provider === undefined && !options.fallbackModels) {
      this.#defaultChain ??= this.#buildChain(options);
      return this.#defaultChain;
    }
    return this.#buildChain(options);
  }

  #buildChain(options: Pick<CallOptions, "model" | "provider" | "fallbackModels">): ModelSpec[] {
    const members = this.#groups.get(this.#groupName(options) ?? "");
    const first = members?.[0] ?? this.#firstTarget(options);
    const chain = members ? [...members] : [first];
    if (this.config.fallbackEnabled === false) return chain;
    const rest =
      options.fallbackModels ?? this.config.fallbackModels ?? this.#defaultFallbacks(first);
    for (const ref of rest) {
      const spec = toSpec(ref);
      if (!chain.some((t) => t.provider === spec.provider && t.model === spec.model))
        chain.push(spec);
    }
    return chain;
  }

  /**
   * The provider named `name`, built on first use from `providers[name]` and the environment.
   * @throws ConfigurationError for a name that is neither configured nor built in.
   */
  provider(name: string): Provider {
    let provider = this.#providers.get(name);
    if (provider) return provider;
    const settings = this.config.providers?.[name];
    if (settings && isProvider(settings)) {
      provider = settings;
    } else if (settings || (BUILT_IN as readonly string[]).includes(name)) {
      provider = this.#createProvider(name, (settings ?? {}) as ProviderSettings);
      this.#ownProviders.add(provider);
    } else {
      throw new ConfigurationError(
        `unknown provider "${name}": add it to the providers option (with type "openai" or "anthropic")`,
        { option: "providers" },
      );
    }
    this.#providers.set(name, provider);
    return provider;
  }

  /**
   * The key under which a target's breaker, cooldown and budget are kept: `provider:model` on
   * the provider's default endpoint, `provider@<digest of the base URL>:model` on any other.
   */
  stateKey(target: ModelSpec): string {
    return this.#engine.keyOf(target);
  }

  /** Whether a key is configured (option or environment) for the provider `name`. */
  hasKey(name: string): boolean {
    const settings = this.config.providers?.[name];
    if (settings && isProvider(settings)) return true;
    if (settings?.apiKey === null) return true;
    return this.#apiKey(name, (settings ?? {}) as ProviderSettings) !== undefined;
  }

  /** Every breaker the store knows, one row per target key. */
  async circuits(): Promise<CircuitStatus[]> {
    const now = this.store.now();
    const rows = await this.store.entries<BreakerSnapshot>("breaker:");
    const endpoints = this.#knownEndpoints();
    return rows
      .map(([storeKey, snapshot]) => ({
        key: storeKey.slice("breaker:".length),
        baseURL: endpoints.get(storeKey.slice("breaker:".length).split(":")[0] ?? ""),
        state: visibleState(snapshot, now),
        failures: snapshot.failures ?? 0,
        nextProbeInMs: snapshot.state === "open" ? Math.max(0, snapshot.openUntil - now) : 0,
        snapshot,
      }))
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  /**
   * Every target cooling down after a rate limit, one row per target key, soonest first. A
   * corrupted record (no finite end time) is left out: calls ignore it too.
   */
  async cooldowns(): Promise<CooldownStatus[]> {
    const now = this.store.now();
    const rows: CooldownStatus[] = [];
    for (const [storeKey, value] of await this.store.entries<unknown>("cooldown:")) {
      const cooldown = readCooldown(value);
      if (cooldown === undefined || cooldown === "corrupt" || cooldown.until <= now) continue;
      rows.push({
        key: storeKey.slice("cooldown:".length),
        until: cooldown.until,
        remainingMs: cooldown.until - now,
        retryAfterMs: cooldown.retryAfterMs,
      });
    }
    return rows.sort((a, b) => a.until - b.until || a.key.localeCompare(b.key));
  }

  /**
   * Closes the breaker of `key` and clears its cooldown; all of them without a key. A key
   * without an endpoint (`provider:model`) also resets that model on every other endpoint of
   * the provider (`provider@…:model`).
   */
  async resetCircuits(key?: string): Promise<void> {
    const keys = key
      ? [key]
      : (await this.store.entries("breaker:")).map(([k]) => k.slice("breaker:".length));
    if (key && !key.slice(0, key.indexOf(":")).includes("@")) {
      const colon = key.indexOf(":");
      const provider = key.slice(0, colon);
      const model = key.slice(colon + 1);
      for (const prefix of ["breaker:", "cooldown:"]) {
        for (const [k] of await this.store.entries(`${prefix}${provider}@`)) {
          const rest = k.slice(prefix.length);
          if (rest.slice(rest.indexOf(":") + 1) === model) keys.push(rest);
        }
      }
    }
    if (!key) {
      for (const [k] of await this.store.entries("cooldown:"))
        keys.push(k.slice("cooldown:".length));
    }
    await Promise.all(
      [...new Set(keys)].flatMap((k) => [
        this.#breaker(k)?.reset() ?? this.store.delete(`breaker:${k}`),
        this.store.delete(`cooldown:${k}`),
      ]),
    );
  }

  /**
   * Releases what this client created. The rule is: whoever creates a store closes it. A store
   * the client made itself (the default memory store) is closed here; a store passed in as
   * `stateStore` is left open — it may be shared with other clients — so close it yourself
   * after the last client that uses it: `await client.close(); await store.close();`.
   * It also closes the idle keep-alive connections of the providers it built (connections in
   * use are left alone).
   */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    for (const provider of this.#ownProviders) {
      (provider as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    }
    if (!this.config.stateStore) await this.store.close();
  }

  #run(
    input: readonly MessageInput[],
    options: CallOptions,
    emit: ((event: StreamEvent) => void) | undefined,
    streamSignal: AbortSignal | undefined,
  ): Promise<ChatResponse> {
    // Not an async function: one suspended frame less for every call in flight.
    let messages: readonly ChatMessage[];
    try {
      // Input no provider could accept fails here, before any network call.
      // Options given as `{}` (the default) have nothing to check.
      const checkOptions = !isEmptyObject(options);
      if (checkOptions) validateCallOptions(options);
      messages = validateMessages(input);
      if (checkOptions) {
        validateCommon(options);
        checkMs("silentTargetMs", options.silentTargetMs);
        if (options.retry) resolveRetry(options.retry);
        options.signal?.throwIfAborted();
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const callerSignal = options.signal;
    const deadlineMs = options.deadlineMs ?? this.config.deadlineMs;
    const deadlineAt = deadlineMs === undefined ? undefined : this.store.now() + deadlineMs;
    let deadline: AbortController | undefined;
    let timer: Deadline | undefined;
    if (deadlineMs !== undefined) {
      deadline = new AbortController();
      const controller = deadline;
      // On the clock every request shares: no timer of its own per call.
      timer = {
        at: 0,
        index: -1,
        onDeadline: () => controller.abort(new TimeoutError("deadline", deadlineMs)),
      };
      deadlineClock.schedule(timer, Date.now() + deadlineMs);
    }
    // Not AbortSignal.any: it leaves a record on a long-lived caller signal for every call.
    const { signal, unlink } =
      callerSignal === undefined && deadline === undefined
        ? { signal: streamSignal, unlink: undefined }
        : linkSignals([callerSignal, deadline?.signal, streamSignal]);
    const groupName = this.#groups.size > 0 ? this.#groupName(options) : undefined;
    const call = new Call(
      this.#engine,
      messages,
      options,
      this.#chainFor(options),
      { call: signal, caller: callerSignal },
      deadlineAt,
      emit,
      groupName === undefined ? undefined : this.#group(groupName),
    );
    const answer = call.run();
    if (timer === undefined && unlink === undefined) return answer;
    return answer.finally(() => {
      if (timer !== undefined) deadlineClock.cancel(timer);
      unlink?.();
    });
  }

  /**
   * The deployment group a call goes to: its `model` when that names a group and no `provider`
   * is given, else the configured `defaultModel` when that names one and no default provider is set.
   */
  #groupName(options: Pick<CallOptions, "model" | "provider">): string | undefined {
    if (this.#groups.size === 0 || options.provider !== undefined) return undefined;
    if (options.model !== undefined)
      return this.#groups.has(options.model) ? options.model : undefined;
    const fallback = this.config.defaultModel;
    return this.config.defaultProvider === undefined &&
      fallback !== undefined &&
      this.#groups.has(fallback)
      ? fallback
      : undefined;
  }

  /**
   * The group `name` with its members' state keys (which name their endpoint, so they are
   * computed when a call needs them, once the providers can be built).
   */
  #group(name: string): ResolvedGroup | undefined {
    const settings = this.#groupSettings.get(name);
    const members = this.#groups.get(name);
    if (!settings || !members) return undefined;
    return { ...settings, keys: members.map((m) => this.#engine.keyOf(m)) };
  }

  /** Checks `groups` and keeps their members; throws `RangeError` naming the bad entry. */
  #resolveGroups(groups: ClientConfig["groups"]): void {
    if (groups === undefined) return;
    if (typeof groups !== "object" || groups === null)
      throw new RangeError(`expected an object of groups for groups, got ${String(groups)}`);
    for (const [name, group] of Object.entries(groups)) {
      const where = `groups.${name}`;
      if (!name || !Array.isArray(group?.targets) || group.targets.length === 0)
        throw new RangeError(`expected a non-empty targets list for ${where}.targets`);
      const members: ModelSpec[] = [];
      for (const [i, ref] of group.targets.entries()) {
        checkRef(`${where}.targets[${i}]`, ref);
        const spec = toSpec(ref);
        if (!members.some((m) => m.provider === spec.provider && m.model === spec.model))
          members.push(spec);
      }
      const strategy = oneOf(`${where}.strategy`, group.strategy ?? "least-busy", [
        "least-busy",
        "round-robin",
        "latency",
        "weighted",
      ]);
      const weights = group.weights ?? group.targets.map(() => 1);
      if (weights.length !== group.targets.length)
        throw new RangeError(
          `expected one weight per target for ${where}.weights, got ${weights.length} for ${group.targets.length}`,
        );
      for (const [i, w] of weights.entries()) positiveNumber(`${where}.weights[${i}]`, w);
      this.#groups.set(name, members);
      this.#groupSettings.set(name, { name, strategy, weights: [...weights] });
    }
  }

  #firstTarget(options: Pick<CallOptions, "model" | "provider">): ModelSpec {
    if (options.provider !== undefined || options.model !== undefined) {
      const provider =
        options.provider ??
        (options.model !== undefined ? providerOf(options.model) : undefined) ??
        this.#defaultProvider();
      return { provider, model: options.model ?? this.#defaultModelOf(provider) };
    }
    const provider = this.#defaultProvider();
    const model =
      this.config.defaultModel !== undefined
        ? this.config.defaultModel
        : this.#defaultModelOf(provider);
    return { provider, model };
  }

  #defaultProvider(): string {
    if (this.config.defaultProvider !== undefined) return this.config.defaultProvider;
    const configured = Object.keys(this.config.providers ?? {});
    return (
      [...BUILT_IN, ...configured].find((name) => this.hasKey(name)) ?? configured[0] ?? "openai"
    );
  }

  #defaultModelOf(provider: string): string {
    const settings = this.config.providers?.[provider];
    if (settings && !isProvider(settings) && settings.defaultModel) return settings.defaultModel;
    if (provider === this.config.defaultProvider && this.config.defaultModel) {
      return this.config.defaultModel;
    }
    const type = settings && !isProvider(settings) ? typeOf(provider, settings) : provider;
    const model =
      type === "azure"
        ? (settings as ProviderSettings | undefined)?.deployment
        : DEFAULT_MODELS[type];
    if (model === undefined) {
      throw new ConfigurationError(
        `no default model for provider "${provider}": set providers.${provider}.defaultModel or pass model`,
        { option: "defaultModel" },
      );
    }
    return model;
  }

  #defaultFallbacks(first: ModelSpec): ModelSpec[] {
    const other =
      first.provider === "anthropic"
        ? "openai"
        : first.provider === "openai"
          ? "anthropic"
          : undefined;
    if (!other || !this.hasKey(other)) return [];
    return [{ provider: other, model: this.#defaultModelOf(other) }];
  }

  #createProvider(name: string, settings: ProviderSettings): Provider {
    const common = {
      name,
      env: this.#env,
      ...definedFields({
        apiKey: settings.apiKey,
        baseURL: settings.baseURL,
        headers: settings.headers,
        fetch: this.config.fetch,
        maxResponseBytes: this.config.maxResponseBytes,
        maxSseEventBytes: this.config.maxSseEventBytes,
        silentTargetMs: this.config.silentTargetMs,
      }),
    };
    const openai = definedFields({
      organization: settings.organization,
      maxTokensField: settings.maxTokensField,
    });
    switch (typeOf(name, settings)) {
      case "anthropic":
        return new AnthropicProvider(common);
      case "azure":
        return new AzureOpenAIProvider({
          ...common,
          ...openai,
          ...definedFields({
            endpoint: settings.endpoint,
            apiVersion: settings.apiVersion,
            deployment: settings.deployment,
          }),
        });
      default:
        return new OpenAIProvider({ ...common, ...openai });
    }
  }

  #apiKey(name: string, settings: ProviderSettings): string | undefined {
    const type = typeOf(name, settings);
    const prefix =
      type === "azure" && name === "azure"
        ? "AZURE_OPENAI"
        : envPrefix(name, type === "azure" ? "openai" : type);
    return settings.apiKey || readEnv(`${prefix}_API_KEY`, this.#env);
  }

  /**
   * The state key of a target, computed once per provider and model (a call asks for it several
   * times, and the endpoint digest hashes the base URL).
   */
  #keyOf(target: ModelSpec): string {
    let byModel = this.#keys.get(target.provider);
    if (byModel === undefined) {
      byModel = new Map();
      this.#keys.set(target.provider, byModel);
    }
    let key = byModel.get(target.model);
    if (key === undefined) {
      key = targetKey(target, this.#endpointOf(target.provider));
      // Kept only once the provider's endpoint is known (an unknown provider is asked again);
      // model names come from callers: bound what is kept.
      if (!this.#endpoints.has(target.provider)) return key;
      if (byModel.size >= 1024) byModel.clear();
      byModel.set(target.model, key);
    }
    return key;
  }

  /**
   * The base URL that names the endpoint in the state keys of provider `name`: undefined on
   * the provider's default endpoint (keys stay `provider:model`).
   */
  #endpointOf(name: string): string | undefined {
    if (this.#endpoints.has(name)) return this.#endpoints.get(name);
    let endpoint: string | undefined;
    try {
      const provider = this.provider(name) as Provider & {
        readonly baseURL?: unknown;
        readonly isDefaultEndpoint?: unknown;
      };
      if (typeof provider.baseURL === "string" && provider.isDefaultEndpoint !== true) {
        endpoint = provider.baseURL;
      }
    } catch {
      // An unknown or misconfigured provider fails its attempt; its key needs no endpoint.
      return undefined;
    }
    this.#endpoints.set(name, endpoint);
    return endpoint;
  }

  /** Provider name or `provider@digest` → the base URL, for every provider this client knows. */
  #knownEndpoints(): Map<string, string> {
    const known = new Map<string, string>();
    const names = new Set([...BUILT_IN, ...Object.keys(this.config.providers ?? {})]);
    for (const name of names) {
      const endpoint = this.#endpointOf(name);
      if (endpoint !== undefined) known.set(`${name}@${endpointDigest(endpoint)}`, endpoint);
      else {
        const settings = this.config.providers?.[name];
        const type = settings && !isProvider(settings) ? typeOf(name, settings) : name;
        const base =
          type === "anthropic"
            ? ANTHROPIC_DEFAULT_BASE_URL
            : type === "openai"
              ? OPENAI_DEFAULT_BASE_URL
              : (this.config.providers?.[name] as { baseURL?: unknown } | undefined)?.baseURL;
        if (typeof base === "string") known.set(name, base);
      }
    }
    return known;
  }

  #breaker(key: string): CircuitBreaker | undefined {
    if (this.config.circuitEnabled === false) return undefined;
    let breaker = this.#breakers.get(key);
    if (!breaker) {
      breaker = new CircuitBreaker(key, {
        ...this.config.circuitBreaker,
        store: this.store,
        ...definedFields({ onStateChange: this.#onBreakerChange }),
      });
      this.#breakers.set(key, breaker);
    }
    return breaker;
  }

  /** Transitions outside any call (`resetCircuits()`); a call reports its own. */
  get #onBreakerChange():
    | ((key: string, from: CircuitState, to: CircuitState) => void)
    | undefined {
    const instruments = this.#instruments;
    if (!instruments) return undefined;
    return (key, from, to) =>
      instruments.emit("onBreakerTransition", { call: undefined, key, from, to });
  }

  #warn(warning: Warning, emit?: (event: StreamEvent) => void, call?: CallContext): void {
    this.#instruments?.warning({ call, warning });
    emit?.({ type: "warning", warning });
  }
}

function typeOf(name: string, settings: ProviderSettings): "openai" | "anthropic" | "azure" {
  return (
    settings.type ?? (name === "anthropic" ? "anthropic" : name === "azure" ? "azure" : "openai")
  );
}

/** Checks one provider's settings at construction, naming the option at fault. */
function validateSettings(name: string, settings: ProviderSettings): void {
  const at = (field: string) => `providers.${name}.${field}`;
  if (typeof settings !== "object" || settings === null) {
    throw new ConfigurationError(`invalid providers.${name}: expected an object of settings`, {
      option: `providers.${name}`,
    });
  }
  if (
    settings.type !== undefined &&
    settings.type !== "openai" &&
    settings.type !== "anthropic" &&
    settings.type !== "azure"
  ) {
    throw new ConfigurationError(
      `invalid ${at("type")}: expected "openai", "anthropic" or "azure", got ${JSON.stringify(settings.type)}`,
      { option: at("type") },
    );
  }
  checkApiKey(at("apiKey"), settings.apiKey);
  checkBaseURL(at("baseURL"), settings.baseURL);
  checkBaseURL(at("endpoint"), settings.endpoint);
  checkHeaders(at("headers"), settings.headers);
  checkText(at("organization"), settings.organization);
  checkText(at("apiVersion"), settings.apiVersion);
  checkText(at("deployment"), settings.deployment);
  checkText(at("defaultModel"), settings.defaultModel);
  if (
    settings.maxTokensField !== undefined &&
    settings.maxTokensField !== "max_tokens" &&
    settings.maxTokensField !== "max_completion_tokens"
  ) {
    throw new ConfigurationError(
      `invalid ${at("maxTokensField")}: expected "max_tokens" or "max_completion_tokens"`,
      { option: at("maxTokensField") },
    );
  }
}

function isProvider(value: ProviderSettings | Provider): value is Provider {
  return typeof (value as Provider).complete === "function";
}

/** `[provider, model]` or `{ provider, model }` → `{ provider, model }`. */
export function toSpec(ref: ModelRef): ModelSpec {
  if (Array.isArray(ref)) return { provider: ref[0], model: ref[1] };
  const spec = ref as ModelSpec;
  return { provider: spec.provider, model: spec.model };
}

function definedFields<T extends Record<string, unknown>>(
  fields: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** A plain object literal with no properties: `{}`. */
function isEmptyObject(value: unknown): boolean {
  if (
    typeof value !== "object" ||
    value === null ||
    Object.getPrototypeOf(value) !== Object.prototype
  )
    return false;
  for (const _ in value) return false;
  return true;
}

/** What a client's settings and a call's options share, checked the same way for both. */
function validateCommon(o: ClientConfig | CallOptions): void {
  optionalTimeout("timeoutMs", o.timeoutMs);
  optionalTimeout("connectTimeoutMs", o.connectTimeoutMs);
  optionalTimeout("firstTokenTimeoutMs", o.firstTokenTimeoutMs);
  // Infinity turns the default idle bound off.
  optionalTimeout("idleTimeoutMs", o.idleTimeoutMs, true);
  optionalTimeout("deadlineMs", o.deadlineMs);
  if (o.midStreamFailure !== undefined) {
    oneOf("midStreamFailure", o.midStreamFailure, ["error", "restart", "continue"]);
  }
  for (const [i, ref] of (o.fallbackModels ?? []).entries()) checkRef(`fallbackModels[${i}]`, ref);
}

/** Validates retry settings; returns their backoff with defaults applied. */
function resolveRetry(retry: RetryConfig): ResolvedBackoff {
  if (retry.maxRetries !== undefined)
    nonNegativeInteger("retry.maxRetries", retry.maxRetries, true);
  return resolveBackoff(retry);
}

function checkInstrumentation(list: ClientConfig["instrumentation"]): void {
  if (list === undefined) return;
  if (!Array.isArray(list) || list.some((l) => typeof l !== "object" || l === null)) {
    throw new RangeError(
      `expected an array of listener objects for instrumentation, got ${String(list)}`,
    );
  }
}

function checkRef(name: string, ref: ModelRef): void {
  const spec = Array.isArray(ref) ? { provider: ref[0], model: ref[1] } : (ref as ModelSpec);
  if (
    typeof spec?.provider !== "string" ||
    typeof spec.model !== "string" ||
    !spec.provider ||
    !spec.model
  ) {
    throw new RangeError(
      `expected [provider, model] or { provider, model } for ${name}, got ${JSON.stringify(ref)}`,
    );
  }
}

export { targetKey };
