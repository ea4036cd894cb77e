/**
 * Durations as the simulator reads and writes them: `500ms`, `2s`, `1.5s`, `1m` in fault
 * directives; Go-style (`6m0s`, `20ms`) in OpenAI's `x-ratelimit-reset-*` headers.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses `<number><unit>` with unit `ms`, `s`, `m` or `h` into milliseconds.
 * Returns `undefined` when `text` is not a duration.
 *
 * @example parseDuration("1.5s") // 1500
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? Number.NaN);
  return Number.isFinite(value) ? Math.round(value) : undefined;
}

/** Formats milliseconds the way `parseDuration` reads them back (`1500` → `1.5s`). */
export function formatDuration(ms: number): string {
  if (ms < 1000 || ms % 100 !== 0) return `${ms}ms`;
  return `${ms / 1000}s`;
}

/**
 * Formats milliseconds like Go's `time.Duration.String()`, which OpenAI uses in its
 * `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` headers: `20ms`, `1s`, `1.5s`,
 * `6m0s`, `1h2m3s`.
 */
export function formatGoDuration(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole === 0) return "0s";
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  const seconds = (whole % 60_000) / 1000;
  const secondsText = `${Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}
