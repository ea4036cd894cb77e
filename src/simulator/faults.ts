import { ConfigurationError } from "../errors/index.js";
import { formatDuration, parseDuration } from "./duration.js";

/** How a 429 tells the client when to come back. */
export type RetryAfterStyle =
  /** `retry-after: <seconds>` (plus the provider's rate-limit headers). */
  | "seconds"
  /** `retry-after: <HTTP-date>` (plus the provider's rate-limit headers). */
  | "date"
  /** `retry-after-ms: <ms>` only (plus the provider's rate-limit headers). */
  | "ms"
  /** Only the provider's reset headers (`x-ratelimit-reset-*`, `anthropic-ratelimit-*-reset`). */
  | "reset"
  /** No header at all. */
  | "none"
  /**
   * No `retry-after`: the rate-limit headers show the token limit ran out (requests remain,
   * fewer tokens remain than the request needs) and reset in the wait.
   */
  | "tokens";

/**
 * One misbehaviour, parsed. `kind: "ok"` is a healthy answer. Token counts (`afterTokens`)
 * count content deltas of a streamed answer.
 */
export type Fault =
  | { readonly kind: "ok" }
  | { readonly kind: "rate-limit"; readonly style: RetryAfterStyle; readonly waitMs: number }
  | { readonly kind: "quota" }
  | { readonly kind: "too-large" }
  | { readonly kind: "status"; readonly status: number }
  | { readonly kind: "overloaded" }
  | { readonly kind: "sse-error"; readonly afterTokens: number }
  | { readonly kind: "reset" }
  | { readonly kind: "hang" }
  /** Accepts the request, stays silent for `afterMs`, then closes the connection without a byte. */
  | { readonly kind: "silent-close"; readonly afterMs: number }
  | { readonly kind: "slow"; readonly delayMs: number }
  | { readonly kind: "cut"; readonly afterTokens: number }
  | { readonly kind: "stall"; readonly afterTokens: number }
  | { readonly kind: "malformed"; readonly afterTokens: number }
  | { readonly kind: "no-terminator" }
  | { readonly kind: "context-length" }
  /** A 400 for a request that ends with an assistant prefill (as Claude 4.6 models answer); healthy otherwise. */
  | { readonly kind: "rejects-prefill" }
  | { readonly kind: "content-filter" }
  /** A healthy answer with no finish reason (OpenAI `finish_reason: null` to the end, then `[DONE]`). */
  | { readonly kind: "no-finish-reason" }
  /** A healthy answer whose every tool-call fragment repeats the call's id and name. */
  | { readonly kind: "repeat-tool-ids" };

/** A fault plus when it applies (the window modifiers of the model-name grammar). */
export interface FaultDirective {
  readonly fault: Fault;
  /** Canonical text of the fault alone, e.g. `429-retry-after-2s`. */
  readonly name: string;
  /** Applies only to the first N requests for the model (`-first-N`). */
  readonly firstRequests?: number;
  /** Applies only for this long after the model's first request (`-for-<duration>`). */
  readonly forMs?: number;
  /** Applies to this share of requests, 0..1 (`-rate-<p>`), drawn from the seeded PRNG. */
  readonly rate?: number;
}

/** Where a model name splits from its fault directives. */
export const FAULT_SEPARATOR = "~";

/** How many content deltas stream faults let through when the directive gives no count. */
const DEFAULT_AFTER_TOKENS = 2;

const FAULT_NAMES =
  "ok, 429, 429-retry-after-<d>, 429-retry-after-date-<d>, 429-retry-after-ms-<d>, " +
  "429-reset-<d>, 429-tokens-<d>, 429-bare, quota, too-large, <4xx/5xx status>, overloaded, sse-error[-after-<n>], " +
  "reset, hang, close-after-<d>, slow-<d>, cut-after-<n>, stall-after-<n>, malformed[-after-<n>], no-terminator, " +
  "context-length, content-filter, rejects-prefill, no-finish-reason, repeat-tool-ids, down-<d>";

function bad(text: string, why: string): ConfigurationError {
  return new ConfigurationError(
    `simulator: cannot read fault "${text}": ${why} (known faults: ${FAULT_NAMES}; modifiers: -first-<n>, -for-<d>, -rate-<p>; durations like 500ms, 2s)`,
    { option: "fault" },
  );
}

function count(text: string, whole: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw bad(whole, `expected a non-negative integer, got "${text}"`);
  return n;
}

function duration(text: string, whole: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw bad(whole, `expected a duration like 500ms or 2s, got "${text}"`);
  return ms;
}

const PATTERNS: ReadonlyArray<readonly [RegExp, (arg: string, whole: string) => Fault]> = [
  [
    /^429-retry-after-date-(.+)$/,
    (a, w) => ({ kind: "rate-limit", style: "date", waitMs: duration(a, w) }),
  ],
  [
    /^429-retry-after-ms-(.+)$/,
    (a, w) => ({ kind: "rate-limit", style: "ms", waitMs: duration(a, w) }),
  ],
  [
    /^429-retry-after-(.+)$/,
    (a, w) => ({ kind: "rate-limit", style: "seconds", waitMs: duration(a, w) }),
  ],
  [/^429-reset-(.+)$/, (a, w) => ({ kind: "rate-limit", style: "reset", waitMs: duration(a, w) })],
  [
    /^429-tokens-(.+)$/,
    (a, w) => ({ kind: "rate-limit", style: "tokens", waitMs: duration(a, w) }),
  ],
  [/^close-after-(.+)$/, (a, w) => ({ kind: "silent-close", afterMs: duration(a, w) })],
  [/^sse-error-after-(.+)$/, (a, w) => ({ kind: "sse-error", afterTokens: count(a, w) })],
  [/^slow-(.+)$/, (a, w) => ({ kind: "slow", delayMs: duration(a, w) })],
  [/^cut-after-(.+)$/, (a, w) => ({ kind: "cut", afterTokens: count(a, w) })],
  [/^stall-after-(.+)$/, (a, w) => ({ kind: "stall", afterTokens: count(a, w) })],
  [/^malformed-after-(.+)$/, (a, w) => ({ kind: "malformed", afterTokens: count(a, w) })],
];

/**
 * Parses one fault name (no window modifiers), e.g. `429-retry-after-2s`, `cut-after-3`, `503`.
 *
 * @throws ConfigurationError when the text is not a known fault.
 */
export function parseFault(text: string): Fault {
  const t = text.trim().toLowerCase();
  switch (t) {
    case "ok":
    case "healthy":
      return { kind: "ok" };
    case "429":
      return { kind: "rate-limit", style: "seconds", waitMs: 1000 };
    case "429-bare":
      return { kind: "rate-limit", style: "none", waitMs: 0 };
    case "quota":
      return { kind: "quota" };
    case "too-large":
      return { kind: "too-large" };
    case "overloaded":
      return { kind: "overloaded" };
    case "sse-error":
      return { kind: "sse-error", afterTokens: 0 };
    case "reset":
      return { kind: "reset" };
    case "hang":
    case "no-response":
      return { kind: "hang" };
    case "malformed":
      return { kind: "malformed", afterTokens: DEFAULT_AFTER_TOKENS };
    case "no-terminator":
      return { kind: "no-terminator" };
    case "context-length":
      return { kind: "context-length" };
    case "content-filter":
      return { kind: "content-filter" };
    case "rejects-prefill":
      return { kind: "rejects-prefill" };
    case "no-finish-reason":
      return { kind: "no-finish-reason" };
    case "repeat-tool-ids":
      return { kind: "repeat-tool-ids" };
  }
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(t);
    if (match) return build(match[1]!, text);
  }
  if (/^\d{3}$/.test(t)) {
    const status = Number(t);
    if (status < 400 || status > 599) throw bad(text, "a status fault must be 400..599");
    return { kind: "status", status };
  }
  throw bad(text, "unknown fault");
}

/** The canonical name of a fault: `parseFault(faultName(f))` gives `f` back. */
export function faultName(fault: Fault): string {
  switch (fault.kind) {
    case "ok":
    case "quota":
    case "too-large":
    case "overloaded":
    case "reset":
    case "hang":
    case "no-terminator":
    case "context-length":
    case "content-filter":
    case "rejects-prefill":
    case "no-finish-reason":
    case "repeat-tool-ids":
      return fault.kind;
    case "rate-limit": {
      const d = formatDuration(fault.waitMs);
      if (fault.style === "none") return "429-bare";
      if (fault.style === "seconds") return `429-retry-after-${d}`;
      if (fault.style === "date") return `429-retry-after-date-${d}`;
      if (fault.style === "ms") return `429-retry-after-ms-${d}`;
      if (fault.style === "tokens") return `429-tokens-${d}`;
      return `429-reset-${d}`;
    }
    case "status":
      return String(fault.status);
    case "sse-error":
      return fault.afterTokens === 0 ? "sse-error" : `sse-error-after-${fault.afterTokens}`;
    case "slow":
      return `slow-${formatDuration(fault.delayMs)}`;
    case "silent-close":
      return `close-after-${formatDuration(fault.afterMs)}`;
    case "cut":
      return `cut-after-${fault.afterTokens}`;
    case "stall":
      return `stall-after-${fault.afterTokens}`;
    case "malformed":
      return `malformed-after-${fault.afterTokens}`;
  }
}

/**
 * Parses a directive: a fault with optional window modifiers, in any order at the end:
 * `-first-<n>` (first n requests), `-for-<duration>` (from the model's first request),
 * `-rate-<p>` (probability 0..1). `down-<duration>` is sugar for `503-for-<duration>`.
 *
 * @example parseDirective("500-first-2") // { fault: { kind: "status", status: 500 }, firstRequests: 2, ... }
 * @throws ConfigurationError on an unknown fault or a bad modifier.
 */
export function parseDirective(text: string): FaultDirective {
  let rest = text.trim().toLowerCase();
  let firstRequests: number | undefined;
  let forMs: number | undefined;
  let rate: number | undefined;
  for (;;) {
    const first = firstRequests === undefined ? /^(.+)-first-(\d+)$/.exec(rest) : null;
    const window = forMs === undefined ? /^(.+)-for-(\d+(?:\.\d+)?(?:ms|s|m|h))$/.exec(rest) : null;
    const share = rate === undefined ? /^(.+)-rate-(\d+(?:\.\d+)?)$/.exec(rest) : null;
    const m = first ?? window ?? share;
    if (!m) break;
    if (m === first) firstRequests = count(m[2]!, text);
    else if (m === window) forMs = duration(m[2]!, text);
    else {
      rate = Number(m[2]);
      if (!(rate >= 0 && rate <= 1)) throw bad(text, `a rate must be within 0..1, got ${m[2]}`);
    }
    rest = m[1]!;
  }
  const down = /^down-(.+)$/.exec(rest);
  if (down) {
    if (forMs !== undefined) throw bad(text, "down-<d> already says for how long");
    forMs = duration(down[1]!, text);
    rest = "503";
  }
  const fault = parseFault(rest);
  return {
    fault,
    name: faultName(fault),
    ...(firstRequests === undefined ? {} : { firstRequests }),
    ...(forMs === undefined ? {} : { forMs }),
    ...(rate === undefined ? {} : { rate }),
  };
}

/** A model name split into the model to report and its fault directives. */
export interface ParsedModelName {
  /** The model name without directives (what the answer reports as its model). */
  readonly model: string;
  readonly directives: readonly FaultDirective[];
}

/**
 * Splits `gpt-4o~429-retry-after-2s~500-first-3` into `gpt-4o` and its directives.
 * A name without `~` has no directives.
 *
 * @throws ConfigurationError when a directive cannot be read.
 */
export function parseModelName(name: string): ParsedModelName {
  const at = name.indexOf(FAULT_SEPARATOR);
  if (at < 0) return { model: name, directives: [] };
  const parts = name.slice(at + 1).split(FAULT_SEPARATOR);
  return {
    model: name.slice(0, at),
    directives: parts.filter((p) => p.trim() !== "").map(parseDirective),
  };
}
