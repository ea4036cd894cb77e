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
});
