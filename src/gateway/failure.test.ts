import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  BadRequestError,
  CircuitOpenError,
  ConnectionError,
  ContentFilterError,
  FallbackExhaustedError,
  InvalidRequestError,
  NotFoundError,
  OverloadedError,
  QuotaExceededError,
  RateLimitError,
  ServerError,
} from "../index.node.js";
import { describeFailure, GatewayRequestError, retryAfterSeconds } from "./failure.js";

const rateLimited = (ms: number) =>
  new RateLimitError({ provider: "openai", model: "gpt-4o", status: 429, retryAfterMs: ms });
const server = (status: number) => new ServerError({ provider: "openai", model: "gpt-4o", status });
const overloaded = () =>
  new OverloadedError({ provider: "anthropic", model: "claude", status: 529 });

describe("describeFailure: what the caller is told", () => {
  it.each([
    [
      "the caller's invalid request",
      new GatewayRequestError("messages: expected an array"),
      400,
      "invalid",
    ],
    [
      "input the client refused",
      new InvalidRequestError("messages[1].toolCallId", "expected a non-empty string"),
      400,
      "invalid",
    ],
    ["an upstream 400", new BadRequestError({ provider: "openai", status: 400 }), 400, "invalid"],
    [
      "a content filter",
      new ContentFilterError({ provider: "openai", status: 400 }),
      400,
      "invalid",
    ],
    ["a model not found", new NotFoundError({ provider: "openai", status: 404 }), 404, "not-found"],
    ["a single target rate-limited", rateLimited(5000), 429, "rate-limit"],
    [
      "every target cooling down",
      new FallbackExhaustedError([rateLimited(9000), rateLimited(4000)]),
      429,
      "rate-limit",
    ],
    [
      "every breaker open",
      new FallbackExhaustedError([
        new CircuitOpenError("a:b", 3000),
        new CircuitOpenError("c:d", 1000),
      ]),
      503,
      "overloaded",
    ],
    [
      "all failed, the last a 500",
      new FallbackExhaustedError([overloaded(), server(500)]),
      502,
      "upstream",
    ],
    [
      "all failed, the last an overload",
      new FallbackExhaustedError([server(500), overloaded()]),
      503,
      "overloaded",
    ],
    [
      "all failed, one a quota",
      new FallbackExhaustedError([
        rateLimited(1000),
        new QuotaExceededError({ provider: "openai", status: 429 }),
      ]),
      502,
      "upstream",
    ],
    ["a single 503", server(503), 503, "overloaded"],
    ["a single 500", server(500), 502, "upstream"],
    [
      "the gateway's own upstream key refused",
      new AuthenticationError({ provider: "openai", status: 401 }),
      502,
      "upstream",
    ],
    [
      "a connection failure",
      new ConnectionError("ECONNREFUSED", { provider: "openai" }),
      502,
      "upstream",
    ],
    ["a bug", new Error("boom"), 500, "upstream"],
  ])("%s → %i %s", (_name, error, status, kind) => {
    const failure = describeFailure(error);
    expect(failure.status).toBe(status);
    expect(failure.kind).toBe(kind);
  });

  it("asks for the shortest wait when every target cools down", () => {
    const failure = describeFailure(
      new FallbackExhaustedError([rateLimited(9000), rateLimited(4000)]),
    );
    expect(failure.retryAfterMs).toBe(4000);
    expect(retryAfterSeconds(4000)).toBe("4");
    expect(retryAfterSeconds(1)).toBe("1");
    expect(retryAfterSeconds(1500)).toBe("2");
  });

  it("never shows a bug's message to the caller", () => {
    expect(describeFailure(new Error("secret internals")).message).toBe("internal gateway error");
  });
});
