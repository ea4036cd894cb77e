/**
 * The gateway's Prometheus metrics: plain counters, gauges and one histogram, rendered in the
 * text exposition format. Labels hold provider, model, route and status — never a key.
 */

type Labels = Readonly<Record<string, string>>;

const escapeLabel = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function labelText(labels: Labels): string {
  const parts: string[] = [];
  for (const name in labels) parts.push(`${name}="${escapeLabel(labels[name] as string)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

interface Family {
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly values: Map<string, number>;
}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A small metrics registry (no dependency: the format is a few lines of text). */
export class GatewayMetrics {
  readonly #families = new Map<string, Family>();
  readonly #durations = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor() {
    this.#family(
      "retry_client_gateway_requests_total",
      "counter",
      "Requests answered, by route and status.",
    );
    this.#family("retry_client_gateway_in_flight", "gauge", "Requests in flight.");
    this.#family(
      "retry_client_attempts_total",
      "counter",
      "Upstream attempts, by provider, model and outcome.",
    );
    this.#family(
      "retry_client_retries_total",
      "counter",
      "Retries of a target, by provider and model.",
    );
    this.#family("retry_client_fallbacks_total", "counter", "Moves to the next target of a chain.");
    this.#family(
      "retry_client_breaker_state",
      "gauge",
      "Breaker state per target: 0 closed, 1 half-open, 2 open.",
    );
    this.#family(
      "retry_client_tokens_total",
      "counter",
      "Tokens reported by the answering attempts, by type.",
    );
    this.#family(
      "retry_client_gateway_upstream_aborts_total",
      "counter",
      "Calls aborted because the caller went away.",
    );
  }

  #family(name: string, type: "counter" | "gauge", help: string): void {
    this.#families.set(name, { help, type, values: new Map() });
  }

  /** Adds `by` to a counter or gauge. */
  add(name: string, labels: Labels, by = 1): void {
    const family = this.#families.get(name);
    if (family === undefined) return;
    const key = labelText(labels);
    family.values.set(key, (family.values.get(key) ?? 0) + by);
  }

  /** Sets a gauge. */
  set(name: string, labels: Labels, value: number): void {
    this.#families.get(name)?.values.set(labelText(labels), value);
  }

  /** Records one request's duration (seconds) for `route`. */
  observe(route: string, seconds: number): void {
    let h = this.#durations.get(route);
    if (h === undefined) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#durations.set(route, h);
    }
    for (let i = 0; i < BUCKETS.length; i++)
      if (seconds <= (BUCKETS[i] as number)) h.counts[i]! += 1;
    h.sum += seconds;
    h.count += 1;
  }

  /** The Prometheus text exposition. */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.#families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const [labels, value] of family.values) lines.push(`${name}${labels} ${value}`);
    }
    const name = "retry_client_gateway_request_duration_seconds";
    lines.push(
      `# HELP ${name} Time from request to the end of the answer.`,
      `# TYPE ${name} histogram`,
    );
    for (const [route, h] of this.#durations) {
      const r = `route="${escapeLabel(route)}"`;
      for (let i = 0; i < BUCKETS.length; i++)
        lines.push(`${name}_bucket{${r},le="${BUCKETS[i]}"} ${h.counts[i]}`);
      lines.push(`${name}_bucket{${r},le="+Inf"} ${h.count}`);
      lines.push(`${name}_sum{${r}} ${h.sum}`, `${name}_count{${r}} ${h.count}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
