/** Environment variables, as a plain record. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The process environment where there is one (Node, Bun, Deno with `process`), read without
 * importing `node:process`: the core must run on edge runtimes too.
 */
export function processEnv(): Env {
  return (globalThis as { process?: { env?: Env } }).process?.env ?? {};
}

/** Reads a variable from `env` (default: the process environment). Empty values count as unset. */
export function readEnv(name: string, env: Env = processEnv()): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * The prefix of a provider's environment variables (`<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL`):
 * `OPENAI` / `ANTHROPIC` for the providers of those names; for any other name (an
 * OpenAI-compatible endpoint such as "groq") its own, upper-cased: `GROQ_API_KEY`. A custom
 * endpoint never borrows another provider's key.
 *
 * @example envPrefix("groq", "openai") // "GROQ"
 */
export function envPrefix(name: string, wire: "openai" | "anthropic"): string {
  return name === wire ? wire.toUpperCase() : name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}
