import { runSimulateCommand } from "../../simulator/cli.js";
import type { Simulator } from "../../simulator/index.js";
import { CliError } from "../exit-codes.js";
import type { Output } from "../output.js";

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new CliError(`simulate: ${name} must be a non-negative integer, got "${text}"`);
  return n;
}

/** `retry-client simulate [--port N] [--scenario NAME] [--seed N]`: runs until Ctrl-C. */
export async function simulateCommand(
  out: Output,
  opts: { readonly port: string; readonly scenario: string; readonly seed?: string },
  json = false,
): Promise<void> {
  const port = integer("--port", opts.port) ?? 0;
  if (port > 65_535) throw new CliError(`simulate: --port must be at most 65535, got ${port}`);
  const seed = integer("--seed", opts.seed);
  // Listen for Ctrl-C before anything is printed: a script that reads the base URLs and stops
  // the simulator at once must not find the process without a handler.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await run();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }

  async function run(): Promise<void> {
    await runSimulateCommand({
      signal: stop.signal,
      port,
      scenario: opts.scenario,
      ...(seed === undefined ? {} : { seed }),
      // Under --json, stdout holds one document (the base URLs); the banner goes to stderr.
      out: { write: (text: string) => (json ? out.err(text) : out.out(text)) },
      ...(json
        ? {
            onReady: (simulator: Simulator) =>
              out.json({
                url: simulator.url,
                openaiBaseURL: simulator.openaiBaseURL,
                anthropicBaseURL: simulator.anthropicBaseURL,
                requestLog: `${simulator.url}/__simulator/requests`,
              }),
          }
        : {}),
    });
  }
}
