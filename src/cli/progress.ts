import type { AttemptRecord, CircuitState, StreamEvent } from "../index.node.js";
import { shortReason } from "./exit-codes.js";
import { formatDuration, truncate } from "./format.js";
import type { Output } from "./output.js";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** How a call's progress is shown on stderr. */
export interface ProgressOptions {
  /** Plain lines for every attempt, wait, fallback and breaker change. */
  readonly verbose: boolean;
  /** An animated status line (only ever on a terminal). */
  readonly spinner: boolean;
}

/** Why a retry waits as long as it does. */
function waitReason(event: Extract<StreamEvent, { type: "retry" }>): string {
  const error = event.error as { retryAfterMs?: unknown } | undefined;
  if (event.attempt === 0) return "cooling down after a rate limit";
  return typeof error?.retryAfterMs === "number" ? "the server's Retry-After" : "backoff";
}

/**
 * Shows what the client is doing while the user waits: a spinner line on stderr (terminal only)
 * that says why and for how long, and with `--verbose` one plain line per attempt, wait,
 * fallback and breaker transition. Never writes to stdout.
 */
export class Progress {
  readonly #out: Output;
  readonly #options: ProgressOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #frame = 0;
  #message = "";
  #until: number | undefined;

  constructor(out: Output, options: ProgressOptions) {
    this.#out = out;
    this.#options = { verbose: options.verbose, spinner: options.spinner && out.stderrIsTTY };
  }

  /** Feeds one stream event. */
  onEvent(event: StreamEvent): void {
    const c = this.#out.errColor;
    switch (event.type) {
      case "attempt-start":
        // With --verbose, each attempt gets its one line when it is over (see attempts()).
        this.#status(`waiting for ${event.provider}:${event.model}`);
        break;
      case "retry": {
        const why = shortReason(event.error);
        const wait = formatDuration(event.delayMs);
        const text =
          event.attempt === 0
            ? `${event.provider}:${event.model} is cooling down after a rate limit: waiting ${wait}`
            : `${event.provider}:${event.model} failed (${why}): retry ${event.attempt} in ${wait} (${waitReason(event)})`;
        this.#line(c.yellow(text));
        this.#status(
          event.attempt === 0
            ? `${event.provider}:${event.model} cooling down`
            : `${event.provider}:${event.model} ${why}, retry ${event.attempt} (${waitReason(event)})`,
          event.delayMs,
        );
        break;
      }
      case "fallback": {
        const from = `${event.from.provider}:${event.from.model}`;
        const to = `${event.to.provider}:${event.to.model}`;
        this.#line(c.yellow(`${from} failed (${shortReason(event.error)}): falling back to ${to}`));
        this.#status(`${from} failed, falling back to ${to}`);
        break;
      }
      case "restart":
        this.#line(
          c.yellow(
            `stream broke (${shortReason(event.error)}): restarting the answer on ${event.provider}:${event.model}`,
          ),
        );
        break;
      case "text-delta":
      case "tool-call-delta":
        this.#stopSpinner();
        break;
      default:
        break;
    }
  }

  /** Feeds one breaker transition (from the client's `onCircuitStateChange`). */
  onCircuit(key: string, from: CircuitState, to: CircuitState): void {
    this.#line(this.#out.errColor.magenta(`breaker ${key}: ${from} → ${to}`));
  }

  /** With `--verbose`: one line per attempt of a finished (or failed) call. */
  attempts(records: readonly AttemptRecord[]): void {
    if (!this.#options.verbose) return;
    records.forEach((a, i) => {
      const fields = [
        `attempt ${i + 1}/${records.length}:`,
        `provider=${a.provider}`,
        `model=${a.model}`,
        `outcome=${a.outcome}`,
        `status=${a.status ?? (a.outcome === "success" ? 200 : "-")}`,
        `duration=${formatDuration(a.durationMs)}`,
      ];
      if (a.delayBeforeMs > 0) fields.push(`waited=${formatDuration(a.delayBeforeMs)}`);
      if (a.ttftMs !== undefined) fields.push(`ttft=${formatDuration(a.ttftMs)}`);
      if (a.errorClass) fields.push(`error=${a.errorClass}`);
      if (a.errorMessage) fields.push(`(${truncate(a.errorMessage, 100)})`);
      this.#line(fields.join(" "));
    });
  }

  /** Clears the spinner; call before printing anything else to the terminal. */
  stop(): void {
    this.#stopSpinner();
  }

  #line(text: string): void {
    if (!this.#options.verbose) return;
    const cleared = this.#clear();
    this.#out.err(`${this.#out.errColor.dim("retry-client:")} ${text}\n`);
    if (cleared) this.#render();
  }

  #status(message: string, waitMs?: number): void {
    if (!this.#options.spinner) return;
    this.#message = message;
    this.#until = waitMs === undefined ? undefined : Date.now() + waitMs;
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#render(), 80);
      this.#timer.unref();
    }
    this.#render();
  }

  #render(): void {
    if (!this.#timer) return;
    const c = this.#out.errColor;
    const frame = FRAMES[this.#frame++ % FRAMES.length] ?? "";
    const left =
      this.#until === undefined
        ? ""
        : ` — ${formatDuration(Math.max(0, this.#until - Date.now()))} left`;
    this.#out.err(`\r\u001b[K${c.cyan(frame)} ${this.#message}${c.dim(left)}`);
  }

  #clear(): boolean {
    if (!this.#timer) return false;
    this.#out.err("\r\u001b[K");
    return true;
  }

  #stopSpinner(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#clear();
    this.#timer = undefined;
  }
}
