import {
  type CircuitState,
  type ClientConfig,
  type ProviderSettings,
  RetryClient,
  type StateStore,
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
  /** A fresh progress display for one call (spinner off with `--json`? no: stderr only). */
  progress(): Progress;
  /**
   * Throws a usage error (exit 2, naming the variable) when `-p`/`-m` picked a target whose
   * provider has no key: the user asked for that provider, a silent fallback would mislead.
   */
  requireSelectedKey(): void;
  /** Closes the client and the store. */
  close(): Promise<void>;
}

/**
 * Resolves flags, opens the state store and builds the client every command uses. Keys read are
 * registered with `out` for redaction before anything is printed.
 */
export async function openContext(
  flags: GlobalFlags,
  out: Output,
  overrides: Partial<ClientConfig> = {},
): Promise<CommandContext> {
  const settings = await resolveSettings(flags);
  out.addSecrets(settings.secrets);
  if (/^rediss?:\/\//.test(settings.state)) {
    try {
      out.addSecrets([decodeURIComponent(new URL(settings.state).password)]);
    } catch {
      // Not a parsable URL: the store will say so.
    }
  }
  const store = await openStateStore(settings.state);
  let current: Progress | undefined;
  const client = new RetryClient({
    ...settings.config,
    ...overrides,
    stateStore: store,
    onCircuitStateChange: (key: string, from: CircuitState, to: CircuitState) =>
      current?.onCircuit(key, from, to),
  });
  return {
    settings,
    out,
    client,
    store,
    requireSelectedKey() {
      if (settings.call.provider === undefined && settings.call.model === undefined) return;
      const first = client.chain(settings.call)[0];
      if (!first || client.hasKey(first.provider)) return;
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
      current?.stop();
      await client.close();
      await store.close();
    },
  };
}
