import type { CommandContext } from "../context.js";
import { CliError, EXIT } from "../exit-codes.js";
import { formatDuration, formatTable } from "../format.js";
import { describeState } from "../settings.js";

/** One row of `retry-client circuits`: a target with a breaker, a cooldown or both. */
interface CircuitRow {
  readonly key: string;
  readonly state: string;
  readonly failures: number;
  readonly nextProbeInMs: number;
  /** Milliseconds left of a cooldown (a rate limit's Retry-After), 0 when none. */
  readonly cooldownMs: number;
  readonly baseURL?: string;
}

/** Fails the command when the store could not be read: an empty table would be a lie. */
function requireStore(ctx: CommandContext, what: string): void {
  const degraded = (ctx.store as { degraded?: unknown }).degraded === true;
  if (!ctx.storeUnavailable && !degraded) return;
  throw new CliError(
    `${what}: the state store ${describeState(ctx.settings.state)} could not be used (see the warning above); nothing was ${what === "reset" ? "reset" : "read"}`,
    EXIT.failed,
  );
}

/** Live cooldowns by target key: milliseconds left. */
async function readCooldowns(ctx: CommandContext): Promise<Map<string, number>> {
  return new Map((await ctx.client.cooldowns()).map((c) => [c.key, c.remainingMs]));
}

/** Breakers and cooldowns from the store, one row per target key. */
async function readRows(ctx: CommandContext): Promise<CircuitRow[]> {
  const [circuits, cooldownOf] = await Promise.all([ctx.client.circuits(), readCooldowns(ctx)]);
  const rows = new Map<string, CircuitRow>();
  for (const r of circuits) {
    const { baseURL } = r;
    rows.set(r.key, {
      key: r.key,
      state: r.state,
      failures: r.failures,
      nextProbeInMs: r.nextProbeInMs,
      cooldownMs: cooldownOf.get(r.key) ?? 0,
      ...(typeof baseURL === "string" ? { baseURL } : {}),
    });
  }
  // A key names its endpoint before the model (`openai@1a2b3c4d:gpt-4o`): a cooldown-only row
  // shares the base URL of a breaker row of the same endpoint.
  const endpointOf = (key: string) => key.slice(0, key.indexOf(":"));
  const urls = new Map<string, string>();
  for (const row of rows.values())
    if (row.baseURL !== undefined) urls.set(endpointOf(row.key), row.baseURL);
  for (const [key, ms] of cooldownOf) {
    if (rows.has(key)) continue;
    const baseURL = urls.get(endpointOf(key));
    rows.set(key, {
      key,
      state: "closed",
      failures: 0,
      nextProbeInMs: 0,
      cooldownMs: ms,
      ...(baseURL !== undefined ? { baseURL } : {}),
    });
  }
  return [...rows.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** `retry-client circuits`: one row per `provider:model` breaker or cooldown in the state store. */
export async function circuitsCommand(ctx: CommandContext): Promise<void> {
  const { out, settings } = ctx;
  const rows = await readRows(ctx);
  requireStore(ctx, "circuits");
  if (settings.json) {
    out.json({ store: describeState(settings.state), circuits: rows });
    return;
  }
  if (rows.length === 0) {
    out.out(`no breakers or cooldowns recorded in ${describeState(settings.state)}\n`);
    return;
  }
  const c = out.color;
  const paint = (state: string) =>
    state === "open" ? c.red(state) : state === "half-open" ? c.yellow(state) : c.green(state);
  const withURL = rows.some((r) => r.baseURL !== undefined);
  out.out(
    `${formatTable(
      ["KEY", "STATE", "FAILURES", "NEXT PROBE", "COOLDOWN", ...(withURL ? ["BASE URL"] : [])],
      rows.map((r) => [
        r.key,
        paint(r.state),
        String(r.failures),
        r.state === "open"
          ? `in ${formatDuration(r.nextProbeInMs)}`
          : r.state === "half-open"
            ? "now"
            : "-",
        r.cooldownMs > 0 ? `${formatDuration(r.cooldownMs)} left` : "-",
        ...(withURL ? [r.baseURL ?? "-"] : []),
      ]),
      { header: c.bold },
    )}\n`,
  );
}

/** `retry-client reset [KEY]`: closes one breaker (and clears its cooldown), or all of them. */
export async function resetCommand(ctx: CommandContext, key: string | undefined): Promise<void> {
  const { out, settings } = ctx;
  if (key !== undefined && !/^[^:]+:.+$/.test(key))
    throw new CliError(`reset: KEY must be provider:model (e.g. openai:gpt-4o), got "${key}"`);
  const before = await readRows(ctx);
  requireStore(ctx, "reset");
  if (key !== undefined && !before.some((r) => r.key === key))
    out.err(`retry-client: no breaker or cooldown recorded for ${key}; nothing to reset\n`);
  await ctx.client.resetCircuits(key);
  requireStore(ctx, "reset");
  const cleared = key === undefined ? before.map((r) => r.key) : [key];
  if (settings.json) {
    out.json({ reset: cleared });
    return;
  }
  out.out(
    key === undefined
      ? `reset ${cleared.length} breaker${cleared.length === 1 ? "" : "s"} and cooldowns in ${describeState(settings.state)}\n`
      : `reset ${key}\n`,
  );
}
