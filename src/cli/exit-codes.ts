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
} as const;

/** An error the CLI reports with a given exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.usage, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
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

/** A one-line description of an error for stderr: its class, status and message. */
export function describeError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (RetryClientError.isInstance(error)) {
    const status = ProviderError.isInstance(error) && error.status ? ` ${error.status}` : "";
    return `${error.name}${status}: ${error.message}`;
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
