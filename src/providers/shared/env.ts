/**
 * Reads an environment variable where there is one (Node, Bun, Deno with `process`), without
 * importing `node:process`: the core must run on edge runtimes too. Empty values count as unset.
 */
export function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  const value = env?.[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
