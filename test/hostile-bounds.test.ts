/**
 * Issue 12, items 1–5, 7, 11, 15: servers that answer with endless bodies, endless SSE lines,
 * absurd tool-call indexes, many tool blocks, keep-alives only, redirects and wrong shapes.
 * Each server is written here (node:http), independent of the simulator.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ProviderError,
  ServerError,
  StreamInterruptedError,
  TimeoutError,
} from "../src/errors/errors.js";
import { Message } from "../src/message.js";
import {
  anthropicClient,
  type HostileServer,
  hostileServer,
  measured,
  openAIClient,
  rejection,
  sendForever,
  sse,
  textChunk,
} from "./helpers/hostile.js";

const MiB = 1024 * 1024;
const servers: HostileServer[] = [];
async function serve(...args: Parameters<typeof hostileServer>): Promise<HostileServer> {
  const server = await hostileServer(...args);
  servers.push(server);
  return server;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const hello = [Message.user("hi")];

describe("item 1: a non-streaming body that never ends", () => {
  for (const transport of ["node", "fetch"] as const) {
    for (const status of [200, 500]) {
      it(`${transport} transport, ${status}: a typed error within the limit, memory bounded`, async () => {
        const server = await serve((_req, res) => {
          res.writeHead(status, { "content-type": "application/json" });
          sendForever(res, Buffer.alloc(64 * 1024, "x"));
        });
        const client = openAIClient(server, {
          maxResponseBytes: 4 * MiB,
          ...(transport === "fetch" ? { fetch: globalThis.fetch } : {}),
        });
        const run = await measured(() => client.complete(hello));
        const error = rejection(run.result);
        expect(ServerError.isInstance(error)).toBe(true);
        const typed = error as ServerError;
        expect(typed.status).toBe(status);
        if (status === 200) {
          // The 200 passed the configured limit: the error names it.
          expect(typed.code).toBe("response_too_large");
          expect(typed.message).toContain("maxResponseBytes (4194304 bytes)");
        }
        // An error body is read up to 1 MiB, then the status alone decides.
        expect(run.ms).toBeLessThan(5000);
        expect(run.peakHeapDelta).toBeLessThan(64 * MiB);
      });
    }
  }

  it("the default limit (32 MiB) bounds a body with no option set", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      sendForever(res, Buffer.alloc(256 * 1024, "x"));
    });
    const run = await measured(() => openAIClient(server).complete(hello));
    const error = rejection(run.result) as ServerError;
    expect(error.code).toBe("response_too_large");
    expect(error.message).toContain("33554432 bytes");
    expect(run.peakRssDelta).toBeLessThan(400 * MiB);
  });
});

describe("item 2: SSE lines and events that never end", () => {
  it("a line without a newline fails as sse_line_too_large, before content", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: ");
      sendForever(res, "x".repeat(64 * 1024));
    });
    const client = openAIClient(server, { maxSseEventBytes: MiB });
    const run = await measured(() => client.stream(hello).response);
    const error = rejection(run.result) as ServerError;
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error.code).toBe("sse_line_too_large");
    expect(error.message).toContain("maxSseEventBytes (1048576)");
    expect(run.ms).toBeLessThan(5000);
    expect(run.peakHeapDelta).toBeLessThan(64 * MiB);
  });

  it("data lines without a blank line fail as sse_event_too_large, after content as an interruption", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(textChunk("Hello")));
      sendForever(res, "data: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n".repeat(1000));
    });
    const client = openAIClient(server, { maxSseEventBytes: MiB });
    const run = await measured(() => client.stream(hello).response);
    const error = rejection(run.result) as StreamInterruptedError;
    expect(StreamInterruptedError.isInstance(error)).toBe(true);
    expect(error.partialText).toBe("Hello");
    expect((error.cause as ServerError).code).toBe("sse_event_too_large");
    expect(run.peakHeapDelta).toBeLessThan(64 * MiB);
  });

  it("the default limit (8 MiB) applies with no option set", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: ");
      sendForever(res, "x".repeat(64 * 1024));
    });
    const run = await measured(() => openAIClient(server).stream(hello).response);
    const error = rejection(run.result) as ServerError;
    expect(error.code).toBe("sse_line_too_large");
    expect(error.message).toContain("8388608");
    expect(run.peakRssDelta).toBeLessThan(300 * MiB);
  });
});

describe("item 3: OpenAI tool_calls indexes", () => {
  const toolStream =
    (deltas: unknown[]) => (_req: unknown, res: import("node:http").ServerResponse) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const d of deltas) {
        res.write(
          sse({
            id: "c",
            choices: [{ index: 0, delta: { tool_calls: [d] }, finish_reason: null }],
          }),
        );
      }
      res.write(sse({ id: "c", choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }));
      res.end(sse("[DONE]"));
    };

  it("index 4294967294 assembles without a holey array: no event-loop stall", async () => {
    const server = await serve(
      toolStream([{ index: 4294967294, id: "call_1", function: { name: "f", arguments: "{}" } }]),
    );
    const run = await measured(() => openAIClient(server).stream(hello).response);
    expect(run.result.status).toBe("fulfilled");
    const response = (
      run.result as PromiseFulfilledResult<{ readonly toolCalls: readonly unknown[] }>
    ).value;
    expect(response.toolCalls).toEqual([{ id: "call_1", name: "f", arguments: "{}" }]);
    expect(run.maxGapMs).toBeLessThan(250);
  });

  it("more than 1024 tool calls, or an index that is not an integer, is invalid_response", async () => {
    const many = Array.from({ length: 1100 }, (_, i) => ({
      index: i * 1000,
      id: `c${i}`,
      function: { name: "f", arguments: "{}" },
    }));
    for (const deltas of [many, [{ index: -1, id: "x" }], [{ index: 1.5, id: "x" }]]) {
      const server = await serve(toolStream(deltas));
      const run = await measured(() => openAIClient(server).stream(hello).response);
      const error = rejection(run.result);
      // Before a tool-call delta went out it is the error itself; after, an interruption's cause.
      const typed = (StreamInterruptedError.isInstance(error) ? error.cause : error) as ServerError;
      expect(ServerError.isInstance(typed)).toBe(true);
      expect(typed.code).toBe("invalid_response");
      expect(run.maxGapMs).toBeLessThan(250);
    }
  });
});

describe("item 4: Anthropic streams with many tool_use blocks", () => {
  function anthropicTools(blocks: number): string {
    const parts: string[] = [
      `event: message_start\ndata: ${JSON.stringify({ type: "message_start", message: { model: "claude", usage: { input_tokens: 1 } } })}\n\n`,
    ];
    for (let i = 0; i < blocks; i++) {
      parts.push(
        `event: content_block_start\ndata: {"type":"content_block_start","index":${i},"content_block":{"type":"tool_use","id":"t${i}","name":"f","input":{}}}\n\n`,
        `event: content_block_delta\ndata: {"type":"content_block_delta","index":${i},"delta":{"type":"input_json_delta","partial_json":"{}"}}\n\n`,
        `event: content_block_stop\ndata: {"type":"content_block_stop","index":${i}}\n\n`,
      );
    }
    parts.push(
      `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":5}}\n\n`,
      `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
    );
    return parts.join("");
  }

  it("decodes in linear time: 4× the blocks cost well under 16× the time", async () => {
    const timeFor = async (blocks: number) => {
      const body = anthropicTools(blocks);
      const server = await serve((_req, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(body);
      });
      const run = await measured(() => anthropicClient(server).stream(hello).response);
      expect(run.result.status).toBe("fulfilled");
      const response = (
        run.result as PromiseFulfilledResult<{ readonly toolCalls: readonly unknown[] }>
      ).value;
      expect(response.toolCalls).toHaveLength(blocks);
      return run.ms;
    };
    await timeFor(2000); // warm-up
    const small = await timeFor(12_500);
    const large = await timeFor(50_000);
    // Quadratic decoding made 4× the blocks cost ~16× (50k blocks: 2.1 s before the fix).
    expect(large / small).toBeLessThan(9);
    expect(large).toBeLessThan(4000);
  });
});

describe("item 5: after content, keep-alives alone do not hold a stream open", () => {
  it("with default options the idle bound (5 min) ends a stream that only pings", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(textChunk("Hello")));
      const ping = setInterval(() => res.write(": keep-alive\n\n"), 20);
      res.on("close", () => clearInterval(ping));
    });
    const stream = openAIClient(server).stream(hello);
    const events: string[] = [];
    const done = (async () => {
      for await (const event of stream.events()) events.push(event.type);
    })().catch((error: unknown) => error);
    while (!events.includes("text-delta")) await new Promise((r) => setImmediate(r));
    await vi.advanceTimersByTimeAsync(299_000);
    await new Promise((r) => setImmediate(r));
    expect(events).not.toContain("finish");
    await vi.advanceTimersByTimeAsync(2_000);
    const error = (await done) as StreamInterruptedError;
    expect(StreamInterruptedError.isInstance(error)).toBe(true);
    expect(TimeoutError.isInstance(error.cause)).toBe(true);
    expect((error.cause as TimeoutError).kind).toBe("idle");
    expect((error.cause as TimeoutError).timeoutMs).toBe(300_000);
  });

  it("thinking deltas are progress; pings are not", async () => {
    const thinkingThenText = (thinkingMs: number, pingsOnly: boolean) =>
      serve((_req, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(
          `event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n` +
            `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n`,
        );
        const tick = setInterval(() => {
          res.write(
            pingsOnly
              ? `event: ping\ndata: {"type":"ping"}\n\n`
              : `event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"hmm"}}\n\n`,
          );
        }, 30);
        const end = setTimeout(() => {
          clearInterval(tick);
          res.end(
            `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}\n\n` +
              `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
          );
        }, thinkingMs);
        res.on("close", () => {
          clearInterval(tick);
          clearTimeout(end);
        });
      });
    const thinking = await thinkingThenText(900, false);
    const answer = await anthropicClient(thinking, { idleTimeoutMs: 300 }).stream(hello).response;
    expect(answer.content).toBe("Hi");
    const pings = await thinkingThenText(900, true);
    const run = await measured(
      () => anthropicClient(pings, { idleTimeoutMs: 300 }).stream(hello).response,
    );
    const error = rejection(run.result) as StreamInterruptedError;
    expect((error.cause as TimeoutError).kind).toBe("idle");
    expect(run.ms).toBeLessThan(850);
  });
});

describe("item 7: redirects with the fetch transport", () => {
  it("a redirect to another origin is not followed: no key, no prompt there; a typed error", async () => {
    const elsewhere = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ message: { content: "stolen" } }] }));
    });
    for (const status of [301, 302, 307, 308]) {
      const origin = await serve((_req, res) => {
        res.writeHead(status, { location: `${elsewhere.url}/v1/chat/completions` });
        res.end();
      });
      const client = openAIClient(origin, { fetch: globalThis.fetch });
      const error = await client.complete(hello).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(ProviderError.isInstance(error)).toBe(true);
      expect((error as ProviderError).status).toBe(status);
      expect((error as ProviderError).code).toBe("redirect_not_followed");
      expect((error as Error).message).toContain(new URL(elsewhere.url).origin);
    }
    expect(elsewhere.requests).toHaveLength(0);
  });

  it("a redirect on the same origin is followed", async () => {
    const server = await serve((req, res) => {
      if (req.url === "/v1/chat/completions") {
        res.writeHead(307, { location: "/moved/chat/completions" });
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ message: { content: "ok" }, finish_reason: "stop" }] }));
    });
    const response = await openAIClient(server, { fetch: globalThis.fetch }).complete(hello);
    expect(response.content).toBe("ok");
    expect(server.requests.map((r) => [r.method, r.url])).toEqual([
      ["POST", "/v1/chat/completions"],
      ["POST", "/moved/chat/completions"],
    ]);
  });
});

describe("item 11: 200 bodies of the wrong shape", () => {
  const json = (body: unknown) => (_req: unknown, res: import("node:http").ServerResponse) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const cases: Array<[string, unknown]> = [
    ["choices: [null]", { choices: [null] }],
    ["tool_calls: 5", { choices: [{ message: { content: "", tool_calls: 5 } }] }],
    ["tool_calls: [7]", { choices: [{ message: { tool_calls: [7] } }] }],
    [
      "string token counts",
      { choices: [{ message: { content: "x" } }], usage: { prompt_tokens: "many" } },
    ],
    ["finish_reason: 3", { choices: [{ message: { content: "x" }, finish_reason: 3 }] }],
  ];
  for (const [name, body] of cases) {
    it(`OpenAI ${name} → ServerError invalid_response`, async () => {
      const server = await serve(json(body));
      const error = await openAIClient(server)
        .complete(hello)
        .catch((e: unknown) => e);
      expect(ServerError.isInstance(error)).toBe(true);
      expect((error as ServerError).code).toBe("invalid_response");
      expect((error as ServerError).status).toBe(200);
    });
  }

  it("Anthropic content [null] and string usage → invalid_response", async () => {
    for (const body of [
      { content: [null] },
      { content: [{ type: "text", text: "x" }], usage: { input_tokens: "many" } },
    ]) {
      const server = await serve(json(body));
      const error = await anthropicClient(server)
        .complete(hello)
        .catch((e: unknown) => e);
      expect((error as ServerError).code).toBe("invalid_response");
    }
  });

  it("a well-formed answer still has numbers for numbers", async () => {
    const server = await serve(
      json({
        choices: [{ message: { content: "ok" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 3, completion_tokens: 2 },
      }),
    );
    const response = await openAIClient(server).complete(hello);
    expect(response.usage).toEqual({ inputTokens: 3, outputTokens: 2, totalTokens: 5 });
  });

  it("in a stream: string usage before content is invalid_response, not a ConnectionError", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse({ id: "c", choices: [], usage: { prompt_tokens: "many" } }));
      res.end(sse("[DONE]"));
    });
    const error = await openAIClient(server)
      .stream(hello)
      .response.catch((e: unknown) => e);
    expect(ServerError.isInstance(error)).toBe(true);
    expect((error as ServerError).code).toBe("invalid_response");
  });

  it("in a stream: choices: [null] after content is an interruption caused by invalid_response", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(textChunk("Hel")));
      res.write(sse({ id: "c", choices: [null] }));
      res.end(sse("[DONE]"));
    });
    const error = await openAIClient(server)
      .stream(hello)
      .response.catch((e: unknown) => e);
    expect(StreamInterruptedError.isInstance(error)).toBe(true);
    expect(((error as StreamInterruptedError).cause as ServerError).code).toBe("invalid_response");
  });
});

describe("item 15: client.close() closes idle keep-alive sockets", () => {
  it("the server sees the idle connection closed", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ message: { content: "ok" }, finish_reason: "stop" }] }));
    });
    const client = openAIClient(server);
    await client.complete(hello);
    await new Promise((r) => setTimeout(r, 20));
    expect(server.sockets.size).toBe(1); // kept alive for reuse
    await client.close();
    const started = Date.now();
    while (server.sockets.size > 0 && Date.now() - started < 1000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(server.sockets.size).toBe(0);
  });
});
