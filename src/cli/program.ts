import { createRequire } from "node:module";
import { Command, CommanderError, Option } from "commander";
import { chatCommand } from "./commands/chat.js";
import { circuitsCommand, resetCommand } from "./commands/circuits.js";
import { demoCommand } from "./commands/demo.js";
import { healthCommand } from "./commands/health.js";
import { modelsCommand } from "./commands/models.js";
import { readMessage, sendCommand } from "./commands/send.js";
import { registerServe } from "./commands/serve.js";
import { simulateCommand } from "./commands/simulate.js";
import { type CommandContext, openContext } from "./context.js";
import { CliError, describeError, EXIT, exitCodeOf } from "./exit-codes.js";
import { Output } from "./output.js";
import type { GlobalFlags } from "./settings.js";

/** The package's version, from its package.json (two levels up from `dist/cli/`). */
const VERSION = (createRequire(import.meta.url)("../../package.json") as { version: string })
  .version;

/** Runs `fn` with a context built from the command's global flags, closing it afterwards. */
async function withContext(
  command: Command,
  out: Output,
  fn: (ctx: CommandContext) => Promise<void>,
): Promise<void> {
  const ctx = await openContext(command.optsWithGlobals<GlobalFlags>(), out);
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** Builds the `retry-client` commander program. Actions set `process.exitCode`, never exit. */
export function buildProgram(out: Output = new Output()): Command {
  const program = new Command("retry-client")
    .description(
      "LLM API calls that survive rate limits, outages and broken streams (OpenAI, Anthropic, compatible APIs).",
    )
    .version(VERSION, "-V, --version")
    .option(
      "-p, --provider <name>",
      "provider of the first target (openai, anthropic, or one from the config file)",
    )
    .option("-m, --model <id>", "model of the first target (its provider is guessed from the name)")
    .option("-k, --api-key <key>", "API key of the selected provider (else its *_API_KEY variable)")
    .option("--base-url <url>", "base URL of the selected provider (else its *_BASE_URL variable)")
    .option("--no-retry", "never retry a failed attempt")
    .option("--no-fallback", "use the first target only")
    .option("-v, --verbose", "print every attempt, wait, fallback and breaker change on stderr")
    .option("--json", "print one JSON object per command on stdout")
    .option(
      "--config <file>",
      "JSON config file with ClientConfig fields (default: $XDG_CONFIG_HOME/retry-client/config.json)",
    )
    .addOption(
      new Option("--state <store>", "where breaker state lives: memory, file or redis://…").default(
        undefined,
        "file, in $XDG_STATE_HOME/retry-client",
      ),
    )
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (text) => out.out(text),
      writeErr: (text) => out.err(text),
    })
    .exitOverride();

  program
    .command("send")
    .description(
      "send one message and stream the answer to stdout (reads stdin for - or no MESSAGE)",
    )
    .argument("[message]", "the message; - or none reads stdin")
    .action(async (message: string | undefined, _opts: unknown, command: Command) => {
      const text = await readMessage(message);
      await withContext(command, out, (ctx) => sendCommand(ctx, text));
    });

  program
    .command("chat")
    .description(
      "interactive chat with history (/model NAME, /reset, /exit; Ctrl-C stops an answer)",
    )
    .action(async (_opts: unknown, command: Command) => {
      await withContext(command, out, (ctx) => chatCommand(ctx));
    });

  program
    .command("health")
    .description("probe each provider with a key: reachable, latency, rate-limit headroom, breaker")
    .option("--all", "list every configured provider, with a key or not")
    .action(async (opts: { all?: boolean }, command: Command) => {
      await withContext(command, out, (ctx) => healthCommand(ctx, opts.all === true));
    });

  program
    .command("circuits")
    .description("breaker states from the state store, one row per provider:model")
    .action(async (_opts: unknown, command: Command) => {
      await withContext(command, out, (ctx) => circuitsCommand(ctx));
    });

  program
    .command("reset")
    .description(
      "close the breaker of KEY (provider:model) and clear its cooldown; all without KEY",
    )
    .argument("[key]", "provider:model")
    .action(async (key: string | undefined, _opts: unknown, command: Command) => {
      await withContext(command, out, (ctx) => resetCommand(ctx, key));
    });

  program
    .command("models")
    .description("live model lists (providers with a key) and the built-in catalogue")
    .action(async (_opts: unknown, command: Command) => {
      await withContext(command, out, (ctx) => modelsCommand(ctx));
    });

  program
    .command("simulate")
    .description("run the fault-injecting OpenAI + Anthropic simulator until Ctrl-C")
    .option("--port <n>", "TCP port (0 picks a free one)", "0")
    .option("--scenario <name|file>", "built-in scenario or JSON scenario file", "healthy")
    .option("--seed <n>", "seed of random faults")
    .action(async (opts: { port: string; scenario: string; seed?: string }) => {
      await simulateCommand(out, opts);
    });

  registerServe(program, out);

  program
    .command("demo")
    .description("a scripted outage against the built-in simulator: no key, no network (~10 s)")
    .action(async (_opts: unknown, command: Command) => {
      await demoCommand(out, command.optsWithGlobals<GlobalFlags>());
    });

  return program;
}

/** Parses `argv` and runs the command. Resolves with the exit code. */
export async function run(argv: readonly string[], out: Output = new Output()): Promise<number> {
  const program = buildProgram(out);
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    const code = exitCodeOf(error);
    let message = describeError(error);
    if (code === EXIT.usage && /_API_KEY/.test(message)) message += " (or pass -k/--api-key)";
    out.err(`${out.errColor.red("retry-client: error:")} ${message}\n`);
    return code;
  }
}

export { CliError };
