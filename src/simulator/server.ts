import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ConfigurationError } from "../errors/index.js";
import { type AnswerPlan, DEFAULT_TEXT, planAnswer } from "./answer.js";
import { anthropicWire } from "./anthropic-wire.js";
import { azureWire } from "./azure-wire.js";
import { type Fault, parseModelName } from "./faults.js";
import { checkLatency, drawLatency, type LatencyByModel } from "./latency.js";
import { openaiWire } from "./openai-wire.js";
import { KeyRateLimiter, rateLimitHeadersFor, type SimulatedRateLimit } from "./rate-limiter.js";
import {
  BUILT_IN_SCENARIO_NAMES,
  BUILT_IN_SCENARIOS,
  type CompiledScenario,
  compileScenario,
  type FaultSource,
  type Scenario,
  selectFault,
} from "./scenario.js";
import type { Frame, Wire, WireContext, WireError, WireName } from "./wire.js";

/** Options of {@link startSimulator}. Every field is optional. */
export interface SimulatorOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  readonly port?: number | undefined;
  /** @default "127.0.0.1" */
  readonly host?: string | undefined;
  /** A scenario script, or the name of a built-in one (`healthy`, `flaky`, `outage`, `chaos`, `demo`). */
  readonly scenario?: Scenario | string | undefined;
  /** Seed of chaos and `rate` draws; overrides the scenario's. @default the scenario's seed, else 1 */
  readonly seed?: number | undefined;
  /** Answer text; overrides the scenario's. @default a short fixed sentence */
  readonly text?: string | undefined;
  /** Pause between streamed content deltas, in ms. @default 0 */
  readonly tokenDelayMs?: number | undefined;
  /** The clock (epoch ms) used for scenario timelines, `created` fields and reset headers. @default Date.now */
  readonly now?: (() => number) | undefined;
  /** Oldest log entries are dropped past this many. @default 10000 */
  readonly maxLogEntries?: number | undefined;
  /**
   * Accept requests without any key, as Ollama, vLLM or LM Studio do (a key that is sent is
   * still checked). @default false
   */
  readonly keyless?: boolean | undefined;
  /** A real rate limit per API key (requests and tokens per window). @default none */
  readonly rateLimit?: SimulatedRateLimit | undefined;
  /** Time before each answer, per model: fixed or a distribution with a tail. @default none */
  readonly latency?: LatencyByModel | undefined;
}

/** How a request ended, as the simulator saw it. */
export type RequestOutcome =
  /** Still being answered (or held open by `stall` / `hang`). */
  | "pending"
  /** A complete answer was sent. */
  | "ok"
  /** An HTTP error status was sent. */
  | "error"
  /** A 200 stream that carried an error event. */
  | "in-band-error"
  /** A 200 stream that ended without its terminator (`[DONE]` / `message_stop`). */
  | "no-terminator"
  /** The socket was reset before any response. */
  | "reset"
  /** Never answered (`hang`). */
  | "no-response"
  /** The socket was destroyed mid-answer. */
  | "cut"
  /** Stopped sending mid-answer, socket left open. */
  | "stalled"
  /** The client went away before the answer was complete. */
  | "client-closed";

/** One request the simulator received (its `/__simulator/*` control calls excepted). */
export interface SimulatorRequest {
  /** 1, 2, 3… since start or reset. */
  readonly id: number;
  /** Arrival time on the simulator clock (epoch ms). */
  readonly time: number;
  /** Milliseconds since start or reset. */
  readonly elapsedMs: number;
  readonly method: string;
  readonly path: string;
  readonly wire: WireName;
  /** The model as sent, fault directives included. */
  readonly model: string | undefined;
  readonly stream: boolean;
  /** Canonical name of the fault applied (`"503"`, `"cut-after-3"` …); undefined when healthy. */
  readonly fault: string | undefined;
  /** Where the fault came from. */
  readonly faultSource: FaultSource | undefined;
  /** HTTP status sent; undefined when none was (reset, hang). */
  readonly status: number | undefined;
  readonly outcome: RequestOutcome;
  /** The `x-request-id` / `request-id` sent. */
  readonly requestId: string | undefined;
  /** Content deltas sent (streams). */
  readonly deltasSent: number;
  /** Until the answer ended, on the simulator clock; undefined while pending. */
  readonly durationMs: number | undefined;
  /** The parsed JSON request body (undefined for GETs or a body that is not JSON). */
  readonly body: unknown;
  /** The query string sent (without `?`), if any. */
  readonly query: string | undefined;
  /** Which header carried a key (`authorization`, `x-api-key`, `api-key`); undefined for none. Never the key. */
  readonly auth: "authorization" | "x-api-key" | "api-key" | undefined;
}

/** A running simulator. */
export interface Simulator {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  /** `${url}/v1`: what OpenAI SDKs and `OPENAI_BASE_URL` take. */
  readonly openaiBaseURL: string;
  /** `${url}`: what Anthropic SDKs and `ANTHROPIC_BASE_URL` take. */
  readonly anthropicBaseURL: string;
  /** A copy of the request log, oldest first. */
  requests(): SimulatorRequest[];
  /** Clears the log, the per-model counters and restarts the scenario clock. */
  reset(): void;
  /** Replaces the scenario (a script or a built-in name); restarts counters and clock, keeps the log. */
  setScenario(scenario: Scenario | string | undefined): void;
  /** The scenario in force, as given. */
  scenario(): Scenario | undefined;
  /** Replaces the per-key rate limit (`undefined`: none); counters start afresh. */
  setRateLimit(limit: SimulatedRateLimit | undefined): void;
  /** Replaces the per-model latency table (`undefined`: none). */
  setLatency(latency: LatencyByModel | undefined): void;
  /** Stops listening, ends every open connection (keep-alive, stalled, hung) and pending timer. */
  close(): Promise<void>;
}

type MutableEntry = { -readonly [K in keyof SimulatorRequest]: SimulatorRequest[K] };

const DEFAULT_MODEL: Readonly<Record<WireName, string>> = {
  openai: "gpt-4o-mini",
  azure: "gpt-4o-mini",
  anthropic: "claude-sonnet-4-20250514",
};

function resolveScenario(scenario: Scenario | string | undefined): Scenario | undefined {
  if (typeof scenario !== "string") return scenario;
  const found = BUILT_IN_SCENARIOS[scenario];
  if (!found)
    throw new ConfigurationError(
      `simulator: unknown built-in scenario "${scenario}" (known: ${BUILT_IN_SCENARIO_NAMES.join(", ")})`,
      { option: "scenario" },
    );
  return found;
}

/** Reads a request body as text (events, not async iteration: this is the hot path). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (chunks.length === 0) resolve("");
      else
        resolve(
          chunks.length === 1
            ? chunks[0]!.toString("utf8")
            : Buffer.concat(chunks).toString("utf8"),
        );
    });
    req.on("error", reject);
  });
}

function checkOption(name: string, value: number | undefined, integer: boolean): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value)))
    throw new RangeError(
      `simulator: expected a non-negative ${integer ? "integer" : "number"} for ${name}, got ${value}`,
    );
}

/**
 * Starts a local server that speaks the OpenAI Chat Completions and Anthropic Messages wire
 * formats and misbehaves on purpose, as model names (`gpt-4o~503-first-2`) or a scenario say.
 *
 * @example
 * const sim = await startSimulator({ scenario: "flaky", seed: 7 });
 * const client = new RetryClient({ providers: { openai: { apiKey: "sim", baseURL: sim.openaiBaseURL } } });
 * await sim.close();
 * @throws ConfigurationError for an invalid scenario; RangeError for a bad numeric option.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  checkOption("port", options.port, true);
  checkOption("tokenDelayMs", options.tokenDelayMs, false);
  checkOption("maxLogEntries", options.maxLogEntries, true);
  const now = options.now ?? Date.now;
  const tokenDelayMs = options.tokenDelayMs ?? 0;
  const maxLog = options.maxLogEntries ?? 10_000;
  let limiter = options.rateLimit ? new KeyRateLimiter(options.rateLimit) : undefined;
  let latency = options.latency;
  if (latency) checkLatency(latency);

  let scenarioSource = resolveScenario(options.scenario);
  let compiled: CompiledScenario | undefined = scenarioSource
    ? compileScenario(scenarioSource)
    : undefined;
  let log: MutableEntry[] = [];
  let nextId = 1;
  let serial = 0;
  let epochMs = now();
  let firstRequestMs: number | undefined;
  let models = new Map<string, { count: number; firstMs: number }>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const seed = () => options.seed ?? compiled?.seed ?? 1;
  const answerText = () => options.text ?? compiled?.text ?? DEFAULT_TEXT;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const restartClocks = () => {
    epochMs = now();
    firstRequestMs = undefined;
    models = new Map();
  };

  const record = (entry: Omit<MutableEntry, "id" | "elapsedMs">): MutableEntry => {
    const full: MutableEntry = { id: nextId++, elapsedMs: entry.time - epochMs, ...entry };
    log.push(full);
    if (log.length > maxLog * 2) log = log.slice(log.length - maxLog);
    return full;
  };

  const finish = (entry: MutableEntry, outcome: RequestOutcome, status?: number) => {
    entry.outcome = outcome;
    if (status !== undefined) entry.status = status;
    entry.durationMs = now() - entry.time;
  };

  const sendReply = (
    res: ServerResponse,
    entry: MutableEntry,
    reply: { status: number; headers: Readonly<Record<string, string>>; body: string },
  ) => {
    res.writeHead(reply.status, {
      ...reply.headers,
      "content-length": Buffer.byteLength(reply.body),
    });
    res.end(reply.body);
    finish(entry, reply.status >= 400 ? "error" : "ok", reply.status);
  };

  /** Resets the connection (RST) before any byte of a response. */
  const resetSocket = (socket: Socket) => {
    if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
    else socket.destroy();
  };

  /** Closes the connection mid-response: what was written still arrives, the rest never does. */
  const cut = (res: ServerResponse) => {
    const socket = res.socket;
    if (!socket) return void res.destroy();
    socket.end(() => socket.destroy());
  };

  /** Writes a stream, applying stream faults. */
  const stream = async (
    res: ServerResponse,
    entry: MutableEntry,
    wire: Wire,
    context: WireContext,
    frames: readonly Frame[],
    fault: Fault,
  ) => {
    const stopAt =
      fault.kind === "cut" || fault.kind === "stall" || fault.kind === "sse-error"
        ? fault.afterTokens
        : undefined;
    const malformedAt = fault.kind === "malformed" ? fault.afterTokens : undefined;
    let slowMs = fault.kind === "slow" ? fault.delayMs : 0;
    let lastContent = -1;
    frames.forEach((f, i) => {
      if (f.content) lastContent = i;
    });
    res.writeHead(200, wire.successHeaders(context, true));
    let buffer = "";
    const flush = () => {
      if (buffer !== "") res.write(buffer);
      buffer = "";
    };
    let sent = 0;
    let malformedDone = false;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      if (res.destroyed || closed) return;
      const at = (n: number) => sent === n && (frame.content || i > lastContent);
      if (slowMs > 0 && (frame.content || i > lastContent)) {
        flush();
        const interval = Math.max(5, Math.min(1000, Math.floor(slowMs / 3)));
        while (slowMs > 0) {
          const step = Math.min(interval, slowMs);
          await sleep(step);
          slowMs -= step;
          if (res.destroyed || closed) return;
          if (slowMs > 0) res.write(wire.keepAlive());
        }
      } else if (frame.content && sent > 0 && tokenDelayMs > 0) {
        flush();
        await sleep(tokenDelayMs);
        if (res.destroyed || closed) return;
      }
      if (stopAt !== undefined && at(stopAt)) {
        entry.deltasSent = sent;
        if (fault.kind === "sse-error") {
          buffer += wire.inBandError(context);
          flush();
          res.end();
          finish(entry, "in-band-error", 200);
        } else if (fault.kind === "cut") {
          flush();
          cut(res);
          finish(entry, "cut", 200);
        } else {
          flush();
          finish(entry, "stalled", 200);
          entry.durationMs = undefined;
        }
        return;
      }
      if (malformedAt !== undefined && !malformedDone && at(malformedAt)) {
        buffer += wire.malformedFrame(context);
        malformedDone = true;
      }
      if (frame.terminator && fault.kind === "no-terminator") continue;
      buffer += frame.text;
      if (frame.content) sent++;
    }
    flush();
    res.end();
    entry.deltasSent = sent;
    finish(entry, fault.kind === "no-terminator" ? "no-terminator" : "ok", 200);
  };

  const answerChat = async (
    req: IncomingMessage,
    res: ServerResponse,
    entry: MutableEntry,
    baseWire: Wire,
    body: unknown,
    apiKey: string,
  ) => {
    let wire = baseWire;
    const id = ++serial;
    const requestId = wire.requestId(id);
    entry.requestId = requestId;
    const baseContext: WireContext = {
      requestId,
      model: DEFAULT_MODEL[wire.name],
      nowMs: entry.time,
      serial: id,
    };
    const chat = wire.parseChat(body);
    if ("error" in chat) {
      const error: WireError = {
        kind: "bad-request",
        message: chat.error,
        ...(chat.param ? { param: chat.param } : {}),
      };
      return sendReply(res, entry, wire.error(error, baseContext));
    }
    entry.model = chat.model;
    entry.stream = chat.stream;
    let parsed: ReturnType<typeof parseModelName>;
    try {
      parsed = parseModelName(chat.model);
    } catch (error) {
      return sendReply(
        res,
        entry,
        wire.error(
          { kind: "bad-request", message: (error as Error).message, param: "model" },
          baseContext,
        ),
      );
    }
    const context: WireContext = {
      ...baseContext,
      model: parsed.model === "" ? DEFAULT_MODEL[wire.name] : parsed.model,
    };
    let state = models.get(chat.model);
    if (!state) {
      state = { count: 0, firstMs: entry.time };
      models.set(chat.model, state);
    }
    firstRequestMs ??= entry.time;
    const scenarioEpoch = compiled?.clock === "first-request" ? firstRequestMs : epochMs;
    const choice = selectFault(
      {
        modelKey: chat.model,
        model: context.model,
        directives: parsed.directives,
        requestIndex: state.count++,
        sinceModelFirstMs: entry.time - state.firstMs,
        scenarioMs: entry.time - scenarioEpoch,
        seed: seed(),
        hasPrefill: chat.answer.prefill !== undefined,
      },
      compiled,
    );
    const fault = choice.fault;
    const quirks = {
      noFinishReason: fault.kind === "no-finish-reason",
      repeatToolIds: fault.kind === "repeat-tool-ids",
    };
    if (fault.kind !== "ok") {
      entry.fault = choice.name;
      entry.faultSource = choice.source;
    }
    const plan: AnswerPlan = planAnswer({
      ...chat.answer,
      text: answerText(),
      toolCallId: wire.toolCallId(id),
    });
    if (limiter) {
      // Charged at admission like the real APIs: the input estimate plus the output asked for.
      const tokens = plan.inputTokens + (chat.answer.maxTokens ?? plan.outputTokens);
      const admission = limiter.admit(apiKey, tokens, entry.time);
      const truthful = rateLimitHeadersFor(wire.name, admission.state);
      if (!admission.admitted) {
        entry.fault = `rate-limited-${admission.exceeded}`;
        const reply = wire.error(
          {
            kind: "rate-limit",
            style: wire.name === "anthropic" ? "seconds" : "reset",
            waitMs: admission.state.resetMs,
          },
          context,
        );
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(reply.headers))
          if (!/^(x-|anthropic-)ratelimit-/.test(name)) headers[name] = value;
        return sendReply(res, entry, { ...reply, headers: { ...headers, ...truthful } });
      }
      wire = {
        ...baseWire,
        successHeaders: (c, s) => ({ ...baseWire.successHeaders(c, s), ...truthful }),
      };
    }
    switch (fault.kind) {
      case "reset":
        resetSocket(req.socket);
        return finish(entry, "reset");
      case "hang":
        entry.outcome = "no-response";
        return;
      case "silent-close":
        await sleep(fault.afterMs);
        if (!res.destroyed && !closed) req.socket.destroy();
        return finish(entry, "reset");
      case "rate-limit":
      case "quota":
      case "too-large":
      case "status":
      case "overloaded":
      case "context-length":
      case "content-filter":
      case "rejects-prefill":
        return sendReply(res, entry, wire.error(fault, context));
      case "sse-error":
        if (!chat.stream) return sendReply(res, entry, wire.error(fault, context));
        break;
    }
    const delayMs = drawLatency(latency, context.model, chat.model, state.count - 1, seed());
    if (delayMs > 0) {
      await sleep(delayMs);
      if (res.destroyed || closed) return;
    }
    if (chat.stream)
      return stream(
        res,
        entry,
        wire,
        context,
        wire.streamFrames(plan, context, chat.includeUsage, quirks),
        fault,
      );
    if (fault.kind === "slow") {
      await sleep(fault.delayMs);
      if (res.destroyed || closed) return;
    }
    const text = wire.completion(plan, context, quirks);
    if (fault.kind === "cut" || fault.kind === "stall") {
      const bytes = Buffer.from(text);
      res.writeHead(200, {
        ...wire.successHeaders(context, false),
        "content-length": bytes.length,
      });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      if (fault.kind === "cut") cut(res);
      finish(entry, fault.kind === "cut" ? "cut" : "stalled", 200);
      if (fault.kind === "stall") entry.durationMs = undefined;
      return;
    }
    sendReply(res, entry, {
      status: 200,
      headers: wire.successHeaders(context, false),
      body: text,
    });
  };

  const control = async (req: IncomingMessage, res: ServerResponse, path: string, raw: string) => {
    const json = (status: number, value: unknown) => {
      const text = JSON.stringify(value);
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
    };
    try {
      if (req.method === "GET" && path === "/__simulator/requests")
        // Fields that are undefined in-process read as null over HTTP, so every key is present.
        return json(
          200,
          log.map((e) =>
            Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v === undefined ? null : v])),
          ),
        );
      if (req.method === "POST" && path === "/__simulator/reset") {
        sim.reset();
        return json(200, { ok: true });
      }
      if (path === "/__simulator/scenario") {
        if (req.method === "GET") return json(200, scenarioSource ?? null);
        if (req.method === "POST") {
          const value =
            raw.trim() === "" ? undefined : (JSON.parse(raw) as Scenario | string | null);
          sim.setScenario(value ?? undefined);
          return json(200, { ok: true, scenario: scenarioSource ?? null });
        }
      }
      return json(404, { error: `unknown simulator endpoint ${req.method} ${path}` });
    } catch (error) {
      return json(400, { error: (error as Error).message });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const raw = await readBody(req);
    if (path.startsWith("/__simulator/")) return control(req, res, path, raw);

    const headers = req.headers;
    const query = q < 0 ? undefined : rawUrl.slice(q + 1);
    const azurePath = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(path);
    const isAzure = azurePath !== null || path === "/openai/models";
    const looksAnthropic =
      headers["x-api-key"] !== undefined || headers["anthropic-version"] !== undefined;
    const isChatOpenAI = path === "/v1/chat/completions" || path === "/chat/completions";
    const isChatAnthropic = path === "/v1/messages";
    const wire = isAzure
      ? azureWire
      : isChatAnthropic
        ? anthropicWire
        : isChatOpenAI
          ? openaiWire
          : looksAnthropic
            ? anthropicWire
            : openaiWire;
    let body: unknown;
    let bodyError = false;
    if (raw !== "") {
      try {
        body = JSON.parse(raw);
      } catch {
        bodyError = true;
      }
    }
    // Azure names the model by its deployment, in the path.
    if (azurePath && typeof body === "object" && body !== null && !Array.isArray(body)) {
      body = { ...body, model: decodeURIComponent(azurePath[1]!) };
    }
    const auth =
      headers.authorization !== undefined
        ? "authorization"
        : headers["x-api-key"] !== undefined
          ? "x-api-key"
          : headers["api-key"] !== undefined
            ? "api-key"
            : undefined;
    const entry = record({
      time: now(),
      method: req.method ?? "GET",
      path,
      wire: wire.name,
      model: undefined,
      stream: false,
      fault: undefined,
      faultSource: undefined,
      status: undefined,
      outcome: "pending",
      requestId: undefined,
      deltasSent: 0,
      durationMs: undefined,
      body,
      query,
      auth,
    });
    res.on("close", () => {
      if (entry.outcome === "pending" && !res.writableFinished) finish(entry, "client-closed");
    });
    const context: WireContext = {
      requestId: wire.requestId(serial + 1),
      model: DEFAULT_MODEL[wire.name],
      nowMs: entry.time,
      serial: serial + 1,
    };

    // Authentication: any non-empty key works; one starting with "invalid" is refused. A
    // keyless simulator (Ollama-like) also accepts none.
    const bearer = /^Bearer\s+(.*)$/i.exec(headers.authorization ?? "")?.[1]?.trim();
    const key =
      wire.name === "azure"
        ? (headers["api-key"] as string | undefined)
        : wire.name === "anthropic"
          ? ((headers["x-api-key"] as string | undefined) ?? bearer)
          : bearer;
    if (!key && !options.keyless)
      return sendReply(res, entry, wire.error({ kind: "missing-key" }, context));
    if (key?.startsWith("invalid"))
      return sendReply(res, entry, wire.error({ kind: "invalid-key", key }, context));
    if (wire.name === "anthropic" && headers["anthropic-version"] === undefined)
      return sendReply(
        res,
        entry,
        wire.error(
          { kind: "bad-request", message: "anthropic-version: header is required" },
          context,
        ),
      );
    if (isAzure && !/(?:^|&)api-version=[^&]+/.test(query ?? ""))
      return sendReply(
        res,
        entry,
        wire.error({ kind: "unknown-route", method: req.method ?? "GET", path }, context),
      );
    if (isAzure && req.method === "GET") {
      return sendReply(res, entry, {
        status: 200,
        headers: wire.successHeaders(context, false),
        body: wire.listModels(context, []),
      });
    }

    if (req.method === "GET" && (path === "/v1/models" || path === "/models")) {
      const extra = compiled ? [...compiled.models.keys()].filter((m) => m !== "*") : [];
      return sendReply(res, entry, {
        status: 200,
        headers: wire.successHeaders(context, false),
        body: wire.listModels(context, extra),
      });
    }
    const modelPath = /^\/?(?:v1\/)?models\/(.+)$/.exec(path.slice(1));
    if (req.method === "GET" && modelPath) {
      return sendReply(res, entry, {
        status: 200,
        headers: wire.successHeaders(context, false),
        body: wire.retrieveModel(decodeURIComponent(modelPath[1]!), context),
      });
    }
    if (req.method === "POST" && (isChatOpenAI || isChatAnthropic || azurePath)) {
      if (bodyError) {
        const rejected = wire.parseChat(null);
        const message = "error" in rejected ? rejected.error : "invalid JSON";
        return sendReply(res, entry, wire.error({ kind: "bad-request", message }, context));
      }
      return answerChat(req, res, entry, wire, body, key ?? "");
    }
    return sendReply(
      res,
      entry,
      wire.error({ kind: "unknown-route", method: req.method ?? "GET", path }, context),
    );
  };

  const server: Server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        const text = JSON.stringify({
          error: {
            message: `simulator error: ${(error as Error).message}`,
            type: "server_error",
            param: null,
            code: null,
          },
        });
        res.writeHead(500, { "content-type": "application/json" });
        res.end(text);
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  const sim: Simulator = {
    url,
    port: address.port,
    openaiBaseURL: `${url}/v1`,
    anthropicBaseURL: url,
    requests: () => log.map((e) => ({ ...e })),
    reset() {
      log = [];
      nextId = 1;
      limiter?.reset();
      restartClocks();
    },
    setRateLimit(limit) {
      limiter = limit ? new KeyRateLimiter(limit) : undefined;
    },
    setLatency(table) {
      if (table) checkLatency(table);
      latency = table;
    },
    setScenario(scenario) {
      const source = resolveScenario(scenario);
      compiled = source ? compileScenario(source) : undefined;
      scenarioSource = source;
      restartClocks();
    },
    scenario: () => scenarioSource,
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return sim;
}
