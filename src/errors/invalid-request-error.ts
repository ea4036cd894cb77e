import { RetryClientError, type RetryClientErrorOptions } from "./errors.js";

/**
 * The call's input is something no provider could accept (no messages, an unknown role, a tool
 * message without its call id, content of the wrong type, a tool schema that cannot be sent as
 * JSON…). Thrown before any network call: nothing is retried, nothing falls back, no breaker
 * counts it.
 *
 * @example
 * try { await client.complete([{ role: "user" } as never]); }
 * catch (e) { if (InvalidRequestError.isInstance(e)) e.path; } // "messages[0].content"
 */
export class InvalidRequestError extends RetryClientError {
  static override readonly errorName: string = "InvalidRequestError";
  /** Where in the call's input the problem is, e.g. `messages[0].content` or `tools[1].parameters`. */
  readonly path: string;
  constructor(path: string, problem: string, options: RetryClientErrorOptions = {}) {
    super(`invalid request: ${path}: ${problem}`, options);
    this.path = path;
  }
}
