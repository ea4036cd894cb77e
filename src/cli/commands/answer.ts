import type {
  AttemptRecord,
  CallOptions,
  ChatMessage,
  ChatResponse,
  ModelSpec,
} from "../../index.node.js";
import type { CommandContext } from "../context.js";
import { rememberPartialText } from "../exit-codes.js";
import { truncate } from "../format.js";

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

const key = (t: { readonly provider: string; readonly model: string }) =>
  `${t.provider}:${t.model}`;

/** An attempt's error message without the `provider model: ` prefix the library puts first. */
function reasonOf(attempt: AttemptRecord): string {
  const prefix = `${attempt.provider} ${attempt.model}: `;
  let message = attempt.errorMessage ?? attempt.errorClass ?? "failed";
  if (message.startsWith(prefix)) message = message.slice(prefix.length);
  const status = attempt.status;
  if (status !== undefined && !message.startsWith(String(status))) message = `${status} ${message}`;
  return truncate(message, 120);
}

/**
 * The stderr line owed when an answer came from another target than the one asked for:
 * `answered by anthropic:claude-… — openai:gpt-4o failed: 401 …`. Undefined when the first
 * target answered.
 */
export function fallbackNotice(
  requested: ModelSpec | undefined,
  response: ChatResponse,
): string | undefined {
  const answered = key(response);
  if (requested === undefined || key(requested) === answered) return undefined;
  const last = new Map<string, AttemptRecord>();
  for (const attempt of response.attempts)
    if (key(attempt) !== answered) last.set(key(attempt), attempt);
  const reasons = [...last.values()].map((a) =>
    a.outcome === "skipped"
      ? `${key(a)} skipped: ${reasonOf(a)}`
      : `${key(a)} failed: ${reasonOf(a)}`,
  );
  if (reasons.length === 0) reasons.push(`${key(requested)} was not tried`);
  return `answered by ${answered} — ${reasons.join("; ")}`;
}

/**
 * Streams one answer: text deltas to stdout (unless `--json`), progress to stderr, and the
 * fallback notice when another target answered. Resolves with the response; rejects with the
 * call's error (after its attempts were shown with `--verbose`, and a newline ended any partial
 * text on stdout).
 */
export async function streamAnswer(
  ctx: CommandContext,
  messages: readonly ChatMessage[],
  options: CallOptions = {},
): Promise<ChatResponse> {
  const { out, settings } = ctx;
  const progress = ctx.progress();
  const call = { ...settings.call, ...options };
  const requested = ctx.client.chain(call)[0];
  const stream = ctx.client.stream(messages, call);
  let received = "";
  const endLine = () => {
    if (ctx.midLine) out.out("\n");
    ctx.midLine = false;
  };
  try {
    for await (const event of stream.events()) {
      progress.onEvent(event);
      if (event.type === "text-delta") received += event.text;
      else if (event.type === "restart") received = "";
      if (settings.json) continue;
      if (event.type === "text-delta") {
        out.out(event.text);
        if (event.text !== "") ctx.midLine = !event.text.endsWith("\n");
      } else if (event.type === "restart" && ctx.midLine) {
        // stdout cannot be taken back: mark where the replayed answer starts.
        endLine();
        out.err(out.errColor.yellow("[the answer above was cut off; restarting]\n"));
      }
    }
    const response = await stream.response;
    progress.stop();
    endLine();
    progress.attempts(response.attempts);
    const notice = fallbackNotice(requested, response);
    if (notice) out.err(`${out.errColor.yellow("retry-client:")} ${notice}\n`);
    return response;
  } catch (error) {
    progress.stop();
    endLine();
    rememberPartialText(error, received);
    const attempts = (error as { attempts?: unknown } | null)?.attempts;
    if (Array.isArray(attempts)) progress.attempts(attempts);
    throw error;
  }
}
