/**
 * retry-client/otel with the real OpenTelemetry SDK (in-memory span and metric exporters) against
 * the simulator over loopback: the span tree, attributes, events, statuses and metric points of a
 * call that retried after a 429, had its breaker opened by a 503 burst and fell back; a stream cut
 * mid-answer under "restart"; a stream the caller left; a caller's abort; content capture.
 */
import { context, metrics, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { openTelemetry } from "../src/otel/index.js";
import { clientFor, Message, simulator } from "./helpers/client.js";

const sim = await simulator({ text: "one two three four five six" });
afterAll(() => sim.close());

const hi = [Message.system("Be brief."), Message.user("hi")];
const CLAUDE = "claude-sonnet-4-5-20250929";
const port = Number(new URL(sim.openaiBaseURL).port);

let spans: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
let metricExporter: InMemoryMetricExporter;
let reader: PeriodicExportingMetricReader;
let meterProvider: MeterProvider;

beforeEach(() => {
  sim.reset();
  spans = new InMemorySpanExporter();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  meterProvider = new MeterProvider({ readers: [reader] });
});

afterEach(async () => {
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
});

function otel(captureContent = false) {
  return openTelemetry({
    tracer: tracerProvider.getTracer("retry-client"),
    meter: meterProvider.getMeter("retry-client"),
    captureContent,
  });
}

/** Every metric point, as `{ name, attributes, value }` (histograms: count and sum). */
async function metricPoints() {
  await reader.forceFlush();
  const exported = metricExporter.getMetrics().at(-1);
  const out: { name: string; attributes: Record<string, unknown>; value: unknown }[] = [];
  for (const scope of exported?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints) {
        const v = point.value as number | { count: number; sum: number };
        out.push({
          name: metric.descriptor.name,
          attributes: point.attributes,
          value: typeof v === "number" ? v : { count: v.count, sum: v.sum },
        });
      }
    }
  }
  return out;
}

const named = (all: readonly ReadableSpan[], name: string) => all.filter((s) => s.name === name);
const events = (span: ReadableSpan) => span.events.map((e) => ({ name: e.name, ...e.attributes }));

describe("openTelemetry()", () => {
  it("a 429 with Retry-After, a 503 burst that opens the breaker, then a fallback: span tree, events, status and metrics", async () => {
    const client = clientFor(sim, {
      fallbackModels: [["anthropic", CLAUDE]],
      circuitBreaker: { failureThreshold: 2 },
      instrumentation: [otel()],
    });
    const model = "gpt-4o~429-retry-after-1s-first-1~503-first-5";
    const res = await client.complete(hi, { model, temperature: 0.2, maxTokens: 50 });
    expect(res.provider).toBe("anthropic");
    const finished = spans.getFinishedSpans();
    expect(finished).toHaveLength(5);

    const [call] = named(finished, `chat ${model}`).filter((s) => !s.parentSpanContext);
    expect(call).toBeDefined();
    expect(call!.kind).toBe(SpanKind.CLIENT);
    expect(call!.status.code).toBe(SpanStatusCode.UNSET);
    expect(call!.instrumentationScope.name).toBe("retry-client");
    const usage = res.totalUsage;
    expect(call!.attributes).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.model": model,
      "gen_ai.request.temperature": 0.2,
      "gen_ai.request.max_tokens": 50,
      "gen_ai.response.model": res.responseModel,
      "gen_ai.response.finish_reasons": ["stop"],
      "gen_ai.response.id": res.requestId,
      "gen_ai.usage.input_tokens": usage.inputTokens,
      "gen_ai.usage.output_tokens": usage.outputTokens,
      "server.address": "127.0.0.1",
      "server.port": port,
      "retry_client.attempts": 4,
    });
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(events(call!)).toEqual([
      {
        name: "retry_client.retry",
        "retry_client.target": `openai:${model}`,
        "retry_client.retry": 1,
        "retry_client.delay_ms": 1000,
        "error.type": "RateLimitError",
      },
      {
        name: "retry_client.retry",
        "retry_client.target": `openai:${model}`,
        "retry_client.retry": 2,
        "retry_client.delay_ms": 10,
        "error.type": "ServerError",
      },
      {
        name: "retry_client.breaker",
        "retry_client.breaker.key": client.stateKey({ provider: "openai", model }),
        "retry_client.breaker.from": "closed",
        "retry_client.breaker.to": "open",
      },
      {
        name: "retry_client.fallback",
        "retry_client.from": `openai:${model}`,
        "retry_client.to": `anthropic:${CLAUDE}`,
        "error.type": "ServerError",
      },
    ]);

    // Four attempt spans, children of the call span, in order.
    const attempts = finished
      .filter((s) => s.parentSpanContext?.spanId === call!.spanContext().spanId)
      .sort(
        (a, b) =>
          Number(a.attributes["retry_client.attempt"]) -
          Number(b.attributes["retry_client.attempt"]),
      );
    expect(attempts.map((s) => [s.name, s.kind, s.status.code])).toEqual([
      [`chat ${model}`, SpanKind.CLIENT, SpanStatusCode.ERROR],
      [`chat ${model}`, SpanKind.CLIENT, SpanStatusCode.ERROR],
      [`chat ${model}`, SpanKind.CLIENT, SpanStatusCode.ERROR],
      [`chat ${CLAUDE}`, SpanKind.CLIENT, SpanStatusCode.UNSET],
    ]);
    expect(attempts.every((s) => s.spanContext().traceId === call!.spanContext().traceId)).toBe(
      true,
    );
    const failed = (attempt: number, retry: number, status: number, type: string) => ({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": model,
      "server.address": "127.0.0.1",
      "server.port": port,
      "http.response.status_code": status,
      "error.type": type,
      "retry_client.attempt": attempt,
      "retry_client.retry": retry,
      "retry_client.outcome": "error",
    });
    expect(attempts[0]!.attributes).toEqual(failed(0, 0, 429, "RateLimitError"));
    expect(attempts[1]!.attributes).toEqual(failed(1, 1, 503, "ServerError"));
    expect(attempts[2]!.attributes).toEqual(failed(2, 2, 503, "ServerError"));
    expect(attempts[3]!.attributes).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.model": CLAUDE,
      "gen_ai.response.model": res.responseModel,
      "gen_ai.response.finish_reasons": ["stop"],
      "gen_ai.response.id": res.requestId,
      "gen_ai.usage.input_tokens": res.usage!.inputTokens,
      "gen_ai.usage.output_tokens": res.usage!.outputTokens,
      "server.address": "127.0.0.1",
      "server.port": Number(new URL(sim.anthropicBaseURL).port),
      "http.response.status_code": 200,
      "retry_client.attempt": 3,
      "retry_client.retry": 0,
      "retry_client.outcome": "success",
    });
    expect(attempts[0]!.status.message).toMatch(/429/);

    const points = await metricPoints();
    const byName = (name: string) => points.filter((p) => p.name === name);
    expect(byName("retry_client.attempts")).toEqual(
      expect.arrayContaining([
        {
          name: "retry_client.attempts",
          attributes: {
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "retry_client.outcome": "error",
            "error.type": "RateLimitError",
          },
          value: 1,
        },
        {
          name: "retry_client.attempts",
          attributes: {
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "retry_client.outcome": "error",
            "error.type": "ServerError",
          },
          value: 2,
        },
        {
          name: "retry_client.attempts",
          attributes: {
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": CLAUDE,
            "retry_client.outcome": "success",
          },
          value: 1,
        },
      ]),
    );
    expect(byName("retry_client.attempts")).toHaveLength(3);
    expect(
      Object.fromEntries(
        byName("retry_client.breaker.state").map((p) => [
          `${p.attributes["retry_client.breaker.key"]} ${p.attributes["retry_client.breaker.state"]}`,
          p.value,
        ]),
      ),
    ).toEqual({
      [`${client.stateKey({ provider: "openai", model })} closed`]: 0,
      [`${client.stateKey({ provider: "openai", model })} open`]: 1,
      [`${client.stateKey({ provider: "openai", model })} half-open`]: 0,
    });
    const common = {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.model": model,
      "gen_ai.response.model": res.responseModel,
      "server.address": "127.0.0.1",
      "server.port": Number(new URL(sim.anthropicBaseURL).port),
    };
    const [duration] = byName("gen_ai.client.operation.duration");
    expect(duration).toMatchObject({ attributes: common, value: { count: 1 } });
    expect((duration!.value as { sum: number }).sum).toBeGreaterThanOrEqual(1);
    expect(byName("gen_ai.client.token.usage")).toEqual([
      {
        name: "gen_ai.client.token.usage",
        attributes: { ...common, "gen_ai.token.type": "input" },
        value: { count: 1, sum: usage.inputTokens },
      },
      {
        name: "gen_ai.client.token.usage",
        attributes: { ...common, "gen_ai.token.type": "output" },
        value: { count: 1, sum: usage.outputTokens },
      },
    ]);
    // Not a stream: no time to first chunk.
    expect(byName("gen_ai.client.operation.time_to_first_chunk")).toEqual([]);

    // The next call skips the open target: an event on its span, no attempt span for it.
    spans.reset();
    await client.complete(hi, { model });
    const next = spans.getFinishedSpans();
    expect(next).toHaveLength(2);
    const nextCall = next.find((s) => !s.parentSpanContext)!;
    expect(events(nextCall)[0]).toMatchObject({
      name: "retry_client.skipped",
      "retry_client.target": `openai:${model}`,
      "retry_client.skip_reason": "circuit-open",
      "error.type": "CircuitOpenError",
    });
    expect(byName("retry_client.attempts")).toBeDefined();
    const skipped = (await metricPoints()).find(
      (p) =>
        p.name === "retry_client.attempts" && p.attributes["retry_client.outcome"] === "skipped",
    );
    expect(skipped?.value).toBe(1);
  });

  it('a stream cut mid-answer under "restart": first chunk, restart event, the call span ends with the stream', async () => {
    const client = clientFor(sim, {
      fallbackModels: [["anthropic", CLAUDE]],
      midStreamFailure: "restart",
      instrumentation: [otel()],
    });
    const stream = client.stream(hi, { model: "gpt-4o~cut-after-3" });
    let text = "";
    for await (const delta of stream) text += delta;
    const res = await stream.response;
    const finished = spans.getFinishedSpans();
    const call = finished.find((s) => !s.parentSpanContext)!;
    expect(call.name).toBe("chat gpt-4o~cut-after-3");
    expect(events(call).map((e) => e.name)).toEqual([
      "retry_client.fallback",
      "retry_client.restart",
    ]);
    expect(events(call)[1]).toEqual({
      name: "retry_client.restart",
      "retry_client.target": `anthropic:${CLAUDE}`,
      "retry_client.discarded_chars": "one two three".length,
    });
    expect(call.attributes["gen_ai.response.time_to_first_chunk"]).toBeGreaterThan(0);
    expect(call.attributes["gen_ai.response.finish_reasons"]).toEqual(["stop"]);
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
    const attempts = finished.filter((s) => s.parentSpanContext);
    expect(
      attempts.map((s) => [s.attributes["retry_client.outcome"], s.attributes["error.type"]]),
    ).toEqual([
      ["error", "StreamInterruptedError"],
      ["success", undefined],
    ]);
    expect(attempts[0]!.attributes["gen_ai.response.time_to_first_chunk"]).toBe(
      res.attempts[0]!.ttftMs! / 1000,
    );
    expect(text).toContain(res.content);
    const ttfc = (await metricPoints()).filter(
      (p) => p.name === "gen_ai.client.operation.time_to_first_chunk",
    );
    expect(ttfc).toHaveLength(1);
    expect(ttfc[0]!.value).toMatchObject({ count: 1 });
  });

  it("a stream the caller breaks out of: the call span stays open until then, and ends as an error", async () => {
    const client = clientFor(sim, { instrumentation: [otel()] });
    const stream = client.stream(hi, { model: "gpt-4o~stall-after-2" });
    for await (const _ of stream) {
      // The first delta arrived; the call is still in flight.
      expect(spans.getFinishedSpans()).toEqual([]);
      break;
    }
    await stream.response.catch(() => {});
    const finished = spans.getFinishedSpans();
    const call = finished.find((s) => !s.parentSpanContext)!;
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(call.attributes["error.type"]).toBe("AbortError");
    expect(call.attributes["gen_ai.response.time_to_first_chunk"]).toBeGreaterThan(0);
    expect(finished.filter((s) => s.parentSpanContext)).toHaveLength(1);
  });

  it("a caller's abort: both spans end with status ERROR and the abort's class", async () => {
    const client = clientFor(sim, { instrumentation: [otel()] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new DOMException("stop", "AbortError")), 50);
    await expect(
      client.complete(hi, { model: "gpt-4o~slow-5s", signal: controller.signal }),
    ).rejects.toThrow("stop");
    const finished = spans.getFinishedSpans();
    expect(finished).toHaveLength(2);
    for (const span of finished) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes["error.type"]).toBe("AbortError");
    }
    const points = await metricPoints();
    expect(points.find((p) => p.name === "gen_ai.client.operation.duration")).toMatchObject({
      attributes: { "error.type": "AbortError", "gen_ai.provider.name": "openai" },
      value: { count: 1 },
    });
  });

  it("no prompt or answer content unless captureContent is set", async () => {
    const off = clientFor(sim, { instrumentation: [otel(false)] });
    await off.complete(hi);
    const serialized = JSON.stringify(
      spans.getFinishedSpans().map((s) => [s.attributes, s.events]),
    );
    expect(serialized).not.toContain("Be brief");
    expect(serialized).not.toContain("one two three");

    spans.reset();
    const on = clientFor(sim, { instrumentation: [otel(true)] });
    await on.complete(hi);
    const call = spans.getFinishedSpans().find((s) => !s.parentSpanContext)!;
    expect(JSON.parse(String(call.attributes["gen_ai.system_instructions"]))).toEqual([
      { type: "text", content: "Be brief." },
    ]);
    expect(JSON.parse(String(call.attributes["gen_ai.input.messages"]))).toEqual([
      { role: "user", parts: [{ type: "text", content: "hi" }] },
    ]);
    expect(JSON.parse(String(call.attributes["gen_ai.output.messages"]))).toEqual([
      {
        role: "assistant",
        parts: [{ type: "text", content: "one two three four five six" }],
        finish_reason: "stop",
      },
    ]);
  });

  it("with no SDK registered (the API's no-op providers) a call works and records nothing", async () => {
    const client = clientFor(sim, { instrumentation: [openTelemetry()] });
    const res = await client.complete(hi, { model: "gpt-4o~503-first-1" });
    expect(res.attempts).toHaveLength(2);
    expect(spans.getFinishedSpans()).toEqual([]);
    expect(await metricPoints()).toEqual([]);
  });

  it("uses the global providers by default, and parents the call span on the active span", async () => {
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      const client = clientFor(sim, { instrumentation: [openTelemetry()] });
      const parent = tracerProvider.getTracer("app").startSpan("request");
      await context.with(trace.setSpan(context.active(), parent), () => client.complete(hi));
      parent.end();
      const call = spans.getFinishedSpans().find((s) => s.attributes["retry_client.attempts"])!;
      expect(call.name).toBe("chat gpt-4o");
      expect(call.instrumentationScope).toMatchObject({
        name: "retry-client",
        schemaUrl: "https://opentelemetry.io/schemas/1.41.0",
      });
      expect(call.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      const points = await metricPoints();
      expect(points.some((p) => p.name === "gen_ai.client.operation.duration")).toBe(true);
    } finally {
      trace.disable();
      metrics.disable();
      context.disable();
    }
  });
});
