/**
 * Streams (SPEC §3 timeouts and §4 streaming rules) against the simulator over loopback.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { StreamEvent } from "../src/client/types.js";
import { StreamInterruptedError, TimeoutError } from "../src/errors/errors.js";
import { clientFor, Message, seen, simulator } from "./helpers/client.js";

const sim = await simulator({ text: "one two three four five six seven eight nine ten" });
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const story = [Message.user("Tell me a story")];
const fallback = [["anthropic", "claude-sonnet-4-5-20250929"]] as const;
const FULL = "one two three four five six seven eight nine ten";

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

const types = (events: StreamEvent[]) => events.map((e) => e.type);
const text = (events: StreamEvent[]) =>
  events.map((e) => (e.type === "text-delta" ? e.text : "")).join("");

describe("streaming basics", () => {
  it.each(["openai", "anthropic"] as const)(
    "%s: text deltas, usage, finish, and .response",
    async (provider) => {
      const client = clientFor(sim);
      const model = provider === "openai" ? "gpt-4o" : "claude-sonnet-4-5-20250929";
      const stream = client.stream(story, { provider, model });
      let streamed = "";
      for await (const delta of stream) streamed += delta;
      const res = await stream.response;
      expect(streamed).toBe(FULL);
      expect(res.content).toBe(FULL);
      expect(res.finishReason).toBe("stop");
      expect(res.usage?.outputTokens).toBeGreaterThan(0);
      expect(res.attempts[0]!.ttftMs).toBeGreaterThanOrEqual(0);
    },
  );

  it("failures before the first content delta are retried invisibly", async () => {
    const client = clientFor(sim);
    const events = await collect(client.stream(story, { model: "gpt-4o~503-first-2" }).events());
    expect(text(events)).toBe(FULL);
    expect(types(events).filter((t) => t === "retry")).toHaveLength(2);
    expect(types(events)).not.toContain("restart");
  });

  it("an in-band error before any content is classified like its HTTP twin (overloaded → retried)", async () => {
    const client = clientFor(sim);
    const stream = client.stream(story, {
      provider: "anthropic",
      model: "claude-sonnet-4-5-20250929~sse-error-after-0-first-1",
    });
    const events = await collect(stream.events());
    expect(text(events)).toBe(FULL);
    const res = await stream.response;
    expect(res.attempts[0]!.errorClass).toBe("OverloadedError");
  });

  it("a finish reason without [DONE] / message_stop is complete", async () => {
    const client = clientFor(sim);
    const targets = [
      ["openai", "gpt-4o"],
      ["anthropic", "claude-sonnet-4-5-20250929"],
    ] as const;
    for (const [provider, model] of targets) {
      const stream = client.stream(story, { provider, model: `${model}~no-terminator` });
      const events = await collect(stream.events());
      expect(text(events)).toBe(FULL);
      expect((await stream.response).attempts).toHaveLength(1);
    }
  });

  it("a malformed chunk is skipped with a warning; the rest of the answer arrives", async () => {
    const warnings: unknown[] = [];
    const client = clientFor(sim, { onWarning: (w) => warnings.push(w) });
    const events = await collect(
      client.stream(story, { model: "gpt-4o~malformed-after-3" }).events(),
    );
    expect(text(events)).toBe(FULL);
    expect(types(events)).toContain("warning");
    expect(warnings).toHaveLength(1);
  });

  it("breaking out of the loop aborts the request and rejects .response with an AbortError", async () => {
    const client = clientFor(sim);
    const slow = await simulator({ tokenDelayMs: 20, text: FULL });
    try {
      const stream = clientFor(slow).stream(story);
      for await (const _ of stream) break;
      const error = await stream.response.catch((e) => e);
      expect(error.name).toBe("AbortError");
      await new Promise((r) => setTimeout(r, 100));
      expect(slow.requests()[0]!.outcome).not.toBe("ok");
    } finally {
      await slow.close();
    }
    void client;
  });

  it("abort() cancels; an unawaited .response raises no unhandled rejection", async () => {
    const client = clientFor(sim);
    const stream = client.stream(story, { model: "gpt-4o~hang" });
    stream.abort();
    await new Promise((r) => setTimeout(r, 20));
    // vitest fails the run on an unhandled rejection; reaching here without one is the check.
    expect((await stream.response.catch((e) => e)).name).toBe("AbortError");
  });
});

describe("timeouts (§3)", () => {
  it("connect: no headers in time", async () => {
    const client = clientFor(sim, { connectTimeoutMs: 100 });
    const error = await client
      .complete(story, { model: "gpt-4o~hang", retry: { maxRetries: 0 } })
      .catch((e) => e);
    expect(TimeoutError.isInstance(error) && error.kind).toBe("connect");
  });

  it("first-token: keep-alive pings do not count; falls back at once", async () => {
    const client = clientFor(sim, { firstTokenTimeoutMs: 150, fallbackModels: fallback });
    const stream = client.stream(story, { model: "gpt-4o~slow-2s" });
    const events = await collect(stream.events());
    expect(text(events)).toBe(FULL);
    const res = await stream.response;
    expect(res.provider).toBe("anthropic");
    expect(res.attempts[0]!.errorMessage).toContain("first-token timeout");
    expect(seen(sim, "gpt-4o")).toHaveLength(1);
  });

  it("attempt: a non-streaming call must finish in timeoutMs", async () => {
    const client = clientFor(sim, { timeoutMs: 100 });
    const error = await client
      .complete(story, { model: "gpt-4o~hang", retry: { maxRetries: 0 } })
      .catch((e) => e);
    expect(TimeoutError.isInstance(error) && error.kind).toBe("attempt");
  });

  it("idle: a stall after content is an interruption (policy error: thrown with the partial text)", async () => {
    const client = clientFor(sim, { idleTimeoutMs: 150, fallbackModels: fallback });
    const stream = client.stream(story, { model: "gpt-4o~stall-after-3" });
    const error = await collect(stream.events()).catch((e) => e);
    expect(StreamInterruptedError.isInstance(error)).toBe(true);
    expect(error.partialText).toBe("one two three");
    expect(TimeoutError.isInstance(error.cause) && error.cause.kind).toBe("idle");
    expect(seen(sim, "claude")).toHaveLength(0);
  });

  it("deadline: spans retries and waits; nothing sleeps past it", async () => {
    const client = clientFor(sim, { retry: { baseDelayMs: 200, jitter: 0, maxRetries: 10 } });
    const started = Date.now();
    const error = await client
      .complete(story, { model: "gpt-4o~503", deadlineMs: 700 })
      .catch((e) => e);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(700);
    expect(error.status).toBe(503);
    expect(error.attempts.length).toBe(3); // 0, +200, +400: the next wait (800) would pass the deadline
  });

  it("deadline: an attempt in flight when it passes is cut with TimeoutError(deadline)", async () => {
    const client = clientFor(sim, { fallbackModels: fallback });
    const started = Date.now();
    const error = await client
      .complete(story, { model: "gpt-4o~hang", deadlineMs: 200 })
      .catch((e) => e);
    expect(Date.now() - started).toBeLessThan(600);
    expect(TimeoutError.isInstance(error) && error.kind).toBe("deadline");
    expect(error.attempts).toHaveLength(1);
  });
});

describe("mid-stream failures (§4)", () => {
  it('"error" (default): StreamInterruptedError with the partial text and the cause', async () => {
    const client = clientFor(sim, { fallbackModels: fallback });
    const stream = client.stream(story, { model: "gpt-4o~cut-after-3" });
    let shown = "";
    const error = await (async () => {
      for await (const delta of stream) shown += delta;
    })().catch((e) => e);
    expect(StreamInterruptedError.isInstance(error)).toBe(true);
    expect(error.partialText).toBe("one two three");
    expect(shown).toBe("one two three");
    expect(error.cause).toBeDefined();
    expect(error.attempts).toHaveLength(1);
    expect(await stream.response.catch((e) => e)).toBe(error);
    expect(seen(sim, "claude")).toHaveLength(0);
  });

  it('"restart": a restart event, then the whole answer from the next target', async () => {
    const client = clientFor(sim, { fallbackModels: fallback, midStreamFailure: "restart" });
    const stream = client.stream(story, { model: "gpt-4o~cut-after-3" });
    const events = await collect(stream.events());
    const restart = events.find((e) => e.type === "restart");
    expect(restart).toMatchObject({ discardedText: "one two three", provider: "anthropic" });
    const after = events.slice(events.indexOf(restart!));
    expect(text(after)).toBe(FULL);
    const res = await stream.response;
    expect(res.content).toBe(FULL);
    expect(res.provider).toBe("anthropic");
  });

  it('"restart" with no target left throws the StreamInterruptedError', async () => {
    const client = clientFor(sim, { midStreamFailure: "restart" });
    const error = await collect(
      client.stream(story, { model: "gpt-4o~cut-after-3" }).events(),
    ).catch((e) => e);
    expect(StreamInterruptedError.isInstance(error)).toBe(true);
  });

  it('"continue": the next target continues from the partial text (assistant prefill)', async () => {
    const client = clientFor(sim, {
      fallbackModels: fallback,
      midStreamFailure: "continue",
    });
    const stream = client.stream(story, { model: "gpt-4o~cut-after-3" });
    const events = await collect(stream.events());
    expect(types(events)).not.toContain("restart");
    const res = await stream.response;
    expect(res.content).toBe(FULL);
    expect(text(events)).toBe(FULL);
    const body = seen(sim, "claude")[0]!.body as {
      messages: Array<{ role: string; content: unknown }>;
    };
    expect(body.messages.at(-1)).toMatchObject({ role: "assistant" });
    expect(JSON.stringify(body.messages.at(-1))).toContain("one two three");
  });

  it('"continue" to a target without prefill support restarts instead', async () => {
    const client = clientFor(sim, {
      fallbackModels: [["openai", "gpt-4o-mini"]],
      midStreamFailure: "continue",
    });
    const stream = client.stream(story, { model: "gpt-4o~cut-after-3" });
    const events = await collect(stream.events());
    expect(types(events)).toContain("restart");
    expect((await stream.response).content).toBe(FULL);
  });

  it('"continue" that the target refuses turns into a restart; the error reported is the original cause', async () => {
    const client = clientFor(sim, {
      fallbackModels: [["anthropic", "claude-sonnet-4-5-20250929~rejects-prefill"]],
      midStreamFailure: "continue",
    });
    const stream = client.stream(story, { model: "gpt-4o~cut-after-3" });
    const events = await collect(stream.events());
    expect(types(events)).toContain("restart");
    expect((await stream.response).content).toBe(FULL);

    sim.reset();
    const failing = clientFor(sim, {
      fallbackModels: [["anthropic", "claude-sonnet-4-5-20250929~rejects-prefill~503"]],
      midStreamFailure: "continue",
    });
    const error = await collect(
      failing.stream(story, { model: "gpt-4o~cut-after-3" }).events(),
    ).catch((e) => e);
    expect(StreamInterruptedError.isInstance(error)).toBe(true);
    expect(error.partialText).toBe("one two three");
    expect(error.provider).toBe("openai");
  });

  it('"continue" after a partial tool call restarts: a half-written call cannot be continued', async () => {
    const client = clientFor(sim, { fallbackModels: fallback, midStreamFailure: "continue" });
    const tools = [
      { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
    ];
    const stream = client.stream(story, { model: "gpt-4o~cut-after-1", tools });
    const events = await collect(stream.events());
    expect(types(events)).toContain("tool-call-delta");
    expect(types(events)).toContain("restart");
    const res = await stream.response;
    expect(res.provider).toBe("anthropic");
    expect(res.finishReason).toBe("tool_calls");
    expect(res.toolCalls).toMatchObject([{ name: "weather" }]);
    expect(JSON.parse(res.toolCalls[0]!.arguments)).toEqual({ city: "example" });
  });

  it("usage of every billed attempt is summed in totalUsage", async () => {
    const client = clientFor(sim, { fallbackModels: fallback, midStreamFailure: "restart" });
    const stream = client.stream(story, {
      provider: "anthropic",
      model: "claude-sonnet-4-5-20250929~cut-after-3",
      fallbackModels: [["openai", "gpt-4o"]],
    });
    await collect(stream.events());
    const res = await stream.response;
    expect(res.usage).toBeDefined();
    expect(res.totalUsage.inputTokens).toBeGreaterThan(res.usage!.inputTokens);
  });
});
