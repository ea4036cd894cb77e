import {
  BadRequestError,
  CircuitOpenError,
  ConfigurationError,
  ContextLengthExceededError,
  FallbackExhaustedError,
  InvalidRequestError,
  NotFoundError,
  OverloadedError,
  ProviderError,
  QuotaExceededError,
  RateLimitError,
  RetryClientError,
} from "../index.node.js";

/** What a failure means to the caller, whatever the wire. */
export type FailureKind =
  | "invalid"
  | "authentication"
  | "not-found"
  | "too-large"
  | "rate-limit"
  | "overloaded"
  | "upstream";

/** A failure as the gateway answers it: status, kind, message and the wait to ask for. */
export interface GatewayFailure {
  readonly status: number;
  readonly kind: FailureKind;
  readonly message: string;
  /** Sent as `retry-after` (whole seconds, rounded up). */
  readonly retryAfterMs?: number;
}

/** A request the gateway refuses before any upstream call (bad JSON, a missing field, …). */
export class GatewayRequestError extends Error {
  readonly status: number;
  readonly kind: FailureKind;
  readonly param: string | undefined;
  constructor(message: string, param?: string, status = 400, kind: FailureKind = "invalid") {
    super(message);
    this.name = "GatewayRequestError";
    this.param = param;
    this.status = status;
    this.kind = kind;
  }
}

const isCoolingDown = (error: unknown): boolean =>
  RateLimitError.isInstance(error) && !QuotaExceededError.isInstance(error);

const isOverload = (error: unknown): boolean =>
  OverloadedError.isInstance(error) ||
  (ProviderError.isInstance(error) && (error.status === 503 || error.status === 529));

/**
 * Maps what the client threw to the caller's answer: the caller's own mistakes keep their 4xx;
 * every target cooling down is a 429 with `retry-after`; every breaker open is a 503 with
 * `retry-after`; any other failure of the upstreams is a 502 (503 when the last failure was an
 * overload), its message listing each target's failure. The gateway's own upstream credentials
 * failing is the gateway's problem, never reported to the caller as a 401.
 */
export function describeFailure(error: unknown): GatewayFailure {
  if (error instanceof GatewayRequestError) {
    return { status: error.status, kind: error.kind, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (FallbackExhaustedError.isInstance(error)) {
    const errors = error.errors;
    if (errors.length > 0 && errors.every(isCoolingDown)) {
      return withWait({ status: 429, kind: "rate-limit", message }, minWait(errors));
    }
    if (errors.length > 0 && errors.every((e) => CircuitOpenError.isInstance(e))) {
      return withWait({ status: 503, kind: "overloaded", message }, minWait(errors));
    }
    const last = errors[errors.length - 1];
    return isOverload(last)
      ? { status: 503, kind: "overloaded", message }
      : { status: 502, kind: "upstream", message };
  }
  if (isCoolingDown(error)) {
    return withWait(
      { status: 429, kind: "rate-limit", message },
      (error as RateLimitError).retryAfterMs,
    );
  }
  if (CircuitOpenError.isInstance(error)) {
    return withWait({ status: 503, kind: "overloaded", message }, error.retryAfterMs);
  }
  if (
    InvalidRequestError.isInstance(error) ||
    ContextLengthExceededError.isInstance(error) ||
    BadRequestError.isInstance(error)
  ) {
    return { status: 400, kind: "invalid", message };
  }
  if (NotFoundError.isInstance(error)) return { status: 404, kind: "not-found", message };
  if (isOverload(error)) return { status: 503, kind: "overloaded", message };
  if (ConfigurationError.isInstance(error)) return { status: 502, kind: "upstream", message };
  if (RetryClientError.isInstance(error)) return { status: 502, kind: "upstream", message };
  if (error instanceof RangeError || error instanceof TypeError) {
    // Options the client refused (a bad temperature, a bad model reference): the caller's input.
    return { status: 400, kind: "invalid", message };
  }
  return { status: 500, kind: "upstream", message: "internal gateway error" };
}

function withWait(failure: GatewayFailure, waitMs: number | undefined): GatewayFailure {
  return waitMs === undefined ? failure : { ...failure, retryAfterMs: waitMs };
}

function minWait(errors: readonly unknown[]): number | undefined {
  let min: number | undefined;
  for (const error of errors) {
    const wait = (error as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof wait === "number" && (min === undefined || wait < min)) min = wait;
  }
  return min;
}

/** `retry-after` in whole seconds, at least 1. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
