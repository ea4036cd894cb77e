import { createRequire } from "node:module";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { chatCommand } from "./commands/chat.js";
import { circuitsCommand, resetCommand } from "./commands/circuits.js";
import { demoCommand } from "./commands/demo.js";
import { healthCommand } from "./commands/health.js";
import { modelsCommand } from "./commands/models.js";
import { readMessage, type SendOptions, sendCommand } from "./commands/send.js";
import { registerServe } from "./commands/serve.js";
import { simulateCommand } from "./commands/simulate.js";
import { type CommandContext, interruption, openContext } from "./context.js";
import { CliError, describeError, EXIT, errorJson, exitCodeOf } from "./exit-codes.js";
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
  options: { readonly interrupt?: boolean } = {},
): Promise<void> {
  const ctx = await openContext(command.optsWithGlobals<GlobalFlags>(), out, options);
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** A commander parser for a number option in `[min, max]` (an integer when `integer`). */
function numberOption(
  flag: string,
  min: number,
  max: number,
  integer = false,
): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (
      value.trim() === "" ||
      !Number.isFinite(n) ||
      n < min ||
      n > max ||
      (integer && !Number.isInteger(n))
    )
      throw new InvalidArgumentError(
        `${flag} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}, got "${value}"`,
      );
    return n;
  };
}

/** The environment variables the CLI reads, for every command's `--help`. */
const ENVIRONMENT_HELP = `
Environment:
  OPENAI_API_KEY, ANTHROPIC_API_KEY   API keys (<NAME>_API_KEY for a provider NAME of the config file)
  OPENAI_BASE_URL, ANTHROPIC_BASE_URL endpoints (<NAME>_BASE_URL likewise)
  RETRY_CLIENT_PROVIDER, RETRY_CLIENT_MODEL, RETRY_CLIENT_STATE   defaults for -p, -m, --state
  XDG_CONFIG_HOME, XDG_STATE_HOME     where config.json and state.json live
  NO_COLOR, FORCE_COLOR               colour off / on
Exit codes: 0 ok, 1 the request failed (health: a provider is down), 2 usage or configuration error, 130 Ctrl-C.
Docs: https://github.com/retry-client/retry-client/blob/main/docs/cli.md`;

/** One example per command, shown at the end of its `--help`. */
const EXAMPLES: Readonly<Record<string, string>> = {
  send: [
    'retry-client send "What is 2+2?"',
    'git diff | retry-client send --system "Review this diff" --max-tokens 500 -',
    "retry-client --json -m claude-sonnet-4-5-20250929 send --timeout 30000 Hi | jq -r .content",
  ].join("\n  "),
  chat: "retry-client -m gpt-4o chat",
  health: "retry-client health --all\n  retry-client --json health | jq .healthy",
  circuits: "retry-client circuits\n  retry-client --state redis://localhost:6379 --json circuits",
  reset: "retry-client reset openai:gpt-4o\n  retry-client reset",
  models: "retry-client models\n  retry-client --json models | jq '.catalogue[].model'",
  simulate:
    "retry-client simulate --port 8787 --scenario flaky\n  export OPENAI_BASE_URL=http://127.0.0.1:8787/v1 OPENAI_API_KEY=anything",
  demo: "retry-client demo\n  npx retry-client demo",
};

/** Adds the environment, exit codes and an example to the `--help` of `command`. */
function addHelpFooter(command: Command, example: string): void {
  command.addHelpText("after", `\nExample:\n  ${example}\n${ENVIRONMENT_HELP}`);
}

/** Builds the `retry-client` commander program. Actions set `process.exitCode`, never exit. */
export function buildProgram(
  out: Output = new Output(),
  capture?: (text: string) => void,
): Command {
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
    .option(
      "--json",
      "print exactly one JSON document on stdout, errors included (chat: one per answer)",
    )
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
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: capture ?? ((text) => out.out(text)),
      writeErr: capture ?? ((text) => out.err(text)),
    })
    .exitOverride();

  program
    .command("send")
    .description(
      "send one message and stream the answer to stdout (reads stdin for - or no MESSAGE)",
    )
    .argument("[message]", "the message; - or none reads stdin")
    .option("--system <text>", "a system message before MESSAGE")
    .option(
      "--temperature <n>",
      "sampling temperature, 0 to 2",
      numberOption("--temperature", 0, 2),
    )
    .option(
      "--max-tokens <n>",
      "most tokens the answer may have",
      numberOption("--max-tokens", 1, 10_000_000, true),
    )
    .option(
      "--timeout <ms>",
      "deadline of the whole call in milliseconds, retries and fallbacks included",
      numberOption("--timeout", 1, 2_147_483_647, true),
    )
    .action(async (message: string | undefined, opts: SendOptions, command: Command) => {
      const text = await readMessage(message);
      await withContext(command, out, (ctx) => sendCommand(ctx, text, opts));
    });

  program
    .command("chat")
    .description(
      "interactive chat with history (/model NAME, /reset, /exit; Ctrl-C stops an answer)",
    )
    .action(async (_opts: unknown, command: Command) => {
      await withContext(command, out, (ctx) => chatCommand(ctx), { interrupt: false });
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
    .action(async (opts: { port: string; scenario: string; seed?: string }, command: Command) => {
      await simulateCommand(out, opts, command.optsWithGlobals<GlobalFlags>().json === true);
    });

  registerServe(program, out);

  program
    .command("demo")
    .description("a scripted outage against the built-in simulator: no key, no network (~10 s)")
    .action(async (_opts: unknown, command: Command) => {
      await demoCommand(out, command.optsWithGlobals<GlobalFlags>());
    });

  addHelpFooter(program, EXAMPLES.send ?? "");
  for (const command of program.commands)
    addHelpFooter(command, EXAMPLES[command.name()] ?? `retry-client ${command.name()}`);
  return program;
}

/** Whether `--json` is among the arguments (before a `--`), read before commander parses them. */
function wantsJson(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).includes("--json");
}

/**
 * Parses `argv` and runs the command. Resolves with the exit code. Every failure ends here: one
 * line on stderr and, under `--json`, one `{"error": …}` document on stdout.
 */
export async function run(argv: readonly string[], out: Output = new Output()): Promise<number> {
  const json = wantsJson(argv);
  // Under --json, commander's own output (help, version, usage errors) becomes one JSON document.
  let captured = "";
  const program = buildProgram(
    out,
    json
      ? (text) => {
          captured += text;
        }
      : undefined,
  );
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.version") {
        if (json) out.json({ version: VERSION });
        return EXIT.ok;
      }
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help") {
        if (json) out.json({ help: captured });
        return EXIT.ok;
      }
      if (json) {
        out.err(captured);
        out.json(errorJson(new CliError(error.message.replace(/^error: /, ""), EXIT.usage)));
      }
      return EXIT.usage;
    }
    const code = interruption.happened ? EXIT.interrupted : exitCodeOf(error);
    const message = interruption.happened ? "interrupted" : describeError(error);
    if (json) {
      out.json(
        interruption.happened
          ? errorJson(Object.assign(new CliError("interrupted", code), { name: "AbortError" }))
          : errorJson(error),
      );
    }
    out.err(`${out.errColor.red("retry-client: error:")} ${message}\n`);
    return code;
  }
}

export { CliError };
