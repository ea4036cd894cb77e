/**
 * Runs the BUILT `retry-client` binary (dist/cli/main.js) as a user would: a child process with a
 * temporary HOME / XDG dirs, no inherited keys, against a simulator. Builds dist/ first when a
 * source file is newer than the build.
 */
import { type ChildProcessByStdio, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { expect } from "vitest";

export const ROOT = join(import.meta.dirname, "..", "..");
export const BIN = join(ROOT, "dist", "cli", "main.js");
/** A recognisable fake key: it must never appear in any output. */
export const KEY = "sk-test-FAKEKEY-c0ffee1234567890";
export const ANT_KEY = "sk-ant-test-FAKEKEY-deadbeef4242";

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly env?: Record<string, string | undefined>;
  readonly timeoutMs?: number;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Everything a child writes on stdout and stderr, and its exit code, once it closes. */
export function collect(
  child: ChildProcessByStdio<Writable | null, Readable, Readable>,
  onStdout: (text: string) => void = () => {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      onStdout(stdout);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** No key of the tests, nor any part of one, in any output. */
export function expectNoKeys(outputs: readonly string[]): void {
  expect(outputs.length).toBeGreaterThan(20);
  for (const text of outputs) {
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(ANT_KEY);
    expect(text).not.toContain("FAKEKEY");
  }
}

/** Builds dist/ when it is missing or older than src/. */
export function ensureBuilt(): void {
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < newestMtime(join(ROOT, "src")))
    execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "ignore" });
}

/** A CLI runner bound to a home directory and a default environment. */
export function cliRunner(defaults: () => Record<string, string | undefined>) {
  /** Every stdout and stderr seen, for the "no key in any output" check. */
  const outputs: string[] = [];

  function env(extra: Record<string, string | undefined> = {}): Record<string, string> {
    const all: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      NO_COLOR: "1",
      ...defaults(),
      ...extra,
    };
    return Object.fromEntries(
      Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined),
    );
  }

  async function cli(args: readonly string[], options: RunOptions = {}): Promise<Run> {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: env(options.env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 15_000);
    const run = await collect(child).finally(() => clearTimeout(timer));
    outputs.push(run.stdout, run.stderr);
    if (run.code === null)
      throw new Error(`killed: retry-client ${args.join(" ")}\n${run.stdout}\n${run.stderr}`);
    return run;
  }

  return { cli, env, outputs };
}
