import { BUILT_IN_MODELS, type ModelInfo, type ProviderSettings } from "../../index.node.js";
import type { CommandContext } from "../context.js";
import { describeError } from "../exit-codes.js";
import { formatTable, formatTokens } from "../format.js";
import { keyVariable } from "../settings.js";

/** `retry-client models`: the live list of each provider with a key, then the catalogue. */
export async function modelsCommand(ctx: CommandContext): Promise<void> {
  const { out, settings, client } = ctx;
  const c = out.color;
  const live: Record<string, { models?: ModelInfo[]; error?: string; skipped?: string }> = {};
  await Promise.all(
    settings.providerNames.map(async (name) => {
      if (!client.hasKey(name)) {
        live[name] = {
          skipped: `no key (${keyVariable(name, settings.config.providers?.[name] as ProviderSettings | undefined)})`,
        };
        return;
      }
      try {
        const models = await client
          .provider(name)
          .listModels({ signal: AbortSignal.timeout(15_000) });
        live[name] = { models: models.sort((a, b) => a.id.localeCompare(b.id)) };
      } catch (error) {
        live[name] = { error: describeError(error) };
      }
    }),
  );
  const catalogue = BUILT_IN_MODELS.map((m) => ({
    provider: m.provider,
    model: m.model,
    contextWindow: m.contextWindow,
    maxOutputTokens: m.maxOutputTokens,
    prefill: m.prefill,
  }));
  if (settings.json) {
    out.json({ live, catalogue });
    return;
  }
  for (const name of settings.providerNames) {
    const entry = live[name];
    if (!entry) continue;
    out.out(`${c.bold(`${name} (live)`)}: `);
    if (entry.skipped) out.out(`${c.dim(entry.skipped)}\n`);
    else if (entry.error) out.out(`${c.red(`unavailable: ${entry.error}`)}\n`);
    else {
      const models = entry.models ?? [];
      out.out(`${models.length} model${models.length === 1 ? "" : "s"}\n`);
      const width = Math.max(0, ...models.map((m) => m.id.length));
      for (const m of models)
        out.out(
          m.displayName ? `  ${m.id.padEnd(width)}  ${c.dim(m.displayName)}\n` : `  ${m.id}\n`,
        );
    }
  }
  out.out(`\n${c.bold("built-in catalogue")}\n`);
  out.out(
    `${formatTable(
      ["PROVIDER", "MODEL", "CONTEXT", "MAX OUTPUT", "PREFILL"],
      catalogue.map((m) => [
        m.provider,
        m.model,
        formatTokens(m.contextWindow),
        formatTokens(m.maxOutputTokens),
        m.prefill ? "yes" : "no",
      ]),
      { header: c.bold },
    )}\n`,
  );
}
