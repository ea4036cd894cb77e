import {
  type CircuitState,
  type ClientConfig,
  RetryClient,
  type StateStore,
} from "../index.node.js";
import type { Output } from "./output.js";
import { Progress } from "./progress.js";
import { type GlobalFlags, openStateStore, resolveSettings, type Settings } from "./settings.js";

/** What a command works with: its settings, output, client and progress display. */
export interface CommandContext {
  readonly settings: Settings;
  readonly out: Output;
  readonly client: RetryClient;
  readonly store: StateStore;
  /** A fresh progress display for one call (spinner off with `--json`? no: stderr only). */
  progress(): Progress;
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
