/**
 * The FileStateStore under real concurrency: 8 processes updating one file at once lose no
 * update and never leave a torn file.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileStateStore } from "../src/state/file-state-store.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const PROCESSES = 8;
const ROUNDS = 60;

let directory: string;
let worker: string;

/** Node 20 cannot run TypeScript: compile the store's modules to plain ESM for the children. */
function compileStore(into: string): void {
  const sources = [
    "src/state/file-state-store.ts",
    "src/state/state-store.ts",
    "src/state/warning-listeners.ts",
    "src/options.ts",
  ];
  for (const source of sources) {
    const { outputText } = ts.transpileModule(readFileSync(join(root, source), "utf8"), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    });
    const target = join(into, source.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(into, "package.json"), '{"type":"module"}');
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "retry-client-processes-"));
  compileStore(directory);
  worker = join(directory, "worker.js");
  writeFileSync(
    worker,
    `import { FileStateStore } from "./src/state/file-state-store.js";
const [path, rounds, id] = process.argv.slice(2);
const store = new FileStateStore({ path });
const warnings = [];
store.onWarning((warning) => warnings.push(warning.code));
for (let i = 0; i < Number(rounds); i++) {
  await store.update("counter", (n) => (n ?? 0) + 1);
  await store.addToWindow("budget", i % 2 ? "retries" : "requests", 1, 3_600_000);
  await store.update("worker:" + id, (n) => (n ?? 0) + 1, 3_600_000);
  if (await store.acquireLease("probe", id, 60_000)) {
    await store.update("probes", (list) => [...(list ?? []), id]);
    await store.releaseLease("probe", id);
  }
}
process.stdout.write(JSON.stringify({ warnings }));
`,
  );
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function run(path: string, id: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [worker, path, String(ROUNDS), id], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("FileStateStore across processes", () => {
  it(`${PROCESSES} processes updating one file lose no update and never tear it`, async () => {
    const path = join(directory, "shared", "state.json");
    let reads = 0;
    let running = true;
    const torn: string[] = [];
    // Meanwhile, read the raw file as fast as possible: it must always parse.
    const reader = (async () => {
      while (running) {
        try {
          const text = readFileSync(path, "utf8");
          reads++;
          try {
            JSON.parse(text);
          } catch {
            torn.push(text.slice(0, 80));
          }
        } catch {
          // Not created yet.
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, (_, index) => run(path, `w${index}`)),
    );
    running = false;
    await reader;

    for (const { code, output } of results) {
      expect(code).toBe(0);
      expect(JSON.parse(output).warnings).toEqual([]);
    }
    expect(torn).toEqual([]);
    expect(reads).toBeGreaterThan(0);

    const store = new FileStateStore({ path });
    expect(await store.get("counter")).toBe(PROCESSES * ROUNDS);
    expect(await store.addToWindow("budget", "requests", 0, 3_600_000)).toEqual({
      requests: (PROCESSES * ROUNDS) / 2,
      retries: (PROCESSES * ROUNDS) / 2,
    });
    for (let index = 0; index < PROCESSES; index++)
      expect(await store.get(`worker:w${index}`)).toBe(ROUNDS);
    // Every probe was recorded, and the lease is free at the end.
    const probes = (await store.get<string[]>("probes")) ?? [];
    expect(probes.length).toBeGreaterThan(0);
    expect(await store.acquireLease("probe", "checker", 1000)).toBe(true);
    expect(readFileSync(path, "utf8")).not.toContain(".tmp");
  }, 60_000);
});
