import { afterEach, describe, expect, it, vi } from "vitest";
import { ConnectionError } from "../../errors/errors.js";
import type { Transport, TransportResponse } from "../../http/transport.js";
import { type HttpCall, requestJson, runSseBatches, type StreamDecoder } from "./http-call.js";

const toError = () => {
  throw new Error("unused");
};

function call(transport: Transport, silentTargetMs?: number): HttpCall {
  return {
    transport,
    provider: "p",
    model: "m",
    request: { method: "POST", url: "http://127.0.0.1/x", headers: {}, body: "{}" },
    silentTargetMs,
    toError,
  };
}

/** A transport whose request fails with ECONNRESET after `afterMs`. */
function hangsUpAfter(afterMs: number): Transport {
  return {
    request: () =>
      new Promise((_, reject) =>
        setTimeout(
          () => reject(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })),
          afterMs,
        ),
      ),
  };
}

describe("silent targets", () => {
  afterEach(() => vi.useRealTimers());

  it("a close with no response byte after silentTargetMs carries silentForMs; a quick one does not", async () => {
    vi.useFakeTimers();
    const slow = requestJson(call(hangsUpAfter(6000))).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(6000);
    const silent = (await slow) as ConnectionError;
    expect(ConnectionError.isInstance(silent)).toBe(true);
    expect(silent.silentForMs).toBe(6000);
    expect(silent.code).toBe("ECONNRESET");

    const quick = requestJson(call(hangsUpAfter(20))).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(20);
    const blip = (await quick) as ConnectionError;
    expect(ConnectionError.isInstance(blip)).toBe(true);
    expect(blip.silentForMs).toBeUndefined();
  });
});

describe("decoder bugs", () => {
  it("an error a stream decoder throws that is not a package error is rethrown as itself", async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'delta')");
    const response: TransportResponse = {
      status: 200,
      headers: {},
      text: async () => "",
      async *stream() {
        yield 'data: {"x":1}\n\n';
      },
      cancel: () => {},
    };
    const decoder: StreamDecoder = {
      finishReasonSeen: false,
      terminated: false,
      text: "",
      onEvent() {
        throw bug;
      },
      end() {},
    };
    const batches = runSseBatches(
      () => ({ ...call({ request: async () => response }) }),
      () => decoder,
    );
    const error = await (async () => {
      for await (const _ of batches) {
        // nothing
      }
    })().catch((e: unknown) => e);
    expect(error).toBe(bug);
  });
});
