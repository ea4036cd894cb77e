import ts from "typescript";
import { defineConfig, type Plugin } from "vitest/config";

/**
 * Vite's transformer does not lower TC39 (TS 5) decorators and Node 20 cannot run them, so the
 * files that test decorators as users write them (`*.decorators.test.ts`) go through `tsc` first.
 */
const tscDecorators: Plugin = {
  name: "tsc-decorators",
  enforce: "pre",
  transform(code, id) {
    if (!id.endsWith(".decorators.test.ts")) return null;
    const { outputText } = ts.transpileModule(code, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
      fileName: id,
    });
    return { code: outputText, map: null };
  },
};

export default defineConfig({
  plugins: [tscDecorators],
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: ".tmp/vitest-results.json" }]],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      exclude: ["src/**/*.test.ts"],
      reporter: ["text-summary", "text"],
    },
  },
});
