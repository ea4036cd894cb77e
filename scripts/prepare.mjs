#!/usr/bin/env node
// The `prepare` lifecycle script. npm runs it after `npm install` / `npm ci` in a clone and when
// it installs this package from a git repository (`npm install github:…`): the git checkout has
// no dist/, so build it. When dist/ is already newer than every source file it does nothing
// (a second `npm ci` costs no build), and without devDependencies (`npm ci --omit=dev`) it
// cannot build and says so instead of failing the install.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(root, "dist", "cli", "main.js");

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const sources = Math.max(
  newest(join(root, "src")),
  ...["tsconfig.json", "tsconfig.build.json"].map((f) => newest(join(root, f))),
);
if (existsSync(built) && statSync(built).mtimeMs >= sources) {
  console.error("retry-client: dist/ is up to date");
  process.exit(0);
}
try {
  createRequire(import.meta.url).resolve("typescript/bin/tsc");
} catch {
  console.error(
    "retry-client: typescript is not installed (devDependencies omitted): not building dist/",
  );
  process.exit(0);
}
const result = spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], {
  cwd: root,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
