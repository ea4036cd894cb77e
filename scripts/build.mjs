#!/usr/bin/env node
// Builds dist/ from src/ with tsc: a clean output directory, then the executable bit on the
// binary. Plain Node so it runs the same on Windows, macOS and Linux (no rm -rf, no chmod).
import { spawnSync } from "node:child_process";
import { chmodSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(join(root, "dist"), { recursive: true, force: true });
// Two passes: the declarations keep their TSDoc; the JavaScript ships without comments (it keeps
// the package under 1 MiB installed).
for (const flags of [["--emitDeclarationOnly"], ["--removeComments", "--declaration", "false"]]) {
  const result = spawnSync(
    process.execPath,
    [tsc, "-p", join(root, "tsconfig.build.json"), ...flags],
    { cwd: root, stdio: "inherit" },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
// Only the declarations a public entry point reaches are shipped, and the JavaScript is indented
// by 2 spaces, not tsc's 4 (both keep the package under 1 MiB installed).
for (const script of ["prune-declarations.mjs", "compact-indent.mjs"]) {
  const result = spawnSync(process.execPath, [join(root, "scripts", script)], {
    cwd: root,
    stdio: "inherit",
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
// Windows has no executable bit (npm writes .cmd shims there); elsewhere the bin needs it.
if (process.platform !== "win32") chmodSync(join(root, "dist", "cli", "main.js"), 0o755);
