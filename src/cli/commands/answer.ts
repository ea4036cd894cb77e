import type { CallOptions, ChatMessage, ChatResponse } from "../../index.node.js";
import type { CommandContext } from "../context.js";

/** The JSON shape of one answer (`send --json`, each `chat --json` turn). */
export function answerJson(response: ChatResponse): Record<string, unknown> {
  return {
    content: response.content,
    provider: response.provider,
    model: response.model,
    responseModel: response.responseModel,
    finishReason: response.finishReason,
    usage: response.usage ?? null,
    totalUsage: response.totalUsage,
    attempts: response.attempts,
  };
}

/** The JSON shape of a failure. */
export function errorJson(error: unknown): Record<string, unknown> {
  const e = error as {
    name?: unknown;
    message?: unknown;
    status?: unknown;
    attempts?: unknown;
  } | null;
  return {
    error: {
      name: typeof e?.name === "string" ? e.name : "Error",
      message: typeof e?.message === "string" ? e.message : String(error),
      ...(typeof e?.status === "number" ? { status: e.status } : {}),
    },
    attempts: Array.isArray(e?.attempts) ? e.attempts : [],
  };
}

/**
 * Streams one answer: text deltas to stdout (unless `--json`), progress to stderr. Resolves with
 * the response; rejects with the call's error (after its attempts were shown with `--verbose`).
 */
export async function streamAnswer(
  ctx: CommandContext,
  messages: readonly ChatMessage[],
  options: CallOptions = {},
): Promise<ChatResponse> {
  const { out, settings } = ctx;
  const progress = ctx.progress();
  const stream = ctx.client.stream(messages, { ...settings.call, ...options });
  let printed = "";
  try {
    for await (const event of stream.events()) {
      progress.onEvent(event);
      if (settings.json) continue;
      if (event.type === "text-delta") {
        out.out(event.text);
        printed += event.text;
      } else if (event.type === "restart" && printed !== "") {
        // stdout cannot be taken back: mark where the replayed answer starts.
        out.err(out.errColor.yellow("\n[the answer above was cut off; restarting]\n"));
        out.out("\n");
        printed = "";
      }
    }
    const response = await stream.response;
    progress.stop();
    if (!settings.json && printed !== "" && !printed.endsWith("\n")) out.out("\n");
    progress.attempts(response.attempts);
    return response;
  } catch (error) {
    progress.stop();
    if (!settings.json && printed !== "" && !printed.endsWith("\n")) out.out("\n");
    const attempts = (error as { attempts?: unknown } | null)?.attempts;
    if (Array.isArray(attempts)) progress.attempts(attempts);
    throw error;
  }
}
