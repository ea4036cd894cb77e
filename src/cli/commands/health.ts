import { Message, type ProviderSettings, type RateLimitInfo } from "../../index.node.js";
import type { CommandContext } from "../context.js";
import { EXIT, shortReason } from "../exit-codes.js";
import { formatDuration, formatTable, formatTokens, truncate } from "../format.js";
import { keyVariable } from "../settings.js";

/** One row of `retry-client health`. */
interface HealthRow {
  readonly provider: string;
  readonly model: string | undefined;
  /** `ok`, `down` (probed and failed) or `skipped` (no key). */
  readonly status: "ok" | "down" | "skipped";
  readonly latencyMs: number | undefined;
  readonly detail: string;
  readonly rateLimit: RateLimitInfo | undefined;
  readonly breaker: string;
}

function headroom(remaining: number | undefined, limit: number | undefined): string {
  if (remaining === undefined) return "-";
  if (limit === undefined || limit === 0) return formatTokens(remaining);
  return `${formatTokens(remaining)}/${formatTokens(limit)} (${Math.round((100 * remaining) / limit)}%)`;
}

/**
 * `retry-client health [--all]`: sends a one-token request to each provider with a key (its
 * default model, or `-m`), straight to that target (no retry, no fallback), and reports whether it
 * answered, how fast, the rate-limit headroom its headers show and its breaker state. Exit 1 when
 * a probed provider is unhealthy.
 */
export async function healthCommand(ctx: CommandContext, all: boolean): Promise<void> {
  const { out, settings, client } = ctx;
  const names = settings.providerNames.filter((name) => all || client.hasKey(name));
  const rows: HealthRow[] = await Promise.all(
    names.map(async (provider): Promise<HealthRow> => {
      const explicit =
        settings.call.model !== undefined && provider === settings.selectedProvider
          ? settings.call.model
          : undefined;
      let model: string | undefined;
      try {
        model = explicit ?? client.chain({ provider })[0]?.model;
      } catch {
        model = undefined;
      }
      const breakerOf = async () => {
        const rows = await client.circuits();
        return (
          rows.find((r) => model !== undefined && r.key === client.stateKey({ provider, model }))
            ?.state ?? "closed"
        );
      };
      if (!client.hasKey(provider)) {
        const settingsOf = settings.config.providers?.[provider] as ProviderSettings | undefined;
        return {
          provider,
          model,
          status: "skipped",
          latencyMs: undefined,
          detail: `no key (${keyVariable(provider, settingsOf)})`,
          rateLimit: undefined,
          breaker: await breakerOf(),
        };
      }
      const started = performance.now();
      try {
        const response = await client.complete([Message.user("ping")], {
          provider,
          ...(model !== undefined ? { model } : {}),
          fallbackModels: [],
          retry: { maxRetries: 0 },
          maxTokens: 1,
          timeoutMs: 20_000,
        });
        return {
          provider,
          model: response.model,
          status: "ok",
          latencyMs: performance.now() - started,
          detail: "reachable",
          rateLimit: response.rateLimit,
          breaker: await breakerOf(),
        };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return {
          provider,
          model,
          status: "down",
          latencyMs: performance.now() - started,
          detail: `${shortReason(error)}: ${truncate(message, 80)}`,
          rateLimit: (error as { rateLimit?: RateLimitInfo }).rateLimit,
          breaker: await breakerOf(),
        };
      }
    }),
  );
  const unhealthy = rows.some((r) => r.status === "down");
  const jsonRows = rows.map((r) => ({
    provider: r.provider,
    model: r.model ?? null,
    status: r.status,
    latencyMs: r.latencyMs === undefined ? null : Math.round(r.latencyMs),
    detail: r.detail,
    rateLimit: r.rateLimit ?? null,
    breaker: r.breaker,
  }));
  if (!rows.some((r) => r.status !== "skipped")) {
    // A monitoring script must never read "healthy" off a missing secret.
    const reason =
      "health: nothing to probe: no provider has an API key (set OPENAI_API_KEY or ANTHROPIC_API_KEY, or pass -p NAME -k KEY)";
    process.exitCode = EXIT.usage;
    if (settings.json)
      out.json({
        healthy: false,
        providers: jsonRows,
        error: { name: "UsageError", message: reason },
      });
    else if (rows.length > 0) printTable(ctx, rows);
    out.err(`retry-client: ${reason}\n`);
    return;
  }
  if (unhealthy) process.exitCode = EXIT.failed;
  if (settings.json) {
    out.json({ healthy: !unhealthy, providers: jsonRows });
    return;
  }
  printTable(ctx, rows);
}

function printTable(ctx: CommandContext, rows: readonly HealthRow[]): void {
  const { out } = ctx;
  const c = out.color;
  const paint = (s: HealthRow["status"]) =>
    s === "ok" ? c.green("ok") : s === "down" ? c.red("DOWN") : c.dim("skipped");
  out.out(
    `${formatTable(
      [
        "PROVIDER",
        "MODEL",
        "STATUS",
        "LATENCY",
        "REQUESTS LEFT",
        "TOKENS LEFT",
        "BREAKER",
        "DETAIL",
      ],
      rows.map((r) => [
        r.provider,
        r.model ?? "-",
        paint(r.status),
        r.latencyMs === undefined ? "-" : formatDuration(r.latencyMs),
        headroom(r.rateLimit?.remainingRequests, r.rateLimit?.limitRequests),
        headroom(r.rateLimit?.remainingTokens, r.rateLimit?.limitTokens),
        r.breaker,
        r.detail,
      ]),
      { header: c.bold },
    )}\n`,
  );
}
