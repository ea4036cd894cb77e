/**
 * Packaging, as a user meets it: a fresh `git clone` of HEAD (no dist/), `npm pack` there with no
 * explicit build (the `prepack` script must build), the tarball installed into an empty project.
 * Then: the binary runs, every export imports through its condition, README links resolve, no
 * shipped file cites the specification, the metadata a registry page shows is set, and the
 * installed size stays ≤ 1 MiB.
 *
 * Speed: the clone reuses this checkout's node_modules through a symlink instead of `npm ci`
 * (same lockfile, so the same tree; `npm ci` would download ~100 MB per run). A real install
 * from the git repository (`npm install git+file://…`) is opt-in, see the end of the file.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
let work: string;
let clone: string;
let app: string;
let tarball: string;
let packedFiles: string[];

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

const installed = () => join(app, "node_modules", "retry-client");

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
    app,
  );
  return JSON.parse(out) as { files: number; bad: string[] };
}

describe("the package packed from a fresh clone", () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "retry-client-pack-"));
    clone = join(work, "clone");
    run("git", ["clone", "--quiet", "--shared", root, clone], work);
    expect(existsSync(join(clone, "dist"))).toBe(false);
    symlinkSync(join(root, "node_modules"), join(clone, "node_modules"), "junction");
    // `prepare` is what npm runs after installing a clone's dependencies, and when it installs
    // the package from a git repository: it must build the missing dist/.
    run("npm", ["run", "prepare", "--silent"], clone);
    expect(existsSync(join(clone, "dist", "cli", "main.js"))).toBe(true);
    rmSync(join(clone, "dist"), { recursive: true, force: true });
    // Lifecycle scripts may print before npm's JSON report: it starts at the first "[" line.
    const report = run(
      "npm",
      ["pack", "--json", "--pack-destination", work, "--loglevel=error"],
      clone,
    );
    const packed = JSON.parse(report.slice(report.search(/^\[/m)));
    tarball = join(work, packed[0].filename);
    packedFiles = packed[0].files.map((f: { path: string }) => f.path);
    app = join(work, "app");
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "app", version: "1.0.0", type: "module", private: true }),
    );
    run(
      "npm",
      ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--omit=peer"],
      app,
    );
  }, 180_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("prepack built dist/: the tarball ships the build, the README and the licence", () => {
    expect(packedFiles).toContain("dist/index.js");
    expect(packedFiles).toContain("dist/index.node.js");
    expect(packedFiles).toContain("dist/index.node.d.ts");
    expect(packedFiles).toContain("dist/redis.js");
    expect(packedFiles).toContain("dist/otel/index.js");
    expect(packedFiles).toContain("dist/simulator/index.js");
    expect(packedFiles).toContain("dist/cli/main.js");
    expect(packedFiles).toContain("README.md");
    expect(packedFiles).toContain("LICENSE");
    expect(packedFiles.filter((f) => f.startsWith("src/") || f.includes(".test."))).toEqual([]);
  });

  it("runs the retry-client binary from node_modules/.bin", () => {
    const bin = join(app, "node_modules", ".bin", "retry-client");
    expect(run(bin, ["--version"], app).trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(run(bin, ["send", "--help"], app)).toContain("OPENAI_API_KEY");
  });

  it("without ioredis, --state redis://… is a usage error saying how to install it (npx too)", () => {
    const bin = join(app, "node_modules", ".bin", "retry-client");
    const r = spawnSync(bin, ["--state", "redis://127.0.0.1:1", "circuits"], {
      cwd: app,
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("npm install ioredis");
    expect(r.stderr).toContain("npx -p retry-client -p ioredis retry-client");
    expect(r.stdout).toBe("");
    const json = spawnSync(bin, ["--json", "--state", "redis://127.0.0.1:1", "circuits"], {
      cwd: app,
      encoding: "utf8",
    });
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ name: "UsageError" });
    expect(JSON.parse(json.stdout).error.message).toContain("ioredis");
  });

  it("imports the public API on Node (node condition) and the simulator subpath", () => {
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
      const sim = await import("retry-client/simulator");
      console.log(JSON.stringify({ ok: true, sim: typeof sim.startSimulator }));
    `;
    const out = run("node", ["--input-type=module", "-e", script], app);
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
      app,
    );
    expect(out.trim()).toBe("function false");
    const { bad } = reachableImports("index.js", "node:");
    expect(bad).toEqual([]);
  });

  it("every link of the README resolves on a registry page: an absolute URL or a shipped file", () => {
    const readme = readFileSync(join(installed(), "README.md"), "utf8");
    const links = [...readme.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] ?? "");
    const references = [...readme.matchAll(/^\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1] ?? "");
    const all = [...links, ...references];
    expect(all.length).toBeGreaterThan(0);
    const broken = all.filter((link) => {
      if (/^https?:\/\//.test(link) || link.startsWith("#") || link.startsWith("mailto:"))
        return false;
      return !existsSync(join(installed(), link.split("#")[0] ?? ""));
    });
    expect(broken).toEqual([]);
  });

  it("docs/simulator.md names as exported only what retry-client/simulator exports", () => {
    const doc = readFileSync(join(root, "docs", "simulator.md"), "utf8");
    const listed = doc.slice(
      doc.indexOf("- Also exported:"),
      doc.indexOf("\n\n", doc.indexOf("- Also exported:")),
    );
    const names = [...listed.matchAll(/`([A-Za-z_]\w*)`/g)].map((m) => m[1] ?? "");
    expect(names.length).toBeGreaterThan(10);
    const types = readFileSync(join(installed(), "dist", "simulator", "index.d.ts"), "utf8");
    expect(names.filter((name) => !new RegExp(`\\b${name}\\b`).test(types))).toEqual([]);
    expect(types).toMatch(/\bstartSimulator\b/);
  });

  it("no shipped file cites the specification", () => {
    const cites = filesUnder(installed())
      .filter((f) => /\.(d\.ts|js|md|json)$/.test(f))
      .filter((f) => /\bSPEC\b|SPEC\.md|§/.test(readFileSync(f, "utf8")))
      .map((f) => f.slice(installed().length + 1));
    expect(cites).toEqual([]);
  });

  it("names its repository, homepage and issue tracker", () => {
    const pkg = JSON.parse(readFileSync(join(installed(), "package.json"), "utf8"));
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\/.+\.git$/);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.bugs.url).toMatch(/^https:\/\/.+\/issues$/);
  });

  it("weighs at most 1 MiB installed with its runtime dependencies", () => {
    const bytes = sizeOf(join(app, "node_modules"));
    console.log(
      `installed size: ${(bytes / 1024).toFixed(0)} KiB (package + runtime dependencies)`,
    );
    expect(bytes).toBeLessThanOrEqual(1024 * 1024);
  });

  it("retry-client/redis needs only the optional ioredis peer, installed by the user", () => {
    const script = `
      try { await import("retry-client/redis"); console.log("loaded"); }
      catch (error) { console.log(error.code, /ioredis/.test(error.message)); }`;
    expect(run("node", ["--input-type=module", "-e", script], app).trim()).toBe(
      "ERR_MODULE_NOT_FOUND true",
    );
    run("npm", ["install", "ioredis", "--no-audit", "--no-fund", "--prefer-offline"], app);
    expect(run("node", ["--input-type=module", "-e", script], app).trim()).toBe("loaded");
  }, 120_000);

  it("the main entry never loads @opentelemetry/api; retry-client/otel needs only that optional peer", () => {
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

// npm installs every devDependency of the clone it makes (~40 s or more): opt in with
// RETRY_CLIENT_TEST_GIT_INSTALL=1. The default run checks `prepare` in the fresh clone above.
describe.runIf(process.env.RETRY_CLIENT_TEST_GIT_INSTALL === "1")(
  "installing from the git repository",
  () => {
    it("builds dist/ through `prepare`: the binary runs and the package imports", () => {
      const dir = mkdtempSync(join(tmpdir(), "retry-client-git-"));
      try {
        writeFileSync(
          join(dir, "package.json"),
          JSON.stringify({ name: "git-app", version: "1.0.0", type: "module", private: true }),
        );
        // npm clones the repository, installs its devDependencies and runs `prepare` there.
        run(
          "npm",
          [
            "install",
            `git+file://${root}`,
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
            "--omit=peer",
          ],
          dir,
        );
        const bin = join(dir, "node_modules", ".bin", "retry-client");
        expect(run(bin, ["--version"], dir).trim()).toMatch(/^\d+\.\d+\.\d+/);
        const out = run(
          "node",
          [
            "--input-type=module",
            "-e",
            `import { RetryClient } from "retry-client"; console.log(typeof RetryClient);`,
          ],
          dir,
        );
        expect(out.trim()).toBe("function");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 180_000);
  },
);

describe("the build and install scripts", () => {
  it("use no POSIX-only shell commands (they run on Windows)", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    for (const name of ["build", "prepare", "prepack"]) {
      expect(pkg.scripts[name]).toBeDefined();
      expect(pkg.scripts[name]).not.toMatch(/\brm\b|\bchmod\b|\bcp\b|&&|\bmkdir\b/);
    }
  });
});
