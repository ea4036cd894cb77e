import {
  type CallOptions,
  type CircuitState,
  type ClientConfig,
  ConfigurationError,
  MemoryStateStore,
  type ProviderSettings,
  RetryClient,
  type StateStore,
  type Warning,
} from "../index.node.js";
import { CliError, EXIT } from "./exit-codes.js";
import type { Output } from "./output.js";
import { Progress } from "./progress.js";
import {
  type GlobalFlags,
  keyVariable,
  openStateStore,
  resolveSettings,
  type Settings,
} from "./settings.js";

/** What a command works with: its settings, output, client and progress display. */
export interface CommandContext {
  readonly settings: Settings;
  readonly out: Output;
  readonly client: RetryClient;
  readonly store: StateStore;
  /** A fresh progress display for one call (on stderr only, so `--json` output stays clean). */
  progress(): Progress;
  /** Aborted on Ctrl-C (commands that handle it themselves, like `chat`, opt out). */
  readonly signal: AbortSignal;
  /** Whether stdout is in the middle of a line (an answer being streamed). */
  midLine: boolean;
  /**
   * Throws a usage error (exit 2, naming the variable) when the call cannot reach a keyed target:
   * `-p`/`-m` picked a provider with no key (a silent fallback would mislead), or no target of
   * the chain has one.
   */
  requireKey(call?: Pick<CallOptions, "provider" | "model">): void;
  /** True when the state store reported that it cannot be reached or used during this command. */
  readonly storeUnavailable: boolean;
  /** Closes the client and the store. */
  close(): Promise<void>;
}

/** Set when Ctrl-C interrupted a command (exit 130). */
export const interruption = { happened: false };

/** Warning codes that mean the state store could not be used at all. */
const STORE_DOWN = new Set(["state-store-unreachable", "state-file-unusable"]);

/** Builds the client; a bad value of the config file is a usage error naming the file. */
function createClient(settings: Settings, config: ClientConfig): RetryClient {
  try {
    return new RetryClient(config);
  } catch (error) {
    if (!(error instanceof RangeError || ConfigurationError.isInstance(error))) throw error;
    const message = (error as Error).message;
    if (settings.configPath !== undefined) {
      try {
        // Is the file alone at fault? Then say so.
        new RetryClient({ ...settings.fileConfig, env: {}, stateStore: new MemoryStateStore() });
      } catch (fileError) {
        throw new CliError(
          `config file ${settings.configPath}: ${(fileError as Error).message}`,
          EXIT.usage,
          { cause: fileError },
        );
      }
    }
    throw new CliError(message, EXIT.usage, { cause: error });
  }
}

/**
 * Resolves flags, opens the state store and builds the client every command uses. Keys read are
 * registered with `out` for redaction before anything is printed. Warnings (a state store that
 * cannot be reached, a corrupt state file) are printed once each on stderr.
 */
export async function openContext(
  flags: GlobalFlags,
  out: Output,
  options: { readonly overrides?: Partial<ClientConfig>; readonly interrupt?: boolean } = {},
): Promise<CommandContext> {
  const settings = await resolveSettings(flags);
  out.addSecrets(settings.secrets);
  if (/^rediss?:\/\//.test(settings.state)) {
    try {
      const url = new URL(settings.state);
      out.addSecrets([decodeURIComponent(url.password), url.password]);
    } catch {
      // Not a parsable URL: settings rejected it already.
    }
  }
  const store = await openStateStore(settings.state);
  let current: Progress | undefined;
  let storeUnavailable = false;
  const seen = new Set<string>();
  const onWarning = (warning: Warning) => {
    if (STORE_DOWN.has(warning.code)) storeUnavailable = true;
    // Once per kind of trouble: a flapping connection must not flood the terminal.
    if (seen.has(warning.code)) return;
    seen.add(warning.code);
    current?.stop();
    out.err(`${out.errColor.yellow("retry-client: warning:")} ${warning.message}\n`);
  };
  let client: RetryClient;
  try {
    client = createClient(settings, {
      ...settings.config,
      ...options.overrides,
      stateStore: store,
      onWarning,
      onCircuitStateChange: (key: string, from: CircuitState, to: CircuitState) =>
        current?.onCircuit(key, from, to),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const controller = new AbortController();
  const onInterrupt = () => {
    // A second Ctrl-C while the first one winds down: leave now.
    if (interruption.happened) process.exit(130);
    interruption.happened = true;
    current?.stop();
    if (context.midLine) out.out("\n");
    context.midLine = false;
    controller.abort(new DOMException("interrupted", "AbortError"));
    // Whatever the command was waiting on, Ctrl-C ends it.
    setTimeout(() => process.exit(130), 1000).unref();
  };
  if (options.interrupt !== false) process.on("SIGINT", onInterrupt);
  const context: CommandContext = {
    settings,
    out,
    client,
    store,
    signal: controller.signal,
    midLine: false,
    get storeUnavailable() {
      return storeUnavailable;
    },
    requireKey(call = settings.call) {
      const chain = client.chain(call);
      const first = chain[0];
      if (!first || client.hasKey(first.provider)) return;
      const explicit = call.provider !== undefined || call.model !== undefined;
      if (!explicit && chain.some((t) => client.hasKey(t.provider))) return;
      const providerSettings = settings.config.providers?.[first.provider] as
        | ProviderSettings
        | undefined;
      throw new CliError(
        `${first.provider}: no API key: set ${keyVariable(first.provider, providerSettings)} or pass -k/--api-key`,
        EXIT.usage,
      );
    },
    progress() {
      current?.stop();
      current = new Progress(out, { verbose: settings.verbose, spinner: true });
      return current;
    },
    async close() {
      process.off("SIGINT", onInterrupt);
      current?.stop();
      await client.close();
      await store.close();
    },
  };
  return context;
}
