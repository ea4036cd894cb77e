import {
  type ChatResponse,
  CircuitOpenError,
  type CircuitState,
  MemoryStateStore,
  Message,
  type ModelSpec,
  RetryClient,
  type StreamEvent,
} from "../../index.node.js";
import type { Scenario, SimulatorRequest } from "../../simulator/index.js";
import { startSimulator } from "../../simulator/index.js";
import { shortReason } from "../exit-codes.js";
import { formatDuration, formatTable, truncate } from "../format.js";
import type { Output } from "../output.js";
import type { GlobalFlags } from "../settings.js";

const PRIMARY: ModelSpec = { provider: "openai", model: "gpt-4o" };
const BACKUP: ModelSpec = { provider: "anthropic", model: "claude-sonnet-4-5-20250929" };
const FAILURE_THRESHOLD = 2;
const MIN_OPEN_MS = 1500;
const MAX_OPEN_MS = 3000;

/**
 * The demo's simulator script. gpt-4o (requests counted per model): request 0 gets a 429 with
 * `Retry-After: 1`, request 1 answers, requests 2–4 get 503, then it is healthy again. The
 * fallback model always answers.
 */
export const DEMO_SCENARIO: Scenario = {
  name: "cli-demo",
  description:
    "gpt-4o: 429 (Retry-After 1s) on its 1st request, 503 on its 3rd to 5th, healthy otherwise.",
  text: "Resilience is a property of the whole path, not of any one call.",
  models: {
    "gpt-4o": [
      { fault: "429-retry-after-1s", untilRequest: 1 },
      { fault: "503", fromRequest: 2, untilRequest: 5 },
    ],
  },
};

interface Scene {
  readonly title: string;
  /** What the simulator is scripted to do (a fact about the setup, not a prediction). */
  readonly setup: string;
  /** Wait for the breaker's open period to end before this request. */
  readonly afterOpenPeriod?: boolean;
}

const SCENES: readonly Scene[] = [
  {
    title: "a rate limit",
    setup: "the simulator answers gpt-4o's first request with 429 and Retry-After: 1",
  },
  {
    title: "the primary goes down",
    setup: "from its third request on, gpt-4o answers 503 (an outage)",
  },
  { title: "the breaker is open", setup: "gpt-4o is still down" },
  {
    title: "half-open probe",
    setup: "gpt-4o is still down (its fifth request will get 503)",
    afterOpenPeriod: true,
  },
  {
    title: "recovery",
    setup: "gpt-4o is healthy again from its sixth request",
    afterOpenPeriod: true,
  },
  { title: "business as usual", setup: "gpt-4o is healthy" },
];

interface SceneResult {
  readonly scene: Scene;
  readonly response: ChatResponse | undefined;
  readonly error: unknown;
  readonly upstream: readonly SimulatorRequest[];
  readonly elapsedMs: number;
}

const keyOf = (t: ModelSpec) => `${t.provider}:${t.model}`;

/**
 * `retry-client demo`: no key, no network beyond 127.0.0.1, state in memory. Starts the simulator
 * in-process and sends six requests through a two-target fallback chain while gpt-4o is rate
 * limited, goes down and recovers. Every line printed comes from a client hook, a stream event,
 * the client's breaker table or the simulator's request log.
 */
export async function demoCommand(out: Output, flags: GlobalFlags): Promise<void> {
  const json = flags.json === true;
  const verbose = flags.verbose === true;
  const c = out.color;
  const t0 = performance.now();
  const stamp = () => c.dim(`[${((performance.now() - t0) / 1000).toFixed(2).padStart(5)}s]`);
  const say = (text: string) => {
    if (!json) out.out(`${stamp()} ${text}\n`);
  };
  const transitions: { atMs: number; key: string; from: CircuitState; to: CircuitState }[] = [];

  const sim = await startSimulator({ scenario: DEMO_SCENARIO, tokenDelayMs: 12 });
  const client = new RetryClient({
    env: {},
    providers: {
      openai: { apiKey: "demo-no-real-key", baseURL: sim.openaiBaseURL },
      anthropic: { apiKey: "demo-no-real-key", baseURL: sim.anthropicBaseURL },
    },
    defaultProvider: PRIMARY.provider,
    defaultModel: PRIMARY.model,
    fallbackModels: [BACKUP],
    retry: { maxRetries: 1, baseDelayMs: 300 },
    circuitBreaker: {
      failureThreshold: FAILURE_THRESHOLD,
      successThreshold: 1,
      minResetTimeoutMs: MIN_OPEN_MS,
      resetTimeoutMs: MAX_OPEN_MS,
    },
    stateStore: new MemoryStateStore(),
    onCircuitStateChange: (key, from, to) => {
      transitions.push({ atMs: performance.now() - t0, key, from, to });
      const paint = to === "open" ? c.red : to === "half-open" ? c.yellow : c.green;
      const why =
        to === "open" && from === "closed"
          ? `${FAILURE_THRESHOLD} consecutive failures: requests now skip it without a network call`
          : to === "open"
            ? "the probe failed: open again, for longer"
            : to === "half-open"
              ? "the open period is over: one probe request may go"
              : "the probe succeeded: traffic flows again";
      say(`${paint(`⚡ breaker ${key}: ${from} → ${to}`)} ${c.dim(`(${why})`)}`);
    },
  });

  if (!json) {
    out.out(
      `${c.bold("retry-client demo")} — a scripted outage against the built-in simulator (${sim.url})\n` +
        c.dim(
          `no API key, no network beyond 127.0.0.1, breaker state in memory.\n` +
            `chain: ${keyOf(PRIMARY)} → ${keyOf(BACKUP)} · retries: 1 per target · breaker: opens after ${FAILURE_THRESHOLD} consecutive failures, ` +
            `open ${formatDuration(MIN_OPEN_MS)} (doubling per failed probe, up to ${formatDuration(MAX_OPEN_MS)}), closes after 1 good probe\n`,
        ),
    );
  }

  const results: SceneResult[] = [];
  try {
    for (const [index, scene] of SCENES.entries()) {
      if (scene.afterOpenPeriod) {
        const row = (await client.circuits()).find((r) => r.key === client.stateKey(PRIMARY));
        if (row?.state === "open" && row.nextProbeInMs > 0) {
          say(
            c.dim(
              `(the demo pauses ${formatDuration(row.nextProbeInMs)}: the client's breaker table says ${keyOf(PRIMARY)} may be probed then)`,
            ),
          );
          await new Promise((resolve) => setTimeout(resolve, row.nextProbeInMs + 30));
        }
      }
      if (!json)
        out.out(
          `\n${c.bold(c.cyan(`request ${index + 1}: ${scene.title}`))} ${c.dim(`— ${scene.setup}`)}\n`,
        );
      const logBefore = sim.requests().length;
      const started = performance.now();
      let response: ChatResponse | undefined;
      let error: unknown;
      try {
        const seenBefore = transitions.length;
        // Did this request's probe of `key` fail (half-open → open)? Then no retry was allowed.
        const probeFailed = (key: string) =>
          transitions
            .slice(seenBefore)
            .some((t) => t.key === key && t.from === "half-open" && t.to === "open");
        response = await narrate(client, say, out, json, verbose, probeFailed);
      } catch (e) {
        error = e;
        say(
          c.red(
            `✗ the request failed: ${shortReason(e)}: ${e instanceof Error ? e.message : String(e)}`,
          ),
        );
      }
      const elapsedMs = performance.now() - started;
      const upstream = sim.requests().slice(logBefore);
      say(c.dim(`simulator log for this request: ${describeUpstream(upstream)}`));
      results.push({ scene, response, error, upstream, elapsedMs });
    }
  } finally {
    await client.close();
    await sim.close();
  }

  const totalMs = performance.now() - t0;
  const all = results.flatMap((r) => r.upstream);
  const summary = {
    durationMs: Math.round(totalMs),
    requests: results.map((r, i) => ({
      request: i + 1,
      scene: r.scene.title,
      answeredBy: r.response ? keyOf(r.response) : null,
      attempts: r.response?.attempts.length ?? 0,
      skipped: r.response?.attempts.filter((a) => a.outcome === "skipped").length ?? 0,
      waitedMs: Math.round(r.response?.attempts.reduce((sum, a) => sum + a.delayBeforeMs, 0) ?? 0),
      upstreamRequests: r.upstream.length,
      elapsedMs: Math.round(r.elapsedMs),
      error: r.error ? shortReason(r.error) : null,
    })),
    breakerTransitions: transitions.map((t) => ({ ...t, atMs: Math.round(t.atMs) })),
    upstream: countByModel(all),
  };
  if (json) {
    out.json(summary);
  } else {
    out.out(`\n${c.bold("summary")}\n`);
    out.out(
      `${formatTable(
        ["#", "SCENE", "ANSWERED BY", "ATTEMPTS", "WAITED", "UPSTREAM", "TIME"],
        summary.requests.map((r) => [
          String(r.request),
          r.scene,
          r.answeredBy ?? c.red(`failed (${r.error})`),
          r.skipped > 0 ? `${r.attempts} (${r.skipped} skipped)` : String(r.attempts),
          r.waitedMs > 0 ? formatDuration(r.waitedMs) : "-",
          String(r.upstreamRequests),
          formatDuration(r.elapsedMs),
        ]),
        { header: c.bold },
      )}\n`,
    );
    out.out(
      `\n${c.bold("breaker transitions")}: ${
        transitions
          .map((t) => `${(t.atMs / 1000).toFixed(2)}s ${t.key} ${t.from} → ${t.to}`)
          .join(" · ") || "none"
      }\n`,
    );
    out.out(
      `${c.bold("upstream requests the simulator saw")}: ${all.length} — ${Object.entries(
        summary.upstream,
      )
        .map(
          ([model, statuses]) =>
            `${model}: ${Object.entries(statuses)
              .map(([s, n]) => `${n}×${s}`)
              .join(", ")}`,
        )
        .join(" · ")}\n`,
    );
    const answered = summary.requests.filter((r) => r.answeredBy !== null).length;
    out.out(
      `${c.bold(`${answered}/${summary.requests.length} requests answered`)} in ${formatDuration(totalMs)}, through a rate limit and an outage.\n` +
        c.dim(
          "Try it against your own app: retry-client simulate --scenario outage (docs/cli.md).\n",
        ),
    );
  }
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1;
}

/** Sends one request as a stream and narrates its events; resolves with the response. */
async function narrate(
  client: RetryClient,
  say: (text: string) => void,
  out: Output,
  json: boolean,
  verbose: boolean,
  probeFailed: (key: string) => boolean,
): Promise<ChatResponse> {
  const c = out.color;
  const stream = client.stream([Message.user("Say something wise about reliability.")], {
    maxTokens: 64,
  });
  let current: ModelSpec | undefined;
  let attemptStarted = 0;
  let streaming = false;
  for await (const event of stream.events()) {
    narrateEvent(event);
  }
  const response = await stream.response;
  return response;

  function narrateEvent(event: StreamEvent): void {
    switch (event.type) {
      case "attempt-start":
        current = { provider: event.provider, model: event.model };
        attemptStarted = performance.now();
        say(`→ ${keyOf(current)} ${c.dim(`attempt ${event.attempt + 1}: request sent`)}`);
        break;
      case "text-delta":
        if (!streaming) {
          streaming = true;
          const ttft = formatDuration(performance.now() - attemptStarted);
          say(c.green(`← 200 from ${current ? keyOf(current) : "?"}, first token after ${ttft}:`));
          if (!json) out.out(`         ${c.dim("│")} `);
        }
        if (!json) out.out(c.italic(event.text));
        break;
      case "retry": {
        const error = event.error as { retryAfterMs?: unknown };
        const where = `${event.provider}:${event.model}`;
        if (event.attempt === 0) {
          say(
            c.yellow(
              `⏳ every target left is cooling down; waiting ${formatDuration(event.delayMs)} for ${where}`,
            ),
          );
        } else if (typeof error.retryAfterMs === "number") {
          say(
            c.yellow(
              `← ${shortReason(event.error)} from ${where}: the server says Retry-After ${formatDuration(error.retryAfterMs)} → waiting ${formatDuration(event.delayMs)}, then retry ${event.attempt}`,
            ),
          );
        } else {
          say(
            c.yellow(
              `← ${shortReason(event.error)} from ${where} → backoff ${formatDuration(event.delayMs)} (exponential, jittered), then retry ${event.attempt}`,
            ),
          );
        }
        break;
      }
      case "fallback": {
        const from = keyOf(event.from);
        const to = keyOf(event.to);
        if (CircuitOpenError.isInstance(event.error)) {
          say(
            c.magenta(
              `⤳ ${from} skipped: its breaker is open (next probe in ${formatDuration(event.error.retryAfterMs)}), no request sent → falling back to ${to}`,
            ),
          );
        } else if (probeFailed(client.stateKey(event.from))) {
          say(
            c.magenta(
              `⤳ ${from}'s probe failed (${shortReason(event.error)}): its breaker is open again, so no retry → falling back to ${to}`,
            ),
          );
        } else {
          say(
            c.magenta(
              `⤳ ${from} gave up (${shortReason(event.error)}, out of retries) → falling back to ${to}`,
            ),
          );
        }
        break;
      }
      case "restart":
        say(
          c.yellow(
            `↺ the stream broke (${shortReason(event.error)}); restarting on ${keyOf(event)}`,
          ),
        );
        break;
      case "warning":
        if (verbose) say(c.dim(`warning: ${event.warning.message}`));
        break;
      case "finish": {
        if (streaming && !json) out.out("\n");
        const r = event.response;
        const attempts = r.attempts.length;
        say(
          `${c.green(c.bold(`✓ answered by ${keyOf(r)}`))} ${c.dim(
            `(${attempts} attempt${attempts === 1 ? "" : "s"}, ${r.usage?.outputTokens ?? "?"} output tokens)`,
          )}`,
        );
        break;
      }
      default:
        break;
    }
  }
}

/** `gpt-4o 429, 200 · claude-… 200` in arrival order (repeats as `2×503`), or `no request`. */
function describeUpstream(requests: readonly SimulatorRequest[]): string {
  if (requests.length === 0) return "no request";
  const byModel = new Map<string, { status: string; n: number }[]>();
  for (const r of [...requests].sort((a, b) => a.id - b.id)) {
    const model = truncate(r.model ?? r.path, 40);
    const status = r.status === undefined ? r.outcome : String(r.status);
    const runs = byModel.get(model) ?? [];
    byModel.set(model, runs);
    const last = runs[runs.length - 1];
    if (last && last.status === status) last.n++;
    else runs.push({ status, n: 1 });
  }
  return [...byModel]
    .map(
      ([model, runs]) =>
        `${model} ${runs.map((r) => (r.n > 1 ? `${r.n}×${r.status}` : r.status)).join(", ")}`,
    )
    .join(" · ");
}

function countByModel(
  requests: readonly SimulatorRequest[],
): Record<string, Record<string, number>> {
  const byModel: Record<string, Record<string, number>> = {};
  for (const r of [...requests].sort((a, b) => a.id - b.id)) {
    const model = truncate(r.model ?? r.path, 40);
    const status = r.status === undefined ? r.outcome : String(r.status);
    const row = byModel[model] ?? {};
    byModel[model] = row;
    row[status] = (row[status] ?? 0) + 1;
  }
  return byModel;
}
