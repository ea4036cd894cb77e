/**
 * Every ```ts code block of README.md typechecks under the strictest settings users run
 * (`strict`, `exactOptionalPropertyTypes`, `noUncheckedIndexedAccess`), against the package's
 * source types — so the README cannot drift from the API again.
 *
 * Conventions for README authors:
 * - each block is its own module; top-level `await` is fine;
 * - a block without `import` lines gets `import { … } from "retry-client"` of the common names
 *   (and `openTelemetry` from `retry-client/otel`);
 * - free variables a fragment uses (`apiKey`, `baseURL`, `log`, `messages`, `client`, …) are declared in
 *   the ambient prelude below; a block can declare more in an HTML comment right above it:
 *   `<!-- ts-prelude: declare const tools: Tool[]; -->`;
 * - a block that is not meant to compile (pseudo-code) says so right above it: `<!-- ts-skip -->`.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const work = join(root, ".tmp", "readme-examples");

/** The ```ts blocks of a Markdown text, with the line each starts at and its HTML-comment hints. */
function tsBlocks(
  markdown: string,
): Array<{ line: number; code: string; prelude: string; skip: boolean }> {
  const blocks: Array<{ line: number; code: string; prelude: string; skip: boolean }> = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!.trim())) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== "```"; i++) body.push(lines[i]!);
    let prelude = "";
    let skip = false;
    for (let j = start - 1; j >= 0 && /^\s*(<!--.*-->)?\s*$/.test(lines[j]!); j--) {
      const hint = /<!--\s*ts-(prelude|skip)\s*:?\s*(.*?)\s*-->/.exec(lines[j]!);
      if (hint?.[1] === "skip") skip = true;
      if (hint?.[1] === "prelude") prelude += `${hint[2]}\n`;
      if (lines[j]!.trim() === "") break;
    }
    blocks.push({ line: start + 1, code: body.join("\n"), prelude, skip });
  }
  return blocks;
}

const COMMON_IMPORTS =
  'import { RetryClient, Message, retry, withRetry, CircuitBreaker, circuitBreaker, FallbackChain, OpenAIProvider, AnthropicProvider, AzureOpenAIProvider, MemoryStateStore, RetryClientError, RateLimitError, InvalidRequestError } from "retry-client";\n' +
  'import { openTelemetry } from "retry-client/otel";\n';

const AMBIENT = `
declare const apiKey: string;
declare const baseURL: string;
declare const log: { warn(...args: unknown[]): void; info(...args: unknown[]): void };
declare const messages: import("retry-client").ChatMessage[];
declare const msgs: import("retry-client").ChatMessage[];
declare const url: string;
declare const client: import("retry-client").RetryClient;
`;

describe("README examples", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const blocks = tsBlocks(readme);

  it("finds the README's TypeScript blocks", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(tsBlocks("x\n<!-- ts-skip -->\n```ts\nnope(\n```\n")).toMatchObject([{ skip: true }]);
  });

  it("every ```ts block typechecks under exactOptionalPropertyTypes", async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const files: string[] = [];
    for (const [index, block] of blocks.entries()) {
      if (block.skip) continue;
      const imports = /^\s*import\s/m.test(block.code) ? "" : COMMON_IMPORTS;
      const name = `block-${String(index + 1).padStart(2, "0")}-line-${block.line}.ts`;
      writeFileSync(join(work, name), `${imports}${block.prelude}${block.code}\nexport {};\n`);
      files.push(name);
    }
    writeFileSync(join(work, "ambient.d.ts"), AMBIENT);
    const src = (path: string) => [join(root, "src", path)];
    writeFileSync(
      join(work, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2023",
          lib: ["ES2023", "DOM"],
          module: "ESNext",
          moduleResolution: "Bundler",
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          noEmit: true,
          types: ["node"],
          typeRoots: [join(root, "node_modules", "@types")],
          paths: {
            "retry-client": src("index.node.ts"),
            "retry-client/redis": src("redis.ts"),
            "retry-client/simulator": src("simulator/index.ts"),
            "retry-client/otel": src("otel/index.ts"),
          },
        },
        files: ["ambient.d.ts", ...files],
      }),
    );
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const result = await promisify(execFile)(process.execPath, [tsc, "-p", work], {
      cwd: work,
    }).then(
      () => ({ ok: true, output: "" }),
      (error: { stdout?: string; stderr?: string }) => ({
        ok: false,
        output: `${error.stdout ?? ""}${error.stderr ?? ""}`,
      }),
    );
    // On failure the output names the block file, i.e. the README line it starts at.
    expect(result.output).toBe("");
    expect(result.ok).toBe(true);
  }, 60_000);
});
