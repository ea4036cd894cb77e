import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AttemptRecord,
  BUILT_IN_MODELS,
  type CallOptions,
  type ChatResponse,
  type ClientConfig,
  MemoryStateStore,
  type ModelRef,
  type ModelSpec,
  type ProviderSettings,
  RetryClient,
  type StateStore,
} from "../index.node.js";
import { isLoopback, KeyChecker } from "./auth.js";
import {
  describeFailure,
  type GatewayFailure,
  GatewayRequestError,
  retryAfterSeconds,
} from "./failure.js";
import { GatewayMetrics } from "./metrics.js";
import { anthropicWire } from "./wire/anthropic.js";
import { openaiWire } from "./wire/openai.js";
import type { GatewayRequest, GatewayWire } from "./wire/wire.js";

/** The gateway's own settings (the `gateway` section of the config file). */
export interface GatewaySettings {
  /** Keys a caller must present (`Authorization: Bearer` or `x-api-key`). @default none: loopback only */
  readonly keys?: readonly string[] | undefined;
  /** Aliases: a `model` name a caller may send → the chain of targets it stands for. */
  readonly models?: Readonly<Record<string, readonly ModelRef[]>> | undefined;
  /** Largest request body; a larger one gets 413 without being read whole. @default 10 MiB */
  readonly maxBodyBytes?: number | undefined;
  /** Most requests in flight; over it, 503 with `retry-after`. @default 1024 */
  readonly maxConcurrent?: number | undefined;
  /** How long requests in flight may run after SIGTERM/SIGINT. @default 30000 */
  readonly drainTimeoutMs?: number | undefined;
  /** Longest a client may take to send the request headers. @default 10000 */
  readonly headersTimeoutMs?: number | undefined;
  /** Longest a client may take to send the whole request (headers and body). @default 30000 */
  readonly requestTimeoutMs?: number | undefined;
}

/** Everything {@link createGateway} takes. */
export interface GatewayOptions extends GatewaySettings {
  /** The client behind the gateway: providers and upstream keys, retries, breaker, fallbacks. */
  readonly client?: ClientConfig;
  /** Strings never to show a caller or a log (upstream keys); the client's keys are added. */
  readonly secrets?: readonly string[];
  /** One line per notable event (start, drain, upstream failures). @default none */
  readonly log?: (line: string) => void;
}

/** Where a running gateway listens. */
export interface GatewayAddress {
  readonly host: string;
  readonly port: number;
  /** `http://HOST:PORT` */
  readonly url: string;
}

const DEFAULTS = {
  maxBodyBytes: 10 * 1024 * 1024,
  maxConcurrent: 1024,
  drainTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
};

const BUILT_IN_PROVIDERS = ["openai", "anthropic"] as const;

/** Headers a provider defines for opting into features, forwarded to providers of that wire. */
const FEATURE_HEADERS: Readonly<Record<"openai" | "anthropic", readonly string[]>> = {
  anthropic: ["anthropic-beta"],
  openai: ["openai-beta"],
};

/** Clients by the feature headers they forward; a few distinct sets at most in practice. */
const MAX_HEADER_CLIENTS = 32;

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`expected a positive integer for gateway.${name}, got ${value}`);
  return value;
}

/**
 * An HTTP server speaking the OpenAI Chat Completions and Anthropic Messages wires in and out,
 * in front of a {@link RetryClient}: any SDK or language gets retries, fallbacks across
 * providers, breakers and shared state without a line of TypeScript.
 *
 * @example
 * const gateway = createGateway({ keys: ["gw-secret"], client: { fallbackModels: [["anthropic", "claude-sonnet-4-5"]] } });
 * const { url } = await gateway.listen(4000, "127.0.0.1");
 * process.on("SIGTERM", () => gateway.drain().then(() => process.exit(0)));
 */
export class Gateway {
  /** The `node:http` server. */
  readonly server: Server;
  /** The metrics `/metrics` renders. */
  readonly metrics = new GatewayMetrics();
  /** The client answering requests without feature headers. */
  readonly client: RetryClient;
  readonly #options: GatewayOptions;
  readonly #config: ClientConfig;
  readonly #keys: KeyChecker;
  readonly #aliases = new Map<string, readonly ModelRef[]>();
  readonly #aliasChains = new Map<
    string,
    Pick<CallOptions, "provider" | "model" | "fallbackModels">
  >();
  readonly #headerClients = new Map<string, RetryClient>();
  readonly #providerTypes = new Map<string, "openai" | "anthropic">();
  readonly #secrets: string[];
  readonly #limits: Record<keyof typeof DEFAULTS, number>;
  readonly #inFlight = new Set<AbortController>();
  readonly #store: StateStore;
  readonly #ownStore: boolean;
  #draining = false;
  #drained: Promise<void> | undefined;

  constructor(options: GatewayOptions = {}) {
    this.#options = options;
    this.#limits = {
      maxBodyBytes: positiveInteger("maxBodyBytes", options.maxBodyBytes, DEFAULTS.maxBodyBytes),
      maxConcurrent: positiveInteger(
        "maxConcurrent",
        options.maxConcurrent,
        DEFAULTS.maxConcurrent,
      ),
      drainTimeoutMs: positiveInteger(
        "drainTimeoutMs",
        options.drainTimeoutMs,
        DEFAULTS.drainTimeoutMs,
      ),
      headersTimeoutMs: positiveInteger(
        "headersTimeoutMs",
        options.headersTimeoutMs,
        DEFAULTS.headersTimeoutMs,
      ),
      requestTimeoutMs: positiveInteger(
        "requestTimeoutMs",
        options.requestTimeoutMs,
        DEFAULTS.requestTimeoutMs,
      ),
    };
    this.#keys = new KeyChecker(options.keys ?? []);
    for (const [alias, chain] of Object.entries(options.models ?? {})) {
      if (!Array.isArray(chain) || chain.length === 0)
        throw new RangeError(`expected a non-empty chain of targets for gateway.models.${alias}`);
      this.#aliases.set(alias, chain);
    }
    const base = options.client ?? {};
    // Every client of this gateway shares one store: one breaker, cooldown and budget per target.
    this.#ownStore = base.stateStore === undefined;
    this.#store = base.stateStore ?? new MemoryStateStore();
    this.#config = {
      ...base,
      instrumentation: [...(base.instrumentation ?? []), this.metrics.listener()],
      stateStore: this.#store,
    };
    this.client = new RetryClient(this.#config);
    this.metrics.sample("retry_client_gateway_in_flight", () => this.#inFlight.size);
    for (const [name, settings] of Object.entries(base.providers ?? {})) {
      const type = (settings as ProviderSettings).type;
      this.#providerTypes.set(
        name,
        type === "anthropic" || type === "openai"
          ? type
          : name === "anthropic"
            ? "anthropic"
            : "openai",
      );
    }
    for (const name of BUILT_IN_PROVIDERS)
      if (!this.#providerTypes.has(name)) this.#providerTypes.set(name, name);
    this.#secrets = [...(options.secrets ?? []), ...(options.keys ?? [])];
    for (const settings of Object.values(base.providers ?? {})) {
      const key = (settings as ProviderSettings).apiKey;
      if (typeof key === "string") this.#secrets.push(key);
    }
    const env = base.env ?? process.env;
    for (const [name, value] of Object.entries(env))
      if (/_API_KEY$|_TOKEN$|_SECRET$|_GATEWAY_KEYS$/.test(name) && value)
        this.#secrets.push(value);
    this.#secrets = this.#secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);

    this.server = createServer(
      {
        headersTimeout: this.#limits.headersTimeoutMs,
        requestTimeout: Math.max(this.#limits.requestTimeoutMs, this.#limits.headersTimeoutMs),
        // How often the two bounds above are checked (Node's default is every 30 s).
        connectionsCheckingInterval: Math.min(1000, this.#limits.headersTimeoutMs),
        keepAliveTimeout: 5000,
      },
      (req, res) => this.#handle(req, res),
    );
  }

  /** Whether gateway keys are configured. */
  get requiresKey(): boolean {
    return this.#keys.enabled;
  }

  /** Whether the gateway is draining (then `/ready` answers 503). */
  get draining(): boolean {
    return this.#draining;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Starts listening. Without a gateway key only a loopback host is allowed.
   * @throws RangeError for a non-loopback host with no key configured.
   */
  async listen(port = 4000, host = "127.0.0.1"): Promise<GatewayAddress> {
    if (!this.#keys.enabled && !isLoopback(host))
      throw new RangeError(
        `refusing to listen on ${host} without a gateway key: pass --key (or set gateway.keys / RETRY_CLIENT_GATEWAY_KEYS), or listen on 127.0.0.1`,
      );
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return { host: address.address, port: address.port, url: `http://${shown}:${address.port}` };
  }

  /**
   * Graceful stop: `/ready` turns 503, no new connection is accepted, requests in flight (streams
   * too) may finish within `drainTimeoutMs`; then the rest are aborted and the clients closed.
   */
  drain(): Promise<void> {
    this.#drained ??= this.#drain();
    return this.#drained;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    this.#log("draining: no new connections; waiting for requests in flight");
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const deadline = Date.now() + this.#limits.drainTimeoutMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.#inFlight.size > 0) {
      this.#log(`drain timeout: aborting ${this.#inFlight.size} request(s) in flight`);
      for (const controller of this.#inFlight) controller.abort(new Error("gateway shutting down"));
    }
    this.server.closeAllConnections();
    await closed;
    await Promise.all([...this.#headerClients.values()].map((c) => c.close()));
    await this.client.close();
    if (this.#ownStore) await this.#store.close();
  }

  // ---- routing -----------------------------------------------------------------------------

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    if (req.method === "POST") {
      if (path === "/v1/chat/completions" || path === "/chat/completions") {
        this.#chat(req, res, openaiWire, "chat.completions");
        return;
      }
      if (path === "/v1/messages") {
        this.#chat(req, res, anthropicWire, "messages");
        return;
      }
    } else if ((req.method === "GET" || req.method === "HEAD") && this.#get(req, res, path)) {
      return;
    }
    const wire = path.startsWith("/v1/messages") ? anthropicWire : openaiWire;
    const known = [
      "/v1/chat/completions",
      "/chat/completions",
      "/v1/messages",
      "/health",
      "/ready",
      "/metrics",
      "/v1/models",
    ];
    const failure: GatewayFailure = known.includes(path)
      ? { status: 405, kind: "invalid", message: `method ${req.method} not allowed on ${path}` }
      : { status: 404, kind: "not-found", message: `no route ${req.method} ${path}` };
    this.#error(res, wire, failure);
    req.resume();
  }

  /** The GET routes; false when `path` is none of them. */
  #get(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    switch (path) {
      case "/health":
        this.#plain(res, 200, '{"status":"ok"}');
        return true;
      case "/ready":
        if (this.#draining) this.#plain(res, 503, '{"status":"draining"}');
        else this.#plain(res, 200, '{"status":"ready"}');
        return true;
      case "/metrics":
        if (!this.#keys.check(req.headers)) this.#unauthorized(res, openaiWire);
        else
          this.#send(
            res,
            200,
            { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
            this.#redact(this.metrics.render()),
          );
        return true;
      case "/v1/models":
        if (!this.#keys.check(req.headers)) this.#unauthorized(res, openaiWire);
        else this.#plain(res, 200, this.#modelList());
        return true;
      default:
        return false;
    }
  }

  #plain(res: ServerResponse, status: number, body: string): void {
    this.#send(res, status, { "content-type": "application/json" }, body);
  }

  #send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: string): void {
    if (this.#draining) headers.connection = "close";
    headers["content-length"] = Buffer.byteLength(body);
    res.writeHead(status, headers);
    res.end(body);
  }

  #error(
    res: ServerResponse,
    wire: GatewayWire,
    failure: GatewayFailure,
    extra: OutgoingHttpHeaders = {},
  ): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: OutgoingHttpHeaders = { "content-type": "application/json", ...extra };
    if (failure.retryAfterMs !== undefined)
      headers["retry-after"] = retryAfterSeconds(failure.retryAfterMs);
    if (wire === anthropicWire)
      headers["x-should-retry"] =
        failure.status === 429 || failure.status >= 500 ? "true" : "false";
    this.#send(
      res,
      failure.status,
      headers,
      wire.errorBody({ ...failure, message: this.#redact(failure.message) }),
    );
  }

  #unauthorized(res: ServerResponse, wire: GatewayWire): void {
    this.#error(
      res,
      wire,
      {
        status: 401,
        kind: "authentication",
        message:
          "missing or invalid gateway key: send it as Authorization: Bearer <key> or x-api-key",
      },
      { "www-authenticate": 'Bearer realm="retry-client"' },
    );
  }

  #modelList(): string {
    const seen = new Set<string>();
    const data: unknown[] = [];
    const add = (id: string, owner: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      data.push({ id, object: "model", created: 0, owned_by: owner });
    };
    for (const alias of this.#aliases.keys()) add(alias, "retry-client");
    for (const [name, type] of this.#providerTypes) {
      if (!this.client.hasKey(name)) continue;
      const settings = this.#config.providers?.[name] as ProviderSettings | undefined;
      if (settings?.defaultModel) add(`${name}:${settings.defaultModel}`, name);
      for (const entry of BUILT_IN_MODELS) {
        if (entry.provider === type)
          add(name === type ? entry.model : `${name}:${entry.model}`, name);
      }
    }
    return JSON.stringify({ object: "list", data });
  }

  // ---- the two wires ---------------------------------------------------------------------

  #chat(req: IncomingMessage, res: ServerResponse, wire: GatewayWire, route: string): void {
    const started = performance.now();
    if (!this.#keys.check(req.headers)) {
      this.#count(route, 401, started);
      this.#unauthorized(res, wire);
      req.resume();
      return;
    }
    if (this.#draining) {
      this.#count(route, 503, started);
      this.#error(res, wire, {
        status: 503,
        kind: "overloaded",
        message: "the gateway is shutting down",
        retryAfterMs: 1000,
      });
      req.resume();
      return;
    }
    if (this.#inFlight.size >= this.#limits.maxConcurrent) {
      this.#count(route, 503, started);
      this.#error(res, wire, {
        status: 503,
        kind: "overloaded",
        message: `too many requests in flight (maxConcurrent ${this.#limits.maxConcurrent})`,
        retryAfterMs: 1000,
      });
      req.resume();
      return;
    }
    const declared = Number(req.headers["content-length"]);
    if (declared > this.#limits.maxBodyBytes) {
      this.#tooLarge(req, res, wire, route, started);
      return;
    }

    const controller = new AbortController();
    this.#inFlight.add(controller);
    res.once("close", () => {
      this.#inFlight.delete(controller);
      if (!res.writableFinished && !controller.signal.aborted) {
        this.metrics.add("retry_client_gateway_upstream_aborts_total", { route });
        controller.abort(new Error("the caller disconnected"));
      }
    });

    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > this.#limits.maxBodyBytes) {
        tooLarge = true;
        chunks.length = 0;
        this.#tooLarge(req, res, wire, route, started);
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => {
      if (tooLarge || controller.signal.aborted) return;
      let request: GatewayRequest;
      let options: CallOptions;
      let client: RetryClient;
      try {
        let body: unknown;
        const text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString(
          "utf8",
        );
        try {
          body = JSON.parse(text);
        } catch {
          throw new GatewayRequestError("the body is not valid JSON", "body");
        }
        request = wire.parse(body);
        client = this.#clientFor(req);
        options = this.#callOptions(request, wire, controller.signal, client);
      } catch (error) {
        const failure = describeFailure(error);
        this.#count(route, failure.status, started);
        this.#error(res, wire, failure);
        return;
      }
      const done = request.stream
        ? this.#stream(res, wire, request, options, controller.signal, client, route, started)
        : this.#complete(res, wire, request, options, controller.signal, client, route, started);
      done.catch((error: unknown) => {
        this.#log(`internal error: ${this.#redact(String(error))}`);
        if (!res.headersSent)
          this.#error(res, wire, {
            status: 500,
            kind: "upstream",
            message: "internal gateway error",
          });
        else res.destroy();
      });
    });
    req.once("error", () => controller.abort(new Error("the request failed")));
  }

  #tooLarge(
    req: IncomingMessage,
    res: ServerResponse,
    wire: GatewayWire,
    route: string,
    started: number,
  ): void {
    this.#count(route, 413, started);
    this.#error(
      res,
      wire,
      {
        status: 413,
        kind: "too-large",
        message: `request body larger than maxBodyBytes (${this.#limits.maxBodyBytes} bytes)`,
      },
      { connection: "close" },
    );
    // Stop reading: the socket closes once the answer is out.
    req.pause();
    res.once("finish", () => req.socket.destroySoon());
  }

  #count(route: string, status: number, started: number): void {
    this.metrics.add("retry_client_gateway_requests_total", { route, status: String(status) });
    this.metrics.observe(
      "retry_client_gateway_request_duration_seconds",
      { route },
      (performance.now() - started) / 1000,
    );
  }

  /** The client to use: the main one, or one that forwards the request's feature headers. */
  #clientFor(req: IncomingMessage): RetryClient {
    let extra: Record<string, Record<string, string>> | undefined;
    let key = "";
    for (const type of ["anthropic", "openai"] as const) {
      for (const name of FEATURE_HEADERS[type]) {
        const value = req.headers[name];
        if (typeof value === "string" && value !== "") {
          extra ??= {};
          extra[type] = { ...extra[type], [name]: value };
          key += `${type}:${name}=${value}\n`;
        }
      }
    }
    if (extra === undefined) return this.client;
    let client = this.#headerClients.get(key);
    if (client) return client;
    if (this.#headerClients.size >= MAX_HEADER_CLIENTS) {
      const [oldestKey, oldest] = this.#headerClients.entries().next().value as [
        string,
        RetryClient,
      ];
      this.#headerClients.delete(oldestKey);
      void oldest.close();
    }
    const providers: Record<string, ProviderSettings> = {};
    for (const [name, type] of this.#providerTypes) {
      const settings = (this.#config.providers?.[name] ?? {}) as ProviderSettings;
      const headers = extra[type];
      providers[name] = headers
        ? { ...settings, headers: { ...settings.headers, ...headers } }
        : settings;
    }
    client = new RetryClient({ ...this.#config, providers });
    this.#headerClients.set(key, client);
    return client;
  }

  /** The call's target and options: alias → chain, `provider:model`, or a model name. */
  #callOptions(
    request: GatewayRequest,
    wire: GatewayWire,
    signal: AbortSignal,
    client: RetryClient,
  ): CallOptions {
    const target = this.#target(request.model, client);
    // A stream is cancelled through its own abort() (one signal less to combine per call).
    const options: Record<string, unknown> = request.stream
      ? { ...request.generation, ...target }
      : { ...request.generation, ...target, signal };
    const midStream = this.#config.midStreamFailure;
    // A restart cannot take back bytes the caller already has: after content started, the
    // gateway ends the stream with an error event instead.
    if (midStream === "restart") options.midStreamFailure = "error";
    if (request.passThrough) {
      const providerOptions: Record<string, Record<string, unknown>> = {};
      for (const [name, type] of this.#providerTypes)
        if (type === wire.name) providerOptions[name] = request.passThrough;
      options.providerOptions = providerOptions;
    }
    return options as CallOptions;
  }

  #target(
    model: string,
    client: RetryClient,
  ): Pick<CallOptions, "provider" | "model" | "fallbackModels"> {
    const cached = this.#aliasChains.get(model);
    if (cached) return cached;
    const alias = this.#aliases.get(model);
    if (alias) {
      const [first, ...rest] = alias.map(toSpec);
      const head = first as ModelSpec;
      const tail = client.chain({ provider: head.provider, model: head.model }).slice(1);
      const target = {
        provider: head.provider,
        model: head.model,
        fallbackModels: [...rest, ...tail],
      };
      this.#aliasChains.set(model, target);
      return target;
    }
    const colon = model.indexOf(":");
    if (colon > 0) {
      const provider = model.slice(0, colon);
      if (this.#providerTypes.has(provider)) return { provider, model: model.slice(colon + 1) };
    }
    return { model };
  }

  async #complete(
    res: ServerResponse,
    wire: GatewayWire,
    request: GatewayRequest,
    options: CallOptions,
    signal: AbortSignal,
    client: RetryClient,
    route: string,
    started: number,
  ): Promise<void> {
    let response: ChatResponse;
    try {
      response = await client.complete(request.messages, options);
    } catch (error) {
      this.#failed(res, wire, error, signal, route, started);
      return;
    }
    if (res.destroyed) return;
    this.#count(route, 200, started);
    this.#send(
      res,
      200,
      {
        "content-type": "application/json",
        "x-retry-client-provider": response.provider,
        "x-retry-client-model": response.model,
        "x-retry-client-attempts": String(response.attempts.length),
      },
      wire.response(response, request),
    );
  }

  #failed(
    res: ServerResponse,
    wire: GatewayWire,
    error: unknown,
    signal: AbortSignal,
    route: string,
    started: number,
  ): void {
    if (signal.aborted && (error === signal.reason || isAbort(error))) {
      // The caller left (or the drain deadline passed): nobody to answer.
      this.#count(route, 499, started);
      res.destroy();
      return;
    }
    const failure = describeFailure(error);
    this.#count(route, failure.status, started);
    if (failure.status >= 500)
      this.#log(`${route} ${failure.status}: ${this.#redact(failure.message)}`);
    const attempts = (error as { attempts?: readonly AttemptRecord[] }).attempts;
    this.#error(
      res,
      wire,
      failure,
      attempts ? { "x-retry-client-attempts": String(attempts.length) } : {},
    );
  }

  async #stream(
    res: ServerResponse,
    wire: GatewayWire,
    request: GatewayRequest,
    options: CallOptions,
    signal: AbortSignal,
    client: RetryClient,
    route: string,
    started: number,
  ): Promise<void> {
    const stream = client.stream(request.messages, options);
    const cancel = () => stream.abort(signal.reason);
    signal.addEventListener("abort", cancel, { once: true });
    const encoder = wire.streamEncoder(request);
    let provider = "";
    let model = "";
    let attempts = 0;
    let sent = false;
    // The frames of one turn (one network read upstream) leave in one write, on the next tick.
    let pending = "";
    const flush = () => {
      if (pending === "" || res.destroyed) return;
      const out = pending;
      pending = "";
      res.write(out);
    };
    const write = (frame: string) => {
      if (!sent) {
        sent = true;
        const headers: OutgoingHttpHeaders = {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
          "x-retry-client-provider": provider,
          "x-retry-client-model": model,
          "x-retry-client-attempts": String(attempts),
        };
        if (this.#draining) headers.connection = "close";
        res.writeHead(200, headers);
      }
      if (pending === "") process.nextTick(flush);
      pending += frame;
    };
    const end = (frame: string) => {
      write(frame);
      const out = pending;
      pending = "";
      res.end(out);
    };
    try {
      for await (const event of stream.events()) {
        if (event.type === "attempt-start") {
          provider = event.provider;
          model = event.model;
          attempts = event.attempt + 1;
        } else if (event.type === "restart" && sent) {
          throw event.error;
        }
        const frame = encoder.event(event);
        if (frame !== "") write(frame);
      }
      const response = await stream.response;
      if (res.destroyed) return;
      this.#count(route, 200, started);
      end(encoder.finish(response));
    } catch (error) {
      stream.abort();
      if (!sent) {
        this.#failed(res, wire, error, signal, route, started);
        return;
      }
      if (signal.aborted) {
        this.#count(route, 499, started);
        res.destroy();
        return;
      }
      const failure = describeFailure(error);
      this.#count(route, failure.status, started);
      this.#log(`${route} stream failed after content: ${this.#redact(failure.message)}`);
      end(encoder.error({ ...failure, message: this.#redact(failure.message) }));
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  }

  #redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets)
      if (out.includes(secret)) out = out.split(secret).join("***");
    return out;
  }

  #log(line: string): void {
    this.#options.log?.(this.#redact(line));
  }
}

function toSpec(ref: ModelRef): ModelSpec {
  if (Array.isArray(ref)) return { provider: ref[0] as string, model: ref[1] as string };
  return ref as ModelSpec;
}

function isAbort(error: unknown): boolean {
  return (error as { name?: unknown })?.name === "AbortError";
}

/** Builds a {@link Gateway}; call `listen()` to start it. */
export function createGateway(options: GatewayOptions = {}): Gateway {
  return new Gateway(options);
}
