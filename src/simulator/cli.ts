import { BUILT_IN_SCENARIOS, loadScenario, type Scenario } from "./scenario.js";
import { type Simulator, startSimulator } from "./server.js";

/** Options of {@link runSimulateCommand} (the `retry-client simulate` command). */
export interface SimulateCommandOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** A built-in scenario name or a path to a JSON scenario file. @default "healthy" */
  readonly scenario?: string;
  readonly seed?: number;
  /** Pause between streamed deltas, ms. @default 20 (so a human sees the stream) */
  readonly tokenDelayMs?: number;
  /** Where the banner goes. @default process.stdout */
  readonly out?: { write(text: string): unknown };
  /** Stops the server when aborted (besides SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
  /** Called once the server listens. */
  readonly onReady?: (simulator: Simulator) => void;
}

/**
 * Runs the simulator until SIGINT/SIGTERM (or `signal`), printing the base URLs to export.
 * Resolves once the server is closed.
 *
 * @example
 * await runSimulateCommand({ port: 8787, scenario: "flaky", seed: 42 });
 * @throws ConfigurationError when the scenario is unknown or invalid (exit code 2 in the CLI).
 */
export async function runSimulateCommand(options: SimulateCommandOptions = {}): Promise<void> {
  const out = options.out ?? process.stdout;
  const scenarioName = options.scenario ?? "healthy";
  const scenario: Scenario = await loadScenario(scenarioName);
  const simulator = await startSimulator({
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    scenario,
    tokenDelayMs: options.tokenDelayMs ?? 20,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  const label = scenario.name ?? scenarioName;
  const seed = options.seed ?? scenario.seed ?? 1;
  out.write(
    `retry-client simulator listening on ${simulator.url} (scenario: ${label}, seed: ${seed})\n` +
      `OPENAI_BASE_URL=${simulator.openaiBaseURL}\n` +
      `ANTHROPIC_BASE_URL=${simulator.anthropicBaseURL}\n` +
      "# Export the two lines above; any non-empty API key works (a key starting with 'invalid' gets 401).\n" +
      "# Add faults to a model name: gpt-4o~429-retry-after-2s, claude-sonnet-4-20250514~503-first-2 (docs/simulator.md).\n" +
      `# Request log: curl ${simulator.url}/__simulator/requests   Built-in scenarios: ${Object.keys(BUILT_IN_SCENARIOS).join(", ")}\n` +
      "# Ctrl-C to stop.\n",
  );
  options.onReady?.(simulator);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      options.signal?.removeEventListener("abort", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    if (options.signal?.aborted) stop();
    else options.signal?.addEventListener("abort", stop, { once: true });
  });
  await simulator.close();
  out.write("retry-client simulator stopped.\n");
}
