/** Small text formatting helpers of the CLI: durations, tables, truncation. */

/** `950ms`, `1.2s`, `2m05s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)}ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(abs / 60_000);
  const seconds = Math.round((abs % 60_000) / 1000);
  return `${ms < 0 ? "-" : ""}${minutes}m${String(seconds).padStart(2, "0")}s`;
}

/** `128k`, `1.05M` tokens. */
export function formatTokens(n: number): string {
  if (n >= 1_000_000) return `${Number((n / 1_000_000).toFixed(2))}M`;
  if (n >= 1_000) return `${Number((n / 1_000).toFixed(1))}k`;
  return String(n);
}

/** Text without ANSI colour codes (for width computations). */
export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

/** Cuts `text` to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * A plain text table: a header row, a rule, then the rows; columns padded to their widest cell
 * (colour codes do not count). No trailing spaces.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  style: { readonly header?: (text: string) => string } = {},
): string {
  const widths = header.map((h, i) =>
    Math.max(stripAnsi(h).length, ...rows.map((r) => stripAnsi(r[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1
          ? cell
          : cell + " ".repeat(Math.max(0, (widths[i] ?? 0) - stripAnsi(cell).length)),
      )
      .join("  ")
      .trimEnd();
  const head = style.header ?? ((t: string) => t);
  return [
    head(line(header)),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(r)),
  ].join("\n");
}
