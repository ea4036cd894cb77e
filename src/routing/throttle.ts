import { prefixedKeys } from "../state/state-store.js";
import type { ChatMessage, RateLimitInfo } from "../types.js";

/**
 * What a target's rate-limit headers last said, in absolute times of the store's clock. Kept per
 * process for every answer and, once it runs low, in the store under `ratelimit:<target>` so a
 * fleet shares it.
 */
export interface Headroom {
  /** When the request whose answer carried these headers was sent. */
  readonly at: number;
  readonly requests?: number;
  readonly limitRequests?: number;
  readonly requestsResetAt?: number;
  readonly tokens?: number;
  readonly limitTokens?: number;
  readonly tokensResetAt?: number;
  /** The longest reset interval seen: the estimate of the next window's length. */
  readonly periodMs: number;
  /**
   * How long the report took to arrive (from sending its request). Resets are counted from the
   * arrival, so they may be up to this much late: requests sent that long before a reset are
   * counted against the window that follows it too.
   */
  readonly skewMs?: number;
}

/** One request in flight, debited from its target's headroom until its answer reports anew. */
export interface ThrottleTicket {
  readonly key: string;
  readonly at: number;
  readonly tokens: number;
  /** The input part of the estimate, before correction (to learn the correction from usage). */
  readonly input: number;
}

/** A request's token estimate in two parts: input (characters / 4) and output (`maxTokens`). */
export interface RequestEstimate {
  readonly input: number;
  readonly output: number;
}

/** Share of a limit below which headroom is written to the store for the fleet. @default 0.1 */
const LOW = 0.1;

/**
 * Tokens a request will be charged, as the providers estimate it before answering: input
 * characters / 4 plus the output asked for (`maxTokens`, 0 when not set). Text parts, tool-call
 * arguments and tool results count; images, tool schemas and message framing do not. English
 * prose runs 3.5–4.5 characters a token, code and other languages fewer, so the input part is
 * typically within ±25 % of the tokenizer's count and the output part is exact — what the
 * providers charge at admission too.
 */
export function estimateRequestTokens(
  messages: readonly ChatMessage[],
  maxTokens: number | undefined,
): number {
  return estimateInputTokens(messages) + (maxTokens ?? 0);
}

/** The input part of {@link estimateRequestTokens}: input characters / 4, rounded up. */
export function estimateInputTokens(messages: readonly ChatMessage[]): number {
  let chars = 0;
  for (const message of messages) {
    const content = (message as { content?: unknown }).content;
    if (typeof content === "string") chars += content.length;
    else if (Array.isArray(content)) {
      for (const part of content as Array<{ type?: string; text?: unknown }>)
        if (typeof part?.text === "string") chars += part.text.length;
    }
    const calls = (message as { toolCalls?: ReadonlyArray<{ arguments?: unknown }> }).toolCalls;
    if (calls) for (const call of calls) chars += String(call.arguments ?? "").length;
  }
  return Math.ceil(chars / 4);
}

/**
 * Proactive throttling: from the rate-limit headers of every answer, whether a target can take
 * one more request now, and if not, until when it is to be treated as cooling down.
 *
 * The view of a target is the newest report (this process's, or the fleet's from the store),
 * less the requests this process sent after that report's request (the provider had not counted
 * them yet). Once a reset time passes, the limit is assumed whole again.
 */
export class Throttle {
  readonly #local = new Map<string, Headroom>();
  readonly #inFlight = new Map<string, Set<ThrottleTicket>>();
  /** Per target: input tokens the provider reported ÷ the characters/4 estimate (moving average). */
  readonly #inputRatio = new Map<string, number>();

  /**
   * Tokens `key` will charge for a request: the input estimate corrected by what the target's
   * answers reported as input tokens so far (their framing, their tokenizer), plus the output.
   */
  tokensFor(key: string, estimate: RequestEstimate): number {
    const ratio = this.#inputRatio.get(key) ?? 1;
    return Math.ceil(estimate.input * ratio) + estimate.output;
  }

  /** The store key of a target's shared headroom. */
  readonly storeKey: (key: string) => string = prefixedKeys("ratelimit:");

  /**
   * Until when `key` cannot take a request of `tokens` tokens (a time in the future), or 0 when
   * it can. `shared` is what the store holds for it.
   */
  blockedUntil(
    key: string,
    shared: Headroom | undefined,
    estimate: RequestEstimate,
    now: number,
  ): number {
    const local = this.#local.get(key);
    if (!local && !shared) return 0;
    const tokens = this.tokensFor(key, estimate);
    const inFlight = this.#inFlight.get(key);
    // The hot path: reports that leave room as they stand leave room once a window rolls over
    // too (a roll only refills a limit and counts fewer requests in flight), so skip the roll.
    if (hasRoom(local, inFlight, tokens) && hasRoom(shared, inFlight, tokens)) return 0;
    const view = newest(current(local, now), current(shared, now));
    if (!view) return 0;
    const { requests, spent } = inFlightSince(inFlight, view.at);
    let until = 0;
    if (view.requests !== undefined && view.requestsResetAt !== undefined) {
      if (view.requests - requests < 1) until = view.requestsResetAt;
    }
    if (view.tokens !== undefined && view.tokensResetAt !== undefined) {
      // A request larger than the whole limit can never fit: let the provider say so.
      const fits = view.limitTokens === undefined || tokens <= view.limitTokens;
      if (fits && view.tokens - spent < tokens) until = Math.max(until, view.tokensResetAt);
    }
    return until > now ? until : 0;
  }

  /** Counts a request about to be sent to `key`. */
  dispatch(key: string, estimate: RequestEstimate, now: number): ThrottleTicket {
    const ticket: ThrottleTicket = {
      key,
      at: now,
      tokens: this.tokensFor(key, estimate),
      input: estimate.input,
    };
    let set = this.#inFlight.get(key);
    if (!set) {
      set = new Set();
      this.#inFlight.set(key, set);
    }
    set.add(ticket);
    return ticket;
  }

  /**
   * The request of `ticket` ended; `info` is what its answer's headers said (when any). Returns
   * the headroom to share through the store when it runs low, else undefined.
   */
  settle(
    ticket: ThrottleTicket,
    info: RateLimitInfo | undefined,
    now: number,
    inputTokens?: number,
  ): Headroom | undefined {
    const set = this.#inFlight.get(ticket.key);
    set?.delete(ticket);
    if (set?.size === 0) this.#inFlight.delete(ticket.key);
    if (inputTokens !== undefined && inputTokens > 0 && ticket.input > 0) {
      const sample = Math.min(4, Math.max(0.25, inputTokens / ticket.input));
      const ratio = this.#inputRatio.get(ticket.key);
      this.#inputRatio.set(
        ticket.key,
        ratio === undefined ? sample : ratio + 0.2 * (sample - ratio),
      );
    }
    if (!info) return undefined;
    const previous = this.#local.get(ticket.key);
    const headroom = fromInfo(info, ticket.at, now, previous?.periodMs ?? 0);
    if (!headroom) return undefined;
    if (!previous || previous.at <= headroom.at) this.#local.set(ticket.key, headroom);
    return isLow(headroom) ? headroom : undefined;
  }

  /** Of two reports, the one to keep in the store. */
  static merge(current: Headroom | undefined, next: Headroom): Headroom {
    return current && current.at > next.at ? current : next;
  }
}

function fromInfo(
  info: RateLimitInfo,
  at: number,
  now: number,
  periodMs: number,
): Headroom | undefined {
  const hasRequests = info.remainingRequests !== undefined && info.resetRequestsMs !== undefined;
  const hasTokens = info.remainingTokens !== undefined && info.resetTokensMs !== undefined;
  if (!hasRequests && !hasTokens) return undefined;
  const out: { -readonly [K in keyof Headroom]: Headroom[K] } = { at, periodMs };
  if (now > at) out.skewMs = now - at;
  if (hasRequests) {
    out.requests = info.remainingRequests!;
    out.requestsResetAt = now + info.resetRequestsMs!;
    if (info.limitRequests !== undefined) out.limitRequests = info.limitRequests;
    out.periodMs = Math.max(out.periodMs, info.resetRequestsMs!);
  }
  if (hasTokens) {
    out.tokens = info.remainingTokens!;
    out.tokensResetAt = now + info.resetTokensMs!;
    if (info.limitTokens !== undefined) out.limitTokens = info.limitTokens;
    out.periodMs = Math.max(out.periodMs, info.resetTokensMs!);
  }
  return out;
}

/** The requests in flight sent at or after `at`, and the tokens they will spend. */
function inFlightSince(
  inFlight: ReadonlySet<ThrottleTicket> | undefined,
  at: number,
): { requests: number; spent: number } {
  let requests = 0;
  let spent = 0;
  if (inFlight)
    for (const ticket of inFlight)
      if (ticket.at >= at) {
        requests++;
        spent += ticket.tokens;
      }
  return { requests, spent };
}

/**
 * True when `h` (absent counts) leaves room for one more request of `tokens` tokens as it stands,
 * with every request in flight since it counted. Then it does after a window rolls over as well:
 * a roll sets a limit's remaining back to the limit (not trusted here unless remaining was known
 * and no more than the limit) and counts fewer requests.
 */
function hasRoom(
  h: Headroom | undefined,
  inFlight: ReadonlySet<ThrottleTicket> | undefined,
  tokens: number,
): boolean {
  if (!h) return true;
  // A roll sets remaining to the limit: sure to be no less only when both are known, in order.
  if (h.limitRequests !== undefined && !(h.requests !== undefined && h.requests <= h.limitRequests))
    return false;
  if (h.limitTokens !== undefined && !(h.tokens !== undefined && h.tokens <= h.limitTokens))
    return false;
  const { requests, spent } = inFlightSince(inFlight, h.at);
  if (h.requests !== undefined && h.requests - requests < 1) return false;
  const fits = h.limitTokens === undefined || tokens <= h.limitTokens;
  return !(h.tokens !== undefined && fits && h.tokens - spent < tokens);
}

/** A report as it stands at `now`: a limit whose reset passed is whole again from its reset. */
function current(h: Headroom | undefined, now: number): Headroom | undefined {
  if (!h) return undefined;
  const requestsReset = h.requestsResetAt !== undefined && h.requestsResetAt <= now;
  const tokensReset = h.tokensResetAt !== undefined && h.tokensResetAt <= now;
  if (!requestsReset && !tokensReset) return h;
  const next = { ...h } as { -readonly [K in keyof Headroom]: Headroom[K] };
  const roll = (resetAt: number) => {
    const step = Math.max(1, h.periodMs);
    return resetAt + Math.ceil((now - resetAt + 1) / step) * step;
  };
  // Requests sent since the current window began count against it.
  const period = Math.max(1, h.periodMs) + (h.skewMs ?? 0);
  let since = h.at;
  if (requestsReset) {
    if (h.limitRequests === undefined) delete next.requests;
    else next.requests = h.limitRequests;
    next.requestsResetAt = roll(h.requestsResetAt!);
    since = Math.max(since, next.requestsResetAt - period);
  }
  if (tokensReset) {
    if (h.limitTokens === undefined) delete next.tokens;
    else next.tokens = h.limitTokens;
    next.tokensResetAt = roll(h.tokensResetAt!);
    since = Math.max(since, next.tokensResetAt - period);
  }
  next.at = since;
  return next;
}

function newest(a: Headroom | undefined, b: Headroom | undefined): Headroom | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.at > a.at ? b : a;
}

function isLow(h: Headroom): boolean {
  return runsLow(h.requests, h.limitRequests) || runsLow(h.tokens, h.limitTokens);
}

function runsLow(remaining: number | undefined, limit: number | undefined): boolean {
  return remaining !== undefined && remaining <= Math.max(1, (limit ?? 0) * LOW);
}
