/**
 * Packaging: pack the tarball as npm would publish it, install it into an empty project, import
 * the public API through every export condition and run the binary. A broken `exports` map, a
 * missing file or a forgotten dependency fails here. Also reports the installed size (≤ 1 MiB).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
let project: string;
let tarball: string;

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

/**
 * Walks the installed package's relative imports from `entry` (under dist/) and lists every import
 * of a module whose name starts with `prefix`, as "file -> module"; `files` is how many were read.
 */
function reachableImports(entry: string, prefix: string): { files: number; bad: string[] } {
  const out = run(
    "node",
    [
      "-e",
      `const fs = require("fs"), path = require("path");
       const [entry, prefix] = process.argv.slice(1);
       const dir = "node_modules/retry-client/dist";
       const seen = new Set(), bad = [];
       (function walk(file) {
         if (seen.has(file)) return; seen.add(file);
         const src = fs.readFileSync(file, "utf8");
         for (const m of src.matchAll(/(?:from|import)\\s*\\(?\\s*["']([^"']+)["']/g)) {
           const spec = m[1];
           if (spec.startsWith(prefix)) bad.push(path.relative(dir, file) + " -> " + spec);
           else if (spec.startsWith(".")) walk(path.resolve(path.dirname(file), spec));
         }
       })(path.resolve(dir, entry));
       console.log(JSON.stringify({ files: seen.size, bad }));`,
      entry,
      prefix,
    ],
    join(project, "app"),
  );
  return JSON.parse(out) as { files: number; bad: string[] };
}

describe("the packed package", () => {
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), "retry-client-pack-"));
    const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", project], root));
    tarball = join(project, packed[0].filename);
    mkdirSync(join(project, "app"));
    writeFileSync(
      join(project, "app", "package.json"),
      JSON.stringify({ name: "app", version: "1.0.0", type: "module", private: true }),
    );
    run(
      "npm",
      ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--omit=peer"],
      join(project, "app"),
    );
  }, 120_000);

  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it("ships only the build, the README and the licence", () => {
    const files: string[] = JSON.parse(
      run("npm", ["pack", "--dry-run", "--json"], root),
    )[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.node.js");
    expect(files).toContain("dist/redis.js");
    expect(files).toContain("dist/otel/index.js");
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("README.md");
    expect(files).toContain("LICENSE");
    expect(files.filter((f) => f.startsWith("src/") || f.includes(".test."))).toEqual([]);
  });

  it("imports the public API on Node (node condition) and through the neutral entry", () => {
    const script = `
      import * as api from "retry-client";
      const names = ["RetryClient", "Message", "FallbackChain", "createOpenAIChain", "createAnthropicChain",
        "createMixedChain", "retry", "withRetry", "CircuitBreaker", "circuitBreaker", "CircuitOpenError",
        "RetryClientError", "ProviderError", "RateLimitError", "QuotaExceededError", "OverloadedError",
        "ServerError", "AuthenticationError", "PermissionDeniedError", "NotFoundError", "BadRequestError",
        "ContextLengthExceededError", "ContentFilterError", "ConnectionError", "TimeoutError",
        "StreamInterruptedError", "FallbackExhaustedError", "ConfigurationError", "OpenAIProvider",
        "AnthropicProvider", "MemoryStateStore", "FileStateStore", "classify"];
      const missing = names.filter((n) => !(n in api));
      if (missing.length) throw new Error("missing: " + missing.join(", "));
      const { startSimulator } = await import("retry-client/simulator");
      console.log(JSON.stringify({ ok: true, sim: typeof startSimulator }));
    `;
    const out = run("node", ["--input-type=module", "-e", script], join(project, "app"));
    expect(JSON.parse(out)).toMatchObject({ ok: true, sim: "function" });
  });

  it("the neutral entry imports no node: module", () => {
    const out = run(
      "node",
      [
        "--input-type=module",
        "-e",
        `const api = await import("./node_modules/retry-client/dist/index.js");
         console.log(typeof api.RetryClient, "FileStateStore" in api);`,
      ],
      join(project, "app"),
    );
    expect(out.trim()).toBe("function false");
    const { bad } = reachableImports("index.js", "node:");
    expect(bad).toEqual([]);
  });

  it("runs the retry-client binary", () => {
    const out = run(
      join(project, "app", "node_modules", ".bin", "retry-client"),
      ["--version"],
      join(project, "app"),
    );
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("weighs at most 1 MiB installed with its runtime dependencies", () => {
    const bytes = sizeOf(join(project, "app", "node_modules"));
    console.log(
      `installed size: ${(bytes / 1024).toFixed(0)} KiB (package + runtime dependencies)`,
    );
    expect(bytes).toBeLessThanOrEqual(1024 * 1024);
  });

  it("retry-client/redis needs only the optional ioredis peer, installed by the user", () => {
    const script = `
      try { await import("retry-client/redis"); console.log("loaded"); }
      catch (error) { console.log(error.code, /ioredis/.test(error.message)); }`;
    const app = join(project, "app");
    expect(run("node", ["--input-type=module", "-e", script], app).trim()).toBe(
      "ERR_MODULE_NOT_FOUND true",
    );
    run("npm", ["install", "ioredis", "--no-audit", "--no-fund", "--prefer-offline"], app);
    expect(run("node", ["--input-type=module", "-e", script], app).trim()).toBe("loaded");
  }, 120_000);

  it("the main entry never loads @opentelemetry/api; retry-client/otel needs only that optional peer", () => {
    const app = join(project, "app");
    // Nothing the main entry reaches imports it (the peer is not installed here).
    const { files, bad } = reachableImports("index.node.js", "@opentelemetry/");
    expect(files).toBeGreaterThan(10);
    expect(bad).toEqual([]);
    const script = `
      const { RetryClient } = await import("retry-client");
      const client = new RetryClient({ env: {}, instrumentation: [] });
      try {
        const { openTelemetry } = await import("retry-client/otel");
        const listener = openTelemetry();
        console.log(typeof client.complete, "loaded", typeof listener.onCallStart);
      } catch (error) {
        console.log(typeof client.complete, error.code, /@opentelemetry\\/api/.test(error.message));
      }`;
    expect(run("node", ["--input-type=module", "-e", script], app).trim()).toBe(
      "function ERR_MODULE_NOT_FOUND true",
    );
    run(
      "npm",
      ["install", "@opentelemetry/api@^1.9.0", "--no-audit", "--no-fund", "--prefer-offline"],
      app,
    );
    expect(run("node", ["--input-type=module", "-e", script], app).trim()).toBe(
      "function loaded function",
    );
  }, 120_000);

  it("has types that resolve for ESM consumers (arethetypeswrong, esm-only profile)", () => {
    const attw = join(root, "node_modules", ".bin", "attw");
    // An ESM-only package: CommonJS `require` and node10 resolution are out of scope.
    expect(() => run(attw, [tarball, "--profile", "esm-only"], root)).not.toThrow();
  });

  it("passes publint", () => {
    const out = run(
      join(root, "node_modules", ".bin", "publint"),
      ["run", "--strict", tarball],
      root,
    );
    expect(out).not.toMatch(/error|warning/i);
  });
});
