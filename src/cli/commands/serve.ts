import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { Gateway, GatewaySettings } from "../../gateway/index.js";
import type { ClientConfig, ModelRef } from "../../index.node.js";
import { CliError, EXIT } from "../exit-codes.js";
import type { Output } from "../output.js";
import { type GlobalFlags, openStateStore, resolveSettings } from "../settings.js";

/** The flags of `retry-client serve`. */
export interface ServeFlags extends GlobalFlags {
  readonly host?: string;
  readonly port?: string;
  readonly key?: readonly string[];
  readonly workers?: string;
}

const GATEWAY_FIELDS = [
  "keys",
  "models",
  "maxBodyBytes",
  "maxConcurrent",
  "drainTimeoutMs",
  "headersTimeoutMs",
  "requestTimeoutMs",
];

function integer(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliError(
      `serve: ${name} must be an integer from ${min} to ${max}, got "${text}"`,
      EXIT.usage,
    );
  return n;
}

/** The config file as JSON (the `gateway` section and `state` are read here). */
async function readRaw(path: string | undefined): Promise<Record<string, unknown>> {
  if (path === undefined) return {};
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function gatewaySection(raw: unknown, path: string | undefined): GatewaySettings {
  if (raw === undefined) return {};
  const where = path ?? "the config file";
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new CliError(`${where}: "gateway" must be an object`, EXIT.usage);
  const section = raw as Record<string, unknown>;
  for (const key of Object.keys(section)) {
    if (!GATEWAY_FIELDS.includes(key))
      throw new CliError(
        `${where}: unknown key "gateway.${key}" (known: ${GATEWAY_FIELDS.join(", ")})`,
        EXIT.usage,
      );
  }
  if (
    section.keys !== undefined &&
    (!Array.isArray(section.keys) || section.keys.some((k) => typeof k !== "string" || k === ""))
  )
    throw new CliError(
      `${where}: "gateway.keys" must be an array of non-empty strings`,
      EXIT.usage,
    );
  if (section.models !== undefined) {
    const models = section.models as Record<string, unknown>;
    if (typeof models !== "object" || models === null || Array.isArray(models))
      throw new CliError(`${where}: "gateway.models" must map names to chains`, EXIT.usage);
    for (const [alias, chain] of Object.entries(models)) {
      const ok =
        Array.isArray(chain) &&
        chain.length > 0 &&
        chain.every(
          (ref) =>
            (Array.isArray(ref) && ref.length === 2 && ref.every((x) => typeof x === "string")) ||
            (typeof ref === "object" &&
              ref !== null &&
              typeof (ref as { provider?: unknown }).provider === "string" &&
              typeof (ref as { model?: unknown }).model === "string"),
        );
      if (!ok)
        throw new CliError(
          `${where}: "gateway.models.${alias}" must be a non-empty list of [provider, model]`,
          EXIT.usage,
        );
    }
  }
  for (const name of [
    "maxBodyBytes",
    "maxConcurrent",
    "drainTimeoutMs",
    "headersTimeoutMs",
    "requestTimeoutMs",
  ]) {
    const value = section[name];
    if (value !== undefined && (typeof value !== "number" || !Number.isInteger(value) || value < 1))
      throw new CliError(`${where}: "gateway.${name}" must be a positive integer`, EXIT.usage);
  }
  return section as GatewaySettings & { models?: Record<string, ModelRef[]> };
}

/**
 * `retry-client serve`: the gateway. Prints `listening on http://HOST:PORT` on stdout, runs until
 * SIGTERM/SIGINT, drains, and resolves (exit 0). With `--workers N` (N > 1) this process forks N
 * workers that share the port (`node:cluster`) and forwards the signals to them.
 */
export async function serveCommand(out: Output, flags: ServeFlags): Promise<void> {
  const host = flags.host ?? "127.0.0.1";
  const port = integer("--port", flags.port ?? "4000", 0, 65_535) ?? 4000;
  const workers = integer("--workers", flags.workers, 1, 256) ?? 1;
  const env = process.env;
  const settings = await resolveSettings({ ...flags, state: flags.state ?? "memory" });
  const raw = await readRaw(settings.configPath);
  const gateway = gatewaySection(raw.gateway, settings.configPath);
  // A gateway keeps its state in memory unless told otherwise (`--state`, RETRY_CLIENT_STATE or
  // the config file's "state"): a server's hot path must not go through a file by default.
  const state =
    flags.state ??
    (env.RETRY_CLIENT_STATE?.trim() || undefined) ??
    (typeof raw.state === "string" ? raw.state : undefined) ??
    "memory";
  if (state !== "memory" && state !== "file" && !/^rediss?:\/\//.test(state))
    throw new CliError(
      `--state must be memory, file or a redis:// URL, got "${state}"`,
      EXIT.usage,
    );
  const keys = [
    ...(flags.key ?? []),
    ...(gateway.keys ?? []),
    ...(env.RETRY_CLIENT_GATEWAY_KEYS ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter((k) => k !== ""),
  ];
  out.addSecrets([...settings.secrets, ...keys]);
  if (/^rediss?:\/\//.test(state)) {
    try {
      out.addSecrets([decodeURIComponent(new URL(state).password)]);
    } catch {
      // Not a parsable URL: the store will say so.
    }
  }
  const { gateway: _section, ...clientConfig } = settings.config as ClientConfig & {
    gateway?: unknown;
  };

  // Loaded only when serving: the other commands start no faster for the gateway's existence.
  const { default: cluster } = await import("node:cluster");
  const { createGateway, isLoopback } = await import("../../gateway/index.js");
  if (workers > 1 && cluster.isPrimary) {
    if (keys.length === 0 && !isLoopback(host))
      throw new CliError(
        `refusing to listen on ${host} without a gateway key: pass --key (or set gateway.keys / RETRY_CLIENT_GATEWAY_KEYS), or listen on 127.0.0.1`,
        EXIT.usage,
      );
    if (state === "memory")
      out.err(
        "retry-client serve: note: with --state memory each worker keeps its own breakers; use --state file or redis:// to share them\n",
      );
    await runPrimary(out, workers, cluster);
    return;
  }

  const store = await openStateStore(state);
  // A shared store connects before the first request rather than during it.
  await store.get("gateway:warm-up").catch(() => undefined);
  let instance: Gateway;
  try {
    instance = createGateway({
      ...gateway,
      keys,
      client: { ...clientConfig, stateStore: store },
      secrets: settings.secrets,
      log: (line) => out.err(`retry-client serve: ${line}\n`),
    });
  } catch (error) {
    await store.close();
    throw new CliError(`serve: ${(error as Error).message}`, EXIT.usage);
  }
  let address: Awaited<ReturnType<typeof instance.listen>>;
  try {
    address = await instance.listen(port, host);
  } catch (error) {
    await store.close();
    const message = (error as Error).message;
    throw new CliError(`serve: ${message}`, error instanceof RangeError ? EXIT.usage : EXIT.failed);
  }
  if (cluster.isWorker) process.send?.({ type: "listening", url: address.url });
  else out.out(`listening on ${address.url}\n`);
  if (!instance.requiresKey)
    out.err("retry-client serve: no gateway key configured: listening on loopback only\n");

  // The first SIGTERM/SIGINT drains. A second one ends a single process at once; a worker
  // ignores it (with Ctrl-C the terminal signals the whole group, and the primary forwards too).
  let signals = 0;
  const onSignal = (resolve: () => void) => () => {
    signals += 1;
    if (signals === 1) resolve();
    else if (!cluster.isWorker) process.exit(130);
  };
  let handler: (() => void) | undefined;
  await new Promise<void>((resolve) => {
    handler = onSignal(resolve);
    process.on("SIGTERM", handler);
    process.on("SIGINT", handler);
  });
  await instance.drain();
  await store.close();
  if (handler) {
    process.off("SIGTERM", handler);
    process.off("SIGINT", handler);
  }
  process.exitCode = EXIT.ok;
}

/** Forks the workers, prints the address once, forwards SIGTERM/SIGINT, waits for them all. */
async function runPrimary(
  out: Output,
  count: number,
  cluster: typeof import("node:cluster").default,
): Promise<void> {
  let printed = false;
  let stopping = false;
  const alive = new Set<ReturnType<typeof cluster.fork>>();
  await new Promise<void>((resolve, reject) => {
    const stop = (signal: NodeJS.Signals) => {
      // A second signal does not wait for the drain.
      const forced = stopping;
      stopping = true;
      for (const worker of alive) worker.process.kill(forced ? "SIGKILL" : signal);
    };
    const onTerm = () => stop("SIGTERM");
    const onInt = () => stop("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
    const fork = () => {
      const worker = cluster.fork();
      alive.add(worker);
      worker.on("message", (message: { type?: string; url?: string }) => {
        if (message?.type === "listening" && !printed) {
          printed = true;
          out.out(`listening on ${message.url}\n`);
        }
      });
      worker.on("exit", (code, signal) => {
        alive.delete(worker);
        if (!stopping && !printed) {
          stopping = true;
          for (const other of alive) other.process.kill("SIGTERM");
          reject(
            new CliError(`serve: a worker exited with code ${code} before listening`, EXIT.usage),
          );
        } else if (!stopping) {
          // A worker that died on its own is replaced: the port keeps its N processes.
          out.err(`retry-client serve: a worker exited (${signal ?? code}); starting another\n`);
          fork();
        }
        if (alive.size === 0 && stopping) {
          process.off("SIGTERM", onTerm);
          process.off("SIGINT", onInt);
          resolve();
        }
      });
    };
    for (let i = 0; i < count; i++) fork();
  });
  process.exitCode = EXIT.ok;
}

/** Adds `serve` to the program (its one registration line lives in program.ts). */
export function registerServe(program: Command, out: Output): void {
  program
    .command("serve")
    .description(
      "run the gateway: OpenAI and Anthropic wires in and out, every request through the client",
    )
    .option(
      "--host <host>",
      "address to listen on (without a key only loopback is allowed)",
      "127.0.0.1",
    )
    .option("--port <n>", "TCP port (0 picks a free one)", "4000")
    .option(
      "--key <key>",
      "gateway key callers must send (Authorization: Bearer or x-api-key); repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--workers <n>", "processes sharing the port (node:cluster)", "1")
    .addHelpText(
      "after",
      "\nEnvironment: RETRY_CLIENT_GATEWAY_KEYS (comma-separated keys), OPENAI_API_KEY, ANTHROPIC_API_KEY, *_BASE_URL, RETRY_CLIENT_STATE\n" +
        "Example:\n  retry-client serve --port 4000\n  OPENAI_BASE_URL=http://127.0.0.1:4000/v1 python my_app.py\n",
    )
    .action(async (_opts: unknown, command: Command) => {
      await serveCommand(out, command.optsWithGlobals<ServeFlags>());
    });
}
