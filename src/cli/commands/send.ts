import { text } from "node:stream/consumers";
import { type CallOptions, type ChatMessage, Message } from "../../index.node.js";
import type { CommandContext } from "../context.js";
import { CliError } from "../exit-codes.js";
import { answerJson, streamAnswer } from "./answer.js";

/** Reads the message: the argument, or stdin for `-` or no argument. */
export async function readMessage(arg: string | undefined): Promise<string> {
  if (arg !== undefined && arg !== "-") return arg;
  if (arg === undefined && process.stdin.isTTY)
    throw new CliError("send: no message: pass MESSAGE, or pipe it on stdin (use - to read stdin)");
  const input = (await text(process.stdin)).trim();
  if (input === "") throw new CliError("send: the message read from stdin is empty");
  return input;
}

/** The options of `send`, as commander parses them. */
export interface SendOptions {
  readonly system?: string;
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly timeout?: number;
}

/** `retry-client send [MESSAGE]`: streams one answer to stdout. */
export async function sendCommand(
  ctx: CommandContext,
  message: string,
  options: SendOptions = {},
): Promise<void> {
  ctx.requireKey();
  const messages: ChatMessage[] = [];
  if (options.system !== undefined) messages.push(Message.system(options.system));
  messages.push(Message.user(message));
  const call: CallOptions = {
    signal: ctx.signal,
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
    ...(options.timeout !== undefined ? { deadlineMs: options.timeout } : {}),
  };
  const response = await streamAnswer(ctx, messages, call);
  if (ctx.settings.json) ctx.out.json(answerJson(response));
}
