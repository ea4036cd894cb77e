/**
 * The listener API (`ClientConfig.instrumentation`) against the simulator over loopback: every
 * lifecycle event, in order, with one context object per call; the `onX` callbacks delivered
 * through the same mechanism; a throwing listener never fails a request.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type Instrumentation, Instruments } from "../src/client/instrumentation.js";
import type { StreamEvent } from "../src/client/types.js";
import { RateLimitError, ServerError } from "../src/errors/errors.js";
import { clientFor, Message, simulator } from "./helpers/client.js";

const sim = await simulator({ text: "one two three four five six" });
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const hi = [Message.user("hi")];
const CLAUDE = "claude-sonnet-4-5-20250929";

/** A listener that writes every event as one line, and keeps the events themselves. */
function recorder() {
  const lines: string[] = [];
  const events: { method: string; event: Record<string, unknown> }[] = [];
  const listener: Instrumentation = {};
  const methods = [
    "onCallStart",
    "onCallEnd",
    "onAttemptStart",
    "onAttemptEnd",
    "onFirstChunk",
    "onRetry",
    "onFallback",
    "onTargetSkipped",
    "onBreakerTransition",
    "onWarning",
    "onStreamRestart",
  ] as const;
  for (const method of methods) {
    (listener as Record<string, unknown>)[method] = (event: Record<string, unknown>) => {
      events.push({ method, event });
      lines.push(describeEvent(method, event as never));
    };
  }
  return { listener, lines, events };
}

function describeEvent(method: string, e: any): string {
  const t = (s: { provider: string; model: string }) => `${s.provider}:${s.model.split("~")[0]}`;
  switch (method) {
    case "onCallStart":
      return `call-start ${t(e.call.requested)} streaming=${e.call.streaming}`;
    case "onCallEnd":
      return `call-end ${e.outcome} attempts=${e.attempts.length}`;
    case "onAttemptStart":
      return `attempt-start #${e.attempt} ${t(e.target)} retry=${e.retry} ${e.endpoint?.host}`;
    case "onAttemptEnd":
      return `attempt-end #${e.attempt} ${e.record.outcome} ${e.record.status ?? "-"} ${e.error?.name ?? "-"}`;
    case "onFirstChunk":
      return `first-chunk #${e.attempt}`;
    case "onRetry":
      return `retry ${t(e.target)} ${e.attempt} ${e.delayMs}ms ${e.error.name}`;
    case "onFallback":
      return `fallback ${t(e.from)} -> ${t(e.to)} ${e.error.name}`;
    case "onTargetSkipped":
      return `skipped ${t(e.target)} ${e.reason}`;
    case "onBreakerTransition":
      // Keys name the simulator's endpoint: openai@<digest>:model; the digest is left out here.
      return `breaker ${e.key.replace(/@[0-9a-f]{8}:/, ":").split("~")[0]} ${e.from}->${e.to}`;
    case "onWarning":
      return `warning ${e.warning.code}`;
    case "onStreamRestart":
      return `restart ${t(e.target)} "${e.discardedText}"`;
  }
  return method;
}

describe("instrumentation listeners", () => {
  it("a 429 with Retry-After, a 503 burst that opens the breaker, then a fallback: every event in order", async () => {
    const { listener, lines, events } = recorder();
    const legacy: string[] = [];
    const client = clientFor(sim, {
      fallbackModels: [["anthropic", CLAUDE]],
      circuitBreaker: { failureThreshold: 2 },
      instrumentation: [listener],
      onRetry: (attempt, error, delayMs) =>
        legacy.push(`onRetry ${attempt} ${(error as Error).name} ${delayMs}`),
      onFallback: (from, to) => legacy.push(`onFallback ${from.provider} ${to.provider}`),
      onCircuitStateChange: (_key, from, to) => legacy.push(`onCircuitStateChange ${from} ${to}`),
    });
    const model = "gpt-4o~429-retry-after-1s-first-1~503-first-5";
    const res = await client.complete(hi, { model, temperature: 0.2 });
    expect(res.provider).toBe("anthropic");
    expect(lines).toEqual([
      "call-start openai:gpt-4o streaming=false",
      "attempt-start #0 openai:gpt-4o retry=0 127.0.0.1",
      "attempt-end #0 error 429 RateLimitError",
      "retry openai:gpt-4o 1 1000ms RateLimitError",
      "attempt-start #1 openai:gpt-4o retry=1 127.0.0.1",
      "attempt-end #1 error 503 ServerError",
      "retry openai:gpt-4o 2 10ms ServerError",
      "attempt-start #2 openai:gpt-4o retry=2 127.0.0.1",
      "breaker openai:gpt-4o closed->open",
      "attempt-end #2 error 503 ServerError",
      `fallback openai:gpt-4o -> anthropic:${CLAUDE} ServerError`,
      `attempt-start #3 anthropic:${CLAUDE} retry=0 127.0.0.1`,
      "attempt-end #3 success - -",
      "call-end success attempts=4",
    ]);
    // One context object for the whole call, carrying the request.
    const call = events[0]!.event.call;
    expect(events.every((e) => e.event.call === call)).toBe(true);
    expect(call).toMatchObject({
      operation: "chat",
      streaming: false,
      requested: { provider: "openai", model },
      targets: [
        { provider: "openai", model },
        { provider: "anthropic", model: CLAUDE },
      ],
    });
    expect((call as { options: { temperature: number } }).options.temperature).toBe(0.2);
    // The attempt's endpoint and record, the answer's response.
    const start = events.find((e) => e.method === "onAttemptStart")!.event;
    expect(start.endpoint).toEqual({
      url: sim.openaiBaseURL.replace(/\/$/, ""),
      host: "127.0.0.1",
      port: Number(new URL(sim.openaiBaseURL).port),
    });
    const ends = events.filter((e) => e.method === "onAttemptEnd").map((e) => e.event);
    expect(ends.map((e) => e.record)).toEqual(res.attempts);
    expect((ends[3]!.response as { responseModel: string }).responseModel).toBe(res.responseModel);
    const end = events.at(-1)!.event;
    expect(end.response).toBe(res);
    expect(end.durationMs).toBeGreaterThanOrEqual(1000);
    // The old callbacks hear the same events through the same mechanism.
    expect(legacy).toEqual([
      "onRetry 1 RateLimitError 1000",
      "onRetry 2 ServerError 10",
      "onCircuitStateChange closed open",
      "onFallback openai anthropic",
    ]);
    // A second call skips the open target: an event, no attempt.
    lines.length = 0;
    await client.complete(hi, { model });
    expect(lines.slice(0, 4)).toEqual([
      "call-start openai:gpt-4o streaming=false",
      "skipped openai:gpt-4o circuit-open",
      `fallback openai:gpt-4o -> anthropic:${CLAUDE} CircuitOpenError`,
      `attempt-start #1 anthropic:${CLAUDE} retry=0 127.0.0.1`,
    ]);
  });

  it("a stream cut mid-answer under restart: first chunks, the restart, and the call's end", async () => {
    const { listener, lines, events } = recorder();
    const client = clientFor(sim, {
      fallbackModels: [["anthropic", CLAUDE]],
      midStreamFailure: "restart",
      instrumentation: [listener],
    });
    const stream = client.stream(hi, { model: "gpt-4o~cut-after-3" });
    let text = "";
    for await (const delta of stream) text += delta;
    expect(lines).toEqual([
      "call-start openai:gpt-4o streaming=true",
      "attempt-start #0 openai:gpt-4o retry=0 127.0.0.1",
      "first-chunk #0",
      "attempt-end #0 error - StreamInterruptedError",
      `fallback openai:gpt-4o -> anthropic:${CLAUDE} StreamInterruptedError`,
      `restart anthropic:${CLAUDE} "one two three"`,
      `attempt-start #1 anthropic:${CLAUDE} retry=0 127.0.0.1`,
      "first-chunk #1",
      "attempt-end #1 success - -",
      "call-end success attempts=2",
    ]);
    expect(text).toContain("one two three four five six");
    const first = events.find((e) => e.method === "onFirstChunk")!.event;
    expect(first.ttftMs).toBe((await stream.response).attempts[0]!.ttftMs);
  });

  it("a caller's abort and a consumer that stops reading end the call as aborted", async () => {
    const { listener, lines } = recorder();
    const client = clientFor(sim, { instrumentation: [listener] });
    const controller = new AbortController();
    const pending = client.complete(hi, { model: "gpt-4o~slow-5s", signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await expect(pending).rejects.toThrow("stop");
    expect(lines).toEqual([
      "call-start openai:gpt-4o streaming=false",
      "attempt-start #0 openai:gpt-4o retry=0 127.0.0.1",
      "attempt-end #0 error - Error",
      "call-end aborted attempts=1",
    ]);
    lines.length = 0;
    const stream = client.stream(hi, { model: "gpt-4o~stall-after-2" });
    for await (const _ of stream) break;
    await expect(stream.response).rejects.toThrow("stopped reading");
    expect(lines).toEqual([
      "call-start openai:gpt-4o streaming=true",
      "attempt-start #0 openai:gpt-4o retry=0 127.0.0.1",
      "first-chunk #0",
      "attempt-end #0 error - AbortError",
      "call-end aborted attempts=1",
    ]);
  });

  it("a listener that throws is a hook-threw warning, never a failed request", async () => {
    const warnings: string[] = [];
    const client = clientFor(sim, {
      onWarning: (w) => warnings.push(w.code),
      instrumentation: [
        {
          onAttemptStart() {
            throw new TypeError("listener bug");
          },
          onWarning() {
            throw new Error("ignored, never looped");
          },
        },
      ],
      onRetry() {
        throw new Error("callback bug");
      },
    });
    const stream = client.stream(hi, { model: "gpt-4o~503-first-1" });
    const events: StreamEvent[] = [];
    for await (const event of stream.events()) events.push(event);
    expect((await stream.response).content).toBe("one two three four five six");
    expect(warnings).toEqual(["hook-threw", "hook-threw", "hook-threw"]);
    expect(events.filter((e) => e.type === "warning")).toHaveLength(3);
  });

  it("with no listener and no callback there is nothing to call: no instruments at all", () => {
    expect(Instruments.from({}, () => {})).toBeUndefined();
    expect(Instruments.from({ instrumentation: [] }, () => {})).toBeUndefined();
    expect(Instruments.from({ onWarning: () => {} }, () => {})).toBeInstanceOf(Instruments);
    expect(() => clientFor(sim, { instrumentation: {} as never })).toThrow(RangeError);
    expect(() => clientFor(sim, { instrumentation: [null as never] })).toThrow(/instrumentation/);
  });

  it("a breaker reset outside any call is reported without a call", async () => {
    const { listener, events } = recorder();
    const client = clientFor(sim, {
      circuitBreaker: { failureThreshold: 1 },
      retry: { maxRetries: 0 },
      instrumentation: [listener],
    });
    await expect(client.complete(hi, { model: "gpt-4o~503" })).rejects.toBeInstanceOf(ServerError);
    events.length = 0;
    await client.resetCircuits();
    expect(events).toEqual([
      {
        method: "onBreakerTransition",
        event: {
          call: undefined,
          key: client.stateKey({ provider: "openai", model: "gpt-4o~503" }),
          from: "open",
          to: "closed",
        },
      },
    ]);
  });

  it("every target cooling down: the wait is a skipped-target event with its wait", async () => {
    const { listener, events } = recorder();
    const client = clientFor(sim, { instrumentation: [listener] });
    await client.store.set(
      `cooldown:${client.stateKey({ provider: "openai", model: "gpt-4o" })}`,
      { until: Date.now() + 60, retryAfterMs: 60 },
      60,
    );
    await client.complete(hi);
    const skipped = events.find((e) => e.method === "onTargetSkipped")!.event;
    expect(skipped).toMatchObject({ reason: "cooldown", error: expect.any(RateLimitError) });
    expect(skipped.waitMs).toBeGreaterThan(0);
    expect(skipped.waitMs).toBeLessThanOrEqual(60);
  });
});
