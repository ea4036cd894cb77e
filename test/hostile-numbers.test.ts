/**
 * Issue 12, items 8–10 and 14: numbers at the edge of their range. Retry-After of 1e308,
 * Infinity and NaN, dates 50 years out, `99999999h` resets; corrupted stored cooldowns; timeouts
 * past a timer's range; a long-lived AbortSignal reused for every call.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RateLimitError } from "../src/errors/errors.js";
import { Message } from "../src/message.js";
import { OpenAIProvider } from "../src/providers/openai/openai-provider.js";
import { sleep } from "../src/resilience/sleep.js";
import { FileStateStore } from "../src/state/file-state-store.js";
import { MemoryStateStore } from "../src/state/memory-state-store.js";
import type { Provider, ProviderResponse, Warning } from "../src/types.js";
import { type HostileServer, hostileServer, openAIClient, RetryClient } from "./helpers/hostile.js";

const servers: HostileServer[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const hello = [Message.user("hi")];
const ok = JSON.stringify({ choices: [{ message: { content: "ok" }, finish_reason: "stop" }] });

/** 429 with `headers` on the first request, 200 after. */
async function rateLimitedOnce(headers: Record<string, string>): Promise<HostileServer> {
  let calls = 0;
  const server = await hostileServer((_req, res) => {
    calls++;
    if (calls === 1) {
      res.writeHead(429, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify({ error: { message: "slow down", type: "requests" } }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(ok);
  });
  servers.push(server);
  return server;
}

const in50Years = new Date(Date.now() + 50 * 365 * 86_400_000).toUTCString();

describe("items 8–9: hostile Retry-After and reset headers", () => {
  const cases: Array<[string, Record<string, string>]> = [
    ["Retry-After: 1e308", { "retry-after": "1e308" }],
    ["Retry-After: Infinity", { "retry-after": "Infinity" }],
    ["Retry-After: NaN", { "retry-after": "NaN" }],
    ["retry-after-ms: 1e308", { "retry-after-ms": "1e308" }],
    ["Retry-After: 999999999", { "retry-after": "999999999" }],
    ["a date 50 years ahead", { "retry-after": in50Years }],
    [
      "a reset of 99999999h",
      { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "99999999h" },
    ],
  ];
  for (const [name, headers] of cases) {
    it(`${name}: a finite wait, a capped cooldown, and the next call works`, async () => {
      const server = await rateLimitedOnce(headers);
      const client = openAIClient(server, { maxRetryAfterMs: 1000 });
      const started = Date.now();
      const error = (await client.complete(hello).catch((e: unknown) => e)) as RateLimitError;
      expect(RateLimitError.isInstance(error)).toBe(true);
      expect(error.message).not.toMatch(/Infinity|NaN/);
      if (error.retryAfterMs !== undefined) {
        expect(Number.isFinite(error.retryAfterMs)).toBe(true);
        expect(error.retryAfterMs).toBeLessThanOrEqual(2_147_483_647);
      }
      // The stored cooldown is capped by maxRetryAfterMs, and visible.
      const cooldowns = await client.cooldowns();
      expect(cooldowns).toHaveLength(1);
      expect(cooldowns[0]?.key).toBe(client.stateKey({ provider: "openai", model: "gpt-4o" }));
      expect(cooldowns[0]?.remainingMs).toBeLessThanOrEqual(1000);
      // The next call waits out the (capped) cooldown and gets its answer: no TypeError.
      const response = await client.complete(hello);
      expect(response.content).toBe("ok");
      expect(Date.now() - started).toBeLessThan(4000);
      expect(server.requests).toHaveLength(2);
    });
  }

  it("without maxRetryAfterMs, a decades-long wait is stored as at most 60 s", async () => {
    const server = await rateLimitedOnce({ "retry-after": "999999999" });
    const client = openAIClient(server);
    await client.complete(hello).catch(() => {});
    const [row] = await client.cooldowns();
    expect(row?.retryAfterMs).toBe(60_000);
    expect(row?.remainingMs).toBeLessThanOrEqual(60_000);
  });
});

describe("item 8: corrupted stored cooldowns are ignored with a warning", () => {
  it('a state file holding until: 1e999 or "x" does not break calls', async () => {
    for (const until of ["1e999", '"x"', "null", "[]"]) {
      const dir = mkdtempSync(join(tmpdir(), "rc-hostile-"));
      const path = join(dir, "state.json");
      const server = await hostileServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(ok);
      });
      servers.push(server);
      const warnings: Warning[] = [];
      const client = openAIClient(server, {
        stateStore: new FileStateStore({ path }),
        onWarning: (w) => warnings.push(w),
      });
      const key = `cooldown:${client.stateKey({ provider: "openai", model: "gpt-4o" })}`;
      writeFileSync(
        path,
        `{"version":1,"entries":{${JSON.stringify(key)}:{"value":{"until":${until},"retryAfterMs":1}}},"windows":{}}`,
      );
      const response = await client.complete(hello);
      expect(response.content).toBe("ok");
      expect(warnings.map((w) => w.code)).toEqual(["state-corrupt"]);
      // Healed: the next call warns no more.
      await client.complete(hello);
      expect(warnings).toHaveLength(1);
      expect(await client.cooldowns()).toEqual([]);
    }
  });

  it("a memory store holding a corrupted record, too", async () => {
    const store = new MemoryStateStore();
    const server = await hostileServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(ok);
    });
    servers.push(server);
    const client = openAIClient(server, { stateStore: store });
    const key = client.stateKey({ provider: "openai", model: "gpt-4o" });
    await store.set(`cooldown:${key}`, { until: Number.POSITIVE_INFINITY });
    expect((await client.complete(hello)).content).toBe("ok");
  });
});

describe("item 10: timeouts a timer cannot honour", () => {
  const huge = 2 ** 31;
  it("client options ≥ 2^31 ms and maxRetryAfterMs: Infinity are RangeErrors naming the option", () => {
    for (const name of [
      "timeoutMs",
      "connectTimeoutMs",
      "firstTokenTimeoutMs",
      "idleTimeoutMs",
      "deadlineMs",
      "maxRetryAfterMs",
    ]) {
      expect(() => new RetryClient({ env: {}, [name]: huge })).toThrow(
        new RegExp(`for ${name}, got 2147483648`),
      );
    }
    expect(() => new RetryClient({ env: {}, maxRetryAfterMs: Number.POSITIVE_INFINITY })).toThrow(
      /maxRetryAfterMs, got Infinity/,
    );
    expect(() => new OpenAIProvider({ apiKey: "k", timeoutMs: huge })).toThrow(
      /timeoutMs, got 2147483648/,
    );
    // Infinity still means "none" where it always did.
    expect(
      () => new OpenAIProvider({ apiKey: "k", timeoutMs: Number.POSITIVE_INFINITY }),
    ).not.toThrow();
    expect(
      () => new RetryClient({ env: {}, idleTimeoutMs: Number.POSITIVE_INFINITY }),
    ).not.toThrow();
  });

  it("a call option ≥ 2^31 ms is refused before any request", async () => {
    const server = await hostileServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(ok);
    });
    servers.push(server);
    const client = openAIClient(server);
    for (const name of ["timeoutMs", "deadlineMs"]) {
      await expect(client.complete(hello, { [name]: huge })).rejects.toThrow(RangeError);
    }
    expect(server.requests).toHaveLength(0);
  });

  it("a sleep longer than a timer's range never ends early", async () => {
    vi.useFakeTimers();
    let done = false;
    void sleep(2 ** 31 + 5000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toBe(false); // it used to end after ~1 ms
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(done).toBe(true);
  });
});

describe("item 14: a long-lived AbortSignal reused for every call", () => {
  const answer: ProviderResponse = {
    content: "ok",
    provider: "fake",
    model: "m",
    responseModel: "m",
    finishReason: "stop",
    rawFinishReason: "stop",
    toolCalls: [],
    usage: undefined,
    requestId: undefined,
    rateLimit: undefined,
  };
  const fake: Provider = {
    name: "fake",
    supportsPrefill: false,
    complete: async () => answer,
    async *stream() {
      yield { type: "text-delta", text: "ok" };
      yield { type: "finish", response: answer };
    },
    listModels: async () => [],
  };

  it("retains nothing per call (no AbortSignal.any), streams and deadlines included", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const any = vi.spyOn(AbortSignal, "any");
    const client = new RetryClient({
      env: {},
      providers: { fake },
      defaultProvider: "fake",
      defaultModel: "m",
      fallbackModels: [],
    });
    const signal = new AbortController().signal;
    const round = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await client.complete(hello, { signal, deadlineMs: 60_000 });
        await client.stream(hello, { signal }).response;
      }
    };
    await round(2000);
    gc();
    const before = process.memoryUsage().heapUsed;
    await round(20_000);
    gc();
    const perCall = (process.memoryUsage().heapUsed - before) / 40_000;
    console.log(`heap retained per call: ${perCall.toFixed(2)} bytes`);
    expect(any).not.toHaveBeenCalled();
    // AbortSignal.any kept ~57 bytes per call on the long-lived signal.
    expect(perCall).toBeLessThan(15);
    any.mockRestore();
  }, 60_000);

  it("an HTTP call with a caller signal and a deadline links them without AbortSignal.any", async () => {
    const server = await hostileServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(ok);
    });
    servers.push(server);
    const any = vi.spyOn(AbortSignal, "any");
    const client = openAIClient(server);
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) {
      await client.complete(hello, { signal: controller.signal, deadlineMs: 10_000 });
    }
    expect(any).not.toHaveBeenCalled();
    // The link still works: aborting the caller's signal aborts the call with its reason.
    const pending = client.complete(hello, { signal: controller.signal, deadlineMs: 10_000 });
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
    any.mockRestore();
  });
});
