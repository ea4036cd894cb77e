import { text } from "node:stream/consumers";
import { Message } from "../../index.node.js";
import type { CommandContext } from "../context.js";
import { CliError } from "../exit-codes.js";
import { answerJson, errorJson, streamAnswer } from "./answer.js";

/** Reads the message: the argument, or stdin for `-` or no argument. */
export async function readMessage(arg: string | undefined): Promise<string> {
  if (arg !== undefined && arg !== "-") return arg;
  if (arg === undefined && process.stdin.isTTY)
    throw new CliError("send: no message: pass MESSAGE, or pipe it on stdin (use - to read stdin)");
  const input = (await text(process.stdin)).trim();
  if (input === "") throw new CliError("send: the message read from stdin is empty");
  return input;
}

/** `retry-client send [MESSAGE]`: streams one answer to stdout. */
export async function sendCommand(ctx: CommandContext, message: string): Promise<void> {
  ctx.requireSelectedKey();
  try {
    const response = await streamAnswer(ctx, [Message.user(message)]);
    if (ctx.settings.json) ctx.out.json(answerJson(response));
  } catch (error) {
    if (ctx.settings.json) ctx.out.json(errorJson(error));
    throw error;
  }
}
