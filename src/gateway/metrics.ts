import type { CircuitState, Instrumentation } from "../index.node.js";

/**
 * The gateway's Prometheus metrics: counters, gauges and histograms rendered in the text
 * exposition format (no dependency: the format is a few lines of text). Labels hold provider,
 * model, route, status and breaker keys — never a key or a prompt.
 */

type Labels = Readonly<Record<string, string>>;

const SPECIAL = /[\\\n"]/;

const escapeLabel = (value: string): string =>
  SPECIAL.test(value)
    ? value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
    : value;

function labelText(labels: Labels): string {
  let out = "";
  for (const name in labels) {
    out += `${out === "" ? "" : ","}${name}="${escapeLabel(labels[name] as string)}"`;
  }
  return out;
}

interface Family {
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly values: Map<string, number>;
}

interface Histogram {
  readonly help: string;
  readonly buckets: readonly number[];
  readonly series: Map<string, { counts: number[]; sum: number; count: number }>;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const COUNTERS: ReadonlyArray<[name: string, type: "counter" | "gauge", help: string]> = [
  ["retry_client_gateway_requests_total", "counter", "Requests answered, by route and status."],
  ["retry_client_gateway_in_flight", "gauge", "Requests in flight."],
  [
    "retry_client_gateway_upstream_aborts_total",
    "counter",
    "Calls aborted because the caller went away.",
  ],
  ["retry_client_calls_total", "counter", "Client calls, by outcome."],
  ["retry_client_attempts_total", "counter", "Upstream attempts, by provider, model and outcome."],
  ["retry_client_retries_total", "counter", "Retries of a target, by provider and model."],
  ["retry_client_fallbacks_total", "counter", "Moves to the next target of a chain."],
  [
    "retry_client_skipped_targets_total",
    "counter",
    "Targets passed over without a request (breaker open, cooling down).",
  ],
  [
    "retry_client_breaker_state",
    "gauge",
    "Breaker state per target: 0 closed, 1 half-open, 2 open.",
  ],
  ["retry_client_tokens_total", "counter", "Tokens reported by answering attempts, by type."],
  ["retry_client_warnings_total", "counter", "Warnings (store unreachable, malformed chunk…)."],
];

const HISTOGRAMS: ReadonlyArray<[name: string, help: string]> = [
  ["retry_client_gateway_request_duration_seconds", "Time from request to the end of the answer."],
  ["retry_client_attempt_duration_seconds", "Upstream attempt duration."],
  ["retry_client_time_to_first_chunk_seconds", "Streams: time to the first content delta."],
];

const STATE_VALUE: Record<CircuitState, number> = { closed: 0, "half-open": 1, open: 2 };

/** The label texts of one provider and model, built on its first call and kept. */
interface TargetLabels {
  /** `provider="…",model="…"` */
  readonly target: string;
  /** … plus `outcome="…"`, by outcome. */
  readonly outcomes: Map<string, string>;
  /** … plus `type="input"` / `type="output"`. */
  readonly input: string;
  readonly output: string;
}

/** Models per provider whose label texts are kept. */
const MAX_MODELS = 256;

/** A small metrics registry, fed by the gateway and by the client's lifecycle listeners. */
export class GatewayMetrics {
  readonly #families = new Map<string, Family>();
  readonly #histograms = new Map<string, Histogram>();
  readonly #sampled = new Map<string, () => number>();
  readonly #targets = new Map<string, Map<string, TargetLabels>>();

  constructor() {
    for (const [name, type, help] of COUNTERS)
      this.#families.set(name, { help, type, values: new Map() });
    for (const [name, help] of HISTOGRAMS)
      this.#histograms.set(name, { help, buckets: SECONDS, series: new Map() });
  }

  /** Adds `by` to a counter or gauge. */
  add(name: string, labels: Labels, by = 1): void {
    this.#addText(name, labelText(labels), by);
  }

  #addText(name: string, key: string, by = 1): void {
    const family = this.#families.get(name);
    if (family === undefined) return;
    family.values.set(key, (family.values.get(key) ?? 0) + by);
  }

  /** A gauge read when rendered (no bookkeeping per request). */
  sample(name: string, read: () => number): void {
    this.#sampled.set(name, read);
  }

  /** Sets a gauge. */
  set(name: string, labels: Labels, value: number): void {
    this.#families.get(name)?.values.set(labelText(labels), value);
  }

  /** Records one observation (seconds) in a histogram. */
  observe(name: string, labels: Labels, seconds: number): void {
    this.#observeText(name, labelText(labels), seconds);
  }

  #observeText(name: string, key: string, seconds: number): void {
    const histogram = this.#histograms.get(name);
    if (histogram === undefined) return;
    let series = histogram.series.get(key);
    if (series === undefined) {
      series = { counts: histogram.buckets.map(() => 0), sum: 0, count: 0 };
      histogram.series.set(key, series);
    }
    const { buckets } = histogram;
    for (let i = 0; i < buckets.length; i++)
      if (seconds <= (buckets[i] as number)) series.counts[i] = (series.counts[i] as number) + 1;
    series.sum += seconds;
    series.count += 1;
  }

  /**
   * A listener to the client's lifecycle (`ClientConfig.instrumentation`) that feeds the client
   * metrics: calls, attempts, retries, fallbacks, skipped targets, breaker states, tokens, time
   * to first chunk and warnings.
   */
  listener(): Instrumentation {
    const outcomes = new Map<string, string>();
    return {
      onCallEnd: ({ outcome, response }) => {
        let key = outcomes.get(outcome);
        if (key === undefined) {
          key = labelText({ outcome });
          outcomes.set(outcome, key);
        }
        this.#addText("retry_client_calls_total", key);
        const usage = response?.usage;
        if (response && usage) {
          const labels = this.#target(response.provider, response.model);
          this.#addText("retry_client_tokens_total", labels.input, usage.inputTokens);
          this.#addText("retry_client_tokens_total", labels.output, usage.outputTokens);
        }
      },
      onAttemptEnd: ({ target, record }) => {
        const labels = this.#target(target.provider, target.model);
        let key = labels.outcomes.get(record.outcome);
        if (key === undefined) {
          key = `${labels.target},${labelText({ outcome: record.outcome })}`;
          labels.outcomes.set(record.outcome, key);
        }
        this.#addText("retry_client_attempts_total", key);
        this.#observeText(
          "retry_client_attempt_duration_seconds",
          labels.target,
          record.durationMs / 1000,
        );
      },
      onFirstChunk: ({ target, ttftMs }) => {
        this.#observeText(
          "retry_client_time_to_first_chunk_seconds",
          this.#target(target.provider, target.model).target,
          ttftMs / 1000,
        );
      },
      onRetry: ({ target }) => {
        this.add("retry_client_retries_total", { provider: target.provider, model: target.model });
      },
      onFallback: ({ from, to }) => {
        this.add("retry_client_fallbacks_total", {
          from: `${from.provider}:${from.model}`,
          to: `${to.provider}:${to.model}`,
        });
      },
      onTargetSkipped: ({ target, reason }) => {
        this.add("retry_client_skipped_targets_total", {
          provider: target.provider,
          model: target.model,
          reason,
        });
      },
      onBreakerTransition: ({ key, to }) => {
        this.set("retry_client_breaker_state", { key }, STATE_VALUE[to]);
      },
      onWarning: ({ warning }) => {
        this.add("retry_client_warnings_total", { code: warning.code });
      },
    };
  }

  /** The label texts of a target, kept. */
  #target(provider: string, model: string): TargetLabels {
    let byModel = this.#targets.get(provider);
    if (byModel === undefined) {
      byModel = new Map();
      this.#targets.set(provider, byModel);
    }
    let labels = byModel.get(model);
    if (labels === undefined) {
      if (byModel.size >= MAX_MODELS) byModel.clear();
      const target = labelText({ provider, model });
      labels = {
        target,
        outcomes: new Map(),
        input: `${target},type="input"`,
        output: `${target},type="output"`,
      };
      byModel.set(model, labels);
    }
    return labels;
  }

  /** The Prometheus text exposition. */
  render(): string {
    for (const [name, read] of this.#sampled) this.set(name, {}, read());
    const lines: string[] = [];
    for (const [name, family] of this.#families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const [labels, value] of family.values)
        lines.push(`${name}${labels === "" ? "" : `{${labels}}`} ${value}`);
    }
    for (const [name, histogram] of this.#histograms) {
      lines.push(`# HELP ${name} ${histogram.help}`, `# TYPE ${name} histogram`);
      for (const [labels, series] of histogram.series) {
        const prefix = labels === "" ? "" : `${labels},`;
        for (let i = 0; i < histogram.buckets.length; i++)
          lines.push(`${name}_bucket{${prefix}le="${histogram.buckets[i]}"} ${series.counts[i]}`);
        lines.push(`${name}_bucket{${prefix}le="+Inf"} ${series.count}`);
        const plain = labels === "" ? "" : `{${labels}}`;
        lines.push(`${name}_sum${plain} ${series.sum}`, `${name}_count${plain} ${series.count}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }
}
