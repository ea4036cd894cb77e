/**
 * Routing against the simulator: deployment groups, proactive throttling from the simulator's
 * real per-key rate limit, and hedged requests against its latency table.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RateLimitError } from "../src/errors/errors.js";
import type { Simulator } from "../src/simulator/index.js";
import { MemoryStateStore } from "../src/state/memory-state-store.js";
import {
  clientFor,
  Message,
  type RetryClient,
  RetryClient as RetryClientClass,
  simulator,
} from "./helpers/client.js";

let sim: Simulator;
beforeAll(async () => {
  sim = await simulator();
});
afterAll(() => sim.close());
afterEach(() => {
  sim.setRateLimit(undefined);
  sim.setLatency(undefined);
  sim.reset();
});

/** Three providers on the simulator, each with its own key: three deployments of one model. */
function fleetClient(config: Parameters<typeof clientFor>[1] = {}): RetryClient {
  const provider = (key: string) => ({ apiKey: key, baseURL: sim.openaiBaseURL });
  const base = clientFor(sim).config;
  const { defaultProvider: _, ...rest } = base;
  const wantsDefault = config.defaultModel === "gpt-4o-pool";
  return new RetryClientClass({
    ...(wantsDefault ? rest : base),
    providers: {
      ...base.providers,
      east: provider("key-east"),
      west: provider("key-west"),
      north: provider("key-north"),
    },
    groups: {
      "gpt-4o-pool": {
        targets: [
          ["east", "gpt-4o"],
          ["west", "gpt-4o"],
          ["north", "gpt-4o"],
        ],
      },
    },
    ...config,
  });
}

describe("deployment groups", () => {
  it("a group name as the model spreads concurrent calls evenly over the members (least-busy)", async () => {
    sim.setLatency({ "gpt-4o": 30 });
    const client = fleetClient();
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        client.complete([Message.user("hi")], { model: "gpt-4o-pool" }),
      ),
    );
    const by: Record<string, number> = {};
    for (const r of responses) by[r.provider] = (by[r.provider] ?? 0) + 1;
    expect(by).toEqual({ east: 10, west: 10, north: 10 });
    expect(client.chain({ model: "gpt-4o-pool" }).map((t) => t.provider)).toEqual([
      "east",
      "west",
      "north",
    ]);
  });

  it("skips a member that is cooling down; the other members follow, then the fallbacks", async () => {
    const client = fleetClient({
      groups: {
        pool: {
          strategy: "round-robin",
          targets: [
            ["east", "gpt-4o~429-retry-after-5s"],
            ["west", "gpt-4o~500"],
          ],
        },
      },
      fallbackModels: [["north", "gpt-4o"]],
      retry: { maxRetries: 0 },
    });
    const first = await client.complete([Message.user("hi")], { model: "pool" });
    expect(first.provider).toBe("north");
    expect(first.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
      "east:error",
      "west:error",
      "north:success",
    ]);
    // east is cooling down now: the next call's pick goes to west without a request to east.
    sim.reset();
    const second = await client.complete([Message.user("hi")], { model: "pool" });
    expect(second.provider).toBe("north");
    expect(sim.requests().some((r) => r.model?.startsWith("gpt-4o~429"))).toBe(false);
  });

  it("works as the default model, and refuses a bad group at construction", async () => {
    // No default provider: the default model names the group.
    const client = fleetClient({ defaultModel: "gpt-4o-pool" });
    const response = await client.complete([Message.user("hi")]);
    expect(["east", "west", "north"]).toContain(response.provider);
    expect(() => fleetClient({ groups: { g: { targets: [] } } })).toThrow(RangeError);
    expect(() =>
      fleetClient({ groups: { g: { targets: [["east", "m"]], strategy: "fastest" as never } } }),
    ).toThrow(/groups\.g\.strategy/);
    expect(() =>
      fleetClient({ groups: { g: { targets: [["east", "m"]], weights: [1, 2] } } }),
    ).toThrow(/groups\.g\.weights/);
  });
});

describe("proactive throttling", () => {
  it("does not send a request the key has no headroom for: it waits or throws instead of a 429", async () => {
    sim.setRateLimit({ requests: 2, windowMs: 60_000 });
    const client = clientFor(sim, { maxRetryAfterMs: 100 });
    await client.complete([Message.user("hi")]);
    await client.complete([Message.user("hi")]);
    const error = await client.complete([Message.user("hi")]).catch((e: unknown) => e);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/headroom/);
    expect(sim.requests()).toHaveLength(2);
    expect(sim.requests().every((r) => r.status === 200)).toBe(true);
  });

  it("with throttling off, the same client spends a 429", async () => {
    sim.setRateLimit({ requests: 2, windowMs: 60_000 });
    const client = clientFor(sim, { maxRetryAfterMs: 100, throttling: false });
    await client.complete([Message.user("hi")]);
    await client.complete([Message.user("hi")]);
    await expect(client.complete([Message.user("hi")])).rejects.toThrow();
    expect(sim.requests().filter((r) => r.status === 429)).toHaveLength(1);
  });

  it("moves a group call to a member that has the tokens the request needs", async () => {
    sim.setRateLimit({ tokens: 1000, windowMs: 60_000 });
    const client = fleetClient({ maxRetryAfterMs: 100 });
    const ask = () =>
      client.complete([Message.user("hi")], { model: "gpt-4o-pool", maxTokens: 600 });
    const providers = [];
    for (let i = 0; i < 3; i++) providers.push((await ask()).provider);
    expect(new Set(providers).size).toBe(3);
    // Every key has < 600 tokens left in this window: no fourth request goes out.
    await expect(ask()).rejects.toThrow(/headroom/);
    expect(sim.requests()).toHaveLength(3);
    expect(sim.requests().every((r) => r.status === 200)).toBe(true);
  });

  it("shares low headroom through the store: another client skips the key without a request", async () => {
    sim.setRateLimit({ requests: 1, windowMs: 60_000 });
    const store = new MemoryStateStore();
    const a = clientFor(sim, { stateStore: store, maxRetryAfterMs: 100 });
    const b = clientFor(sim, { stateStore: store, maxRetryAfterMs: 100 });
    await a.complete([Message.user("hi")]);
    await expect(b.complete([Message.user("hi")])).rejects.toThrow(/headroom/);
    expect(sim.requests()).toHaveLength(1);
    // Under the target's key, which names the simulator's endpoint (not the default one).
    const shared = (await store.entries("ratelimit:")).map(([k]) => k);
    expect(shared).toHaveLength(1);
    expect(shared[0]).toMatch(/^ratelimit:openai@[^:]+:gpt-4o$/);
  });

  it("reads Anthropic's rate-limit headers too", async () => {
    sim.setRateLimit({ requests: 1, windowMs: 60_000 });
    const client = clientFor(sim, {
      defaultProvider: "anthropic",
      defaultModel: "claude-sonnet-4-20250514",
      maxRetryAfterMs: 100,
    });
    await client.complete([Message.user("hi")]);
    await expect(client.complete([Message.user("hi")])).rejects.toThrow(/headroom/);
    expect(sim.requests()).toHaveLength(1);
  });
});

/** Waits until the simulator has `n` requests in its log. */
async function until(n: number): Promise<void> {
  for (let i = 0; i < 200 && sim.requests().length < n; i++)
    await new Promise((r) => setTimeout(r, 5));
}

describe("hedged requests", () => {
  it("a silent attempt is hedged on the next target; the first answer wins, the other is cancelled", async () => {
    sim.setLatency({ "gpt-4o": 5000 });
    const client = clientFor(sim, {
      fallbackModels: [["openai", "gpt-4o-mini"]],
      hedge: { afterMs: 30, budget: 1 },
    });
    const response = await client.complete([Message.user("hi")]);
    expect(response.model).toBe("gpt-4o-mini");
    expect(response.attempts.map((a) => `${a.model}:${a.outcome}`).sort()).toEqual([
      "gpt-4o-mini:success",
      "gpt-4o:cancelled",
    ]);
    await until(2);
    const slow = sim.requests().find((r) => r.model === "gpt-4o");
    await new Promise((r) => setTimeout(r, 20));
    expect(sim.requests().find((r) => r.id === slow?.id)?.outcome).toBe("client-closed");
  });

  it("hedges on the same target when it is alone, streaming: one answer, no doubled text", async () => {
    sim.setLatency({ "gpt-4o": 5000 });
    const client = clientFor(sim, { hedge: { afterMs: 30, budget: 1 } });
    const stream = client.stream([Message.user("hi")]);
    const texts: string[] = [];
    const done = (async () => {
      for await (const text of stream) texts.push(text);
    })();
    await until(1);
    sim.setLatency(undefined); // the hedge, sent 30 ms later, answers at once
    await done;
    const response = await stream.response;
    expect(texts.join("")).toBe(response.content);
    expect(response.attempts.map((a) => a.outcome).sort()).toEqual(["cancelled", "success"]);
    expect(sim.requests()).toHaveLength(2);
  });

  it("no hedge when the attempt answers in time, or when the hedge budget is spent", async () => {
    const quick = clientFor(sim, { hedge: { afterMs: 1000, budget: 1 } });
    await quick.complete([Message.user("hi")]);
    expect(sim.requests()).toHaveLength(1);
    sim.reset();
    sim.setLatency({ "gpt-4o": 100 });
    const spent = clientFor(sim, { hedge: { afterMs: 10, budget: 0 } });
    const response = await spent.complete([Message.user("hi")]);
    expect(response.attempts).toHaveLength(1);
    expect(sim.requests()).toHaveLength(1);
  });

  it("when the first attempt fails while its hedge runs, the hedge's answer is the call's", async () => {
    sim.setLatency({ "gpt-4o": 100, "gpt-4o-mini": 150 });
    const client = clientFor(sim, {
      defaultModel: "gpt-4o~cut-after-1",
      fallbackModels: [["openai", "gpt-4o-mini"]],
      retry: { maxRetries: 0 },
      hedge: { afterMs: 10, budget: 1 },
    });
    const response = await client.complete([Message.user("hi")]);
    expect(response.model).toBe("gpt-4o-mini");
    expect(response.attempts.map((a) => `${a.model}:${a.outcome}`)).toEqual([
      "gpt-4o~cut-after-1:error",
      "gpt-4o-mini:success",
    ]);
  });

  it("a hedge that fails while the first request goes on is an error; the first one may still win", async () => {
    sim.setLatency({ "gpt-4o": 100 });
    const client = clientFor(sim, {
      fallbackModels: [["openai", "gpt-4o-mini~500"]],
      retry: { maxRetries: 0 },
      hedge: { afterMs: 10, budget: 1 },
    });
    const response = await client.complete([Message.user("hi")]);
    expect(response.model).toBe("gpt-4o");
    expect(response.attempts.map((a) => `${a.model}:${a.outcome}`)).toEqual([
      "gpt-4o-mini~500:error",
      "gpt-4o:success",
    ]);
    // The hedge's failure counts for nothing but its record: the fallback's breaker is untouched.
    expect(await client.circuits()).toEqual([]);
  });

  it("listeners see each hedged request start and end once, under its own target", async () => {
    sim.setLatency({ "gpt-4o": 5000 });
    const starts: string[] = [];
    const ends: string[] = [];
    const client = clientFor(sim, {
      fallbackModels: [["openai", "gpt-4o-mini"]],
      hedge: { afterMs: 30, budget: 1 },
      instrumentation: [
        {
          onAttemptStart: (e) => starts.push(`${e.attempt}:${e.target.model}`),
          onAttemptEnd: (e) => ends.push(`${e.attempt}:${e.target.model}:${e.record.outcome}`),
        },
      ],
    });
    await client.complete([Message.user("hi")]);
    expect(starts.sort()).toEqual(["0:gpt-4o", "1:gpt-4o-mini"]);
    expect(ends.sort()).toEqual(["0:gpt-4o:cancelled", "1:gpt-4o-mini:success"]);
  });
});
