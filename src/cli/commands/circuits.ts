import type { CommandContext } from "../context.js";
import { CliError } from "../exit-codes.js";
import { formatDuration, formatTable } from "../format.js";
import { describeState } from "../settings.js";

/** `retry-client circuits`: one row per `provider:model` breaker in the state store. */
export async function circuitsCommand(ctx: CommandContext): Promise<void> {
  const { out, settings } = ctx;
  const rows = await ctx.client.circuits();
  if (settings.json) {
    out.json({
      store: describeState(settings.state),
      circuits: rows.map(({ key, state, failures, nextProbeInMs }) => ({
        key,
        state,
        failures,
        nextProbeInMs,
      })),
    });
    return;
  }
  if (rows.length === 0) {
    out.out(`no breakers recorded in ${describeState(settings.state)}\n`);
    return;
  }
  const c = out.color;
  const paint = (state: string) =>
    state === "open" ? c.red(state) : state === "half-open" ? c.yellow(state) : c.green(state);
  out.out(
    `${formatTable(
      ["KEY", "STATE", "FAILURES", "NEXT PROBE"],
      rows.map((r) => [
        r.key,
        paint(r.state),
        String(r.failures),
        r.state === "open"
          ? `in ${formatDuration(r.nextProbeInMs)}`
          : r.state === "half-open"
            ? "now"
            : "-",
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
  const before = await ctx.client.circuits();
  if (key !== undefined && !before.some((r) => r.key === key) && !settings.json)
    out.err(`retry-client: no breaker recorded for ${key}; clearing its cooldown anyway\n`);
  await ctx.client.resetCircuits(key);
  const cleared = key === undefined ? before.map((r) => r.key) : [key];
  if (settings.json) {
    out.json({ reset: cleared });
    return;
  }
  out.out(
    key === undefined
      ? `reset ${cleared.length} breaker${cleared.length === 1 ? "" : "s"} in ${describeState(settings.state)}\n`
      : `reset ${key}\n`,
  );
}
