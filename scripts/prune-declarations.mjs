// After the build: deletes the `.d.ts` files no public entry point reaches (the CLI's, the
// gateway's, internal helpers'). Users' types are unchanged — every declaration an export can
// reach stays — and the installed package stays under its 1 MiB budget.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

const entries = new Set();
const collect = (value) => {
  if (typeof value === "string") {
    if (value.endsWith(".d.ts")) entries.add(normalize(join(root, value)));
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) collect(v);
  }
};
collect(pkg.exports);
if (pkg.types) collect(pkg.types);

const reached = new Set();
const stack = [...entries];
while (stack.length > 0) {
  const file = stack.pop();
  if (reached.has(file) || !existsSync(file)) continue;
  reached.add(file);
  const text = readFileSync(file, "utf8");
  for (const match of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    const target = normalize(join(dirname(file), match[1])).replace(/\.js$/, "");
    stack.push(target.endsWith(".d.ts") ? target : `${target}.d.ts`);
    stack.push(join(target, "index.d.ts"));
  }
}

let removed = 0;
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (path.endsWith(".d.ts") && !reached.has(path)) {
      rmSync(path);
      removed += 1;
    }
  }
};
walk(join(root, "dist"));
if (process.env.npm_config_loglevel !== "silent")
  console.error(`prune-declarations: kept ${reached.size} .d.ts files, removed ${removed}`);
