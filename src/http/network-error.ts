import { ConnectionError } from "../errors/errors.js";

/** The first system error code (`ECONNRESET`, `ENOTFOUND`, `UND_ERR_SOCKET`…) in an error's cause chain. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function innermostMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (!(cause instanceof Error)) break;
    if (cause.message) message = cause.message;
    current = cause;
  }
  return message;
}

/**
 * Turns a transport failure (refused, reset, DNS, TLS, `fetch failed`, a cut body) into a
 * {@link ConnectionError} carrying the system error `code` and the original error as `cause`.
 *
 * @example
 * toConnectionError(err, "openai", "gpt-4o").message // "openai gpt-4o: connection failed (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:9"
 */
export function toConnectionError(
  error: unknown,
  provider: string,
  model: string | undefined,
): ConnectionError {
  const code = networkErrorCode(error);
  const where = model ? `${provider} ${model}` : provider;
  const detail = innermostMessage(error);
  return new ConnectionError(
    `${where}: connection failed${code ? ` (${code})` : ""}${detail ? `: ${detail}` : ""}`,
    { cause: error, provider, model, code },
  );
}
