import {
  ConfigurationError,
  FallbackExhaustedError,
  ProviderError,
  RetryClientError,
} from "../index.node.js";

/** Exit codes of `retry-client` (documented in docs/cli.md). */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** The request failed (or `health` found an unhealthy provider). */
  failed: 1,
  /** Usage or configuration error: a bad flag, a missing key, an unreadable config file. */
  usage: 2,
  /** Interrupted with Ctrl-C (128 + SIGINT, as shells report it). */
  interrupted: 130,
} as const;

/** An error the CLI reports with a given exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.usage, options?: { cause?: unknown }) {
    super(message, options);
    // What a script reading `--json` sees as `error.name`.
    this.name = exitCode === EXIT.usage ? "UsageError" : "CommandError";
    this.exitCode = exitCode;
  }
}

/** The exit code an error maps to: 2 for configuration and usage errors, else 1. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (ConfigurationError.isInstance(error) || error instanceof RangeError) return EXIT.usage;
  if (
    FallbackExhaustedError.isInstance(error) &&
    error.errors.length > 0 &&
    error.errors.every((e) => ConfigurationError.isInstance(e))
  )
    return EXIT.usage;
  return EXIT.failed;
}

/** Library wording that names an option, in the CLI's words (a flag or a variable). */
function inCliWords(message: string): string {
  return message.replace(/pass the apiKey option or set (\w+)/g, "set $1 or pass -k/--api-key");
}

/** A one-line description of an error for stderr: its class, status and message. */
export function describeError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (RetryClientError.isInstance(error)) {
    // The status once: most messages already carry it (`openai gpt-4o: 429 rate_limit_…`).
    const status =
      ProviderError.isInstance(error) && error.status && !error.message.includes(`${error.status} `)
        ? ` ${error.status}`
        : "";
    return `${error.name}${status}: ${inCliWords(error.message)}`;
  }
  if (error instanceof Error) {
    return error.name === "AbortError" ? "aborted" : `${error.name}: ${error.message}`;
  }
  return String(error);
}

/** A short reason for a failed attempt: `429 RateLimitError`, `CircuitOpenError`. */
export function shortReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" ? `${status} ${error.name}` : error.name;
}

/** Text an answer had streamed when its call failed, by error (for `partialText`). */
const partialTexts = new WeakMap<object, string>();

/** Records the text streamed before `error` ended an answer. */
export function rememberPartialText(error: unknown, text: string): void {
  if (typeof error === "object" && error !== null && text !== "") partialTexts.set(error, text);
}

/**
 * The one JSON shape of every failure under `--json`:
 * `{ "error": { name, message, status?, code?, provider?, model?, requestId?, partialText?, attempts? } }`.
 */
export function errorJson(error: unknown): { error: Record<string, unknown> } {
  const e = (typeof error === "object" && error !== null ? error : {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {
    name: typeof e.name === "string" ? e.name : "Error",
    message:
      error instanceof CliError
        ? error.message
        : typeof e.message === "string"
          ? inCliWords(e.message)
          : String(error),
  };
  // All targets failed: the facts of the last one's error, when the error has none of its own.
  const errors = FallbackExhaustedError.isInstance(error) ? error.errors : [];
  const last = (errors[errors.length - 1] ?? {}) as Record<string, unknown>;
  const fact = (field: string): unknown => e[field] ?? last[field];
  if (typeof fact("status") === "number") out.status = fact("status");
  for (const field of ["code", "provider", "model", "requestId"] as const)
    if (typeof fact(field) === "string") out[field] = fact(field);
  const partial =
    partialTexts.get(e) ?? (typeof e.partialText === "string" ? e.partialText : undefined);
  if (partial) out.partialText = partial;
  if (Array.isArray(e.attempts) && e.attempts.length > 0) out.attempts = e.attempts;
  return { error: out };
}
