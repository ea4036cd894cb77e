import { describe, expect, it } from "vitest";
import { GatewayMetrics } from "./metrics.js";

describe("GatewayMetrics", () => {
  it("renders counters, sampled gauges and histograms in the Prometheus text format", () => {
    const metrics = new GatewayMetrics();
    metrics.add("retry_client_gateway_requests_total", { route: "messages", status: "200" });
    metrics.add("retry_client_gateway_requests_total", { route: "messages", status: "200" });
    metrics.add("retry_client_attempts_total", {
      provider: "p",
      model: 'a"b\\c\nd',
      outcome: "error",
    });
    metrics.sample("retry_client_gateway_in_flight", () => 3);
    metrics.observe("retry_client_gateway_request_duration_seconds", { route: "messages" }, 0.02);
    const text = metrics.render();
    expect(text).toContain("# TYPE retry_client_gateway_requests_total counter");
    expect(text).toContain('retry_client_gateway_requests_total{route="messages",status="200"} 2');
    expect(text).toContain('model="a\\"b\\\\c\\nd"');
    expect(text).toContain("retry_client_gateway_in_flight 3");
    expect(text).toContain(
      'retry_client_gateway_request_duration_seconds_bucket{route="messages",le="0.01"} 0',
    );
    expect(text).toContain(
      'retry_client_gateway_request_duration_seconds_bucket{route="messages",le="0.025"} 1',
    );
    expect(text).toContain(
      'retry_client_gateway_request_duration_seconds_count{route="messages"} 1',
    );
    expect(text.endsWith("\n")).toBe(true);
  });

  it("labels the client's calls, attempts, tokens and first chunks by target, call after call", () => {
    const metrics = new GatewayMetrics();
    const listener = metrics.listener();
    const target = { provider: "openai", model: "gpt-4o-mini" };
    const other = { provider: "anthropic", model: 'c"1' };
    for (const [t, outcome] of [
      [target, "success"],
      [target, "success"],
      [target, "error"],
      [other, "success"],
    ] as const) {
      listener.onAttemptEnd?.({ target: t, record: { outcome, durationMs: 20 } } as never);
      listener.onFirstChunk?.({ target: t, ttftMs: 3 } as never);
      listener.onCallEnd?.({
        outcome,
        response: { ...t, usage: { inputTokens: 9, outputTokens: 8, totalTokens: 17 } },
      } as never);
    }
    const text = metrics.render();
    expect(text).toContain(
      'retry_client_attempts_total{provider="openai",model="gpt-4o-mini",outcome="success"} 2',
    );
    expect(text).toContain(
      'retry_client_attempts_total{provider="openai",model="gpt-4o-mini",outcome="error"} 1',
    );
    expect(text).toContain(
      'retry_client_attempts_total{provider="anthropic",model="c\\"1",outcome="success"} 1',
    );
    expect(text).toContain('retry_client_calls_total{outcome="success"} 3');
    expect(text).toContain('retry_client_calls_total{outcome="error"} 1');
    expect(text).toContain(
      'retry_client_tokens_total{provider="openai",model="gpt-4o-mini",type="input"} 27',
    );
    expect(text).toContain(
      'retry_client_tokens_total{provider="anthropic",model="c\\"1",type="output"} 8',
    );
    expect(text).toContain(
      'retry_client_attempt_duration_seconds_count{provider="openai",model="gpt-4o-mini"} 3',
    );
    expect(text).toContain(
      'retry_client_time_to_first_chunk_seconds_bucket{provider="openai",model="gpt-4o-mini",le="0.005"} 3',
    );
  });
});
