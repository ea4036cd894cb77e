import { createInterface } from "node:readline";
import { type ChatMessage, Message, providerOf } from "../../index.node.js";
import type { CommandContext } from "../context.js";
import { describeError, EXIT, errorJson } from "../exit-codes.js";
import { answerJson, streamAnswer } from "./answer.js";

const HELP = "commands: /model NAME (switch model), /reset (forget the history), /exit (or Ctrl-D)";

/**
 * `retry-client chat`: an interactive, streaming conversation with history. Ctrl-C stops the
 * answer being streamed; at the prompt, a second Ctrl-C in a row exits. Works over a piped stdin
 * too (one message per line; no prompt is printed then).
 */
export async function chatCommand(ctx: CommandContext): Promise<void> {
  const { out, settings } = ctx;
  ctx.requireKey();
  const interactive = process.stdin.isTTY === true && out.stderrIsTTY;
  const rl = createInterface({
    input: process.stdin,
    output: process.stderr,
    terminal: interactive,
  });
  let history: ChatMessage[] = [];
  let target = { ...settings.call };
  let answering: AbortController | undefined;
  let armedExit = false;
  let failures = 0;
  const c = out.errColor;
  const prompt = () => {
    if (interactive) rl.prompt();
  };
  rl.setPrompt(c.bold(c.cyan("you› ")));

  const onInterrupt = () => {
    if (answering) {
      answering.abort();
      return;
    }
    if (armedExit) {
      rl.close();
      return;
    }
    armedExit = true;
    out.err(c.dim("\n(press Ctrl-C again to exit, or type /exit)\n"));
    prompt();
  };
  rl.on("SIGINT", onInterrupt);
  process.on("SIGINT", onInterrupt);

  if (interactive) {
    const first = ctx.client.chain(target)[0];
    out.err(c.dim(`chatting with ${first?.provider}:${first?.model}. ${HELP}\n`));
  }
  prompt();
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      armedExit = false;
      if (line === "") {
        prompt();
        continue;
      }
      if (line.startsWith("/")) {
        const [command, ...args] = line.split(/\s+/);
        if (command === "/exit" || command === "/quit") break;
        if (command === "/reset") {
          history = [];
          out.err(c.dim("history cleared\n"));
        } else if (command === "/model" && args[0]) {
          const model = args[0];
          const provider = providerOf(model) ?? target.provider;
          target = { model, ...(provider !== undefined ? { provider } : {}) };
          const first = ctx.client.chain(target)[0];
          out.err(c.dim(`model: ${first?.provider}:${first?.model}\n`));
        } else {
          out.err(c.dim(`${HELP}\n`));
        }
        prompt();
        continue;
      }
      const messages = [...history, Message.user(line)];
      answering = new AbortController();
      try {
        ctx.requireKey(target);
        const response = await streamAnswer(ctx, messages, { ...target, signal: answering.signal });
        history = [...messages, Message.assistant(response.content)];
        if (settings.json) out.json(answerJson(response));
      } catch (error) {
        if (answering.signal.aborted) {
          out.err(c.dim("\n(answer stopped)\n"));
        } else {
          failures++;
          if (settings.json) out.json(errorJson(error));
          out.err(`${c.red("error:")} ${describeError(error)}\n`);
        }
      } finally {
        answering = undefined;
      }
      prompt();
    }
  } finally {
    process.off("SIGINT", onInterrupt);
    rl.close();
  }
  // Driven over a pipe, a failed turn must show in the exit code.
  if (!interactive && failures > 0) process.exitCode = EXIT.failed;
}
