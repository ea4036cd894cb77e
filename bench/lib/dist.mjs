// Builds dist/ when it is missing or older than src/, then copies it to bench/.dist: a rebuild by
// someone else (which starts with `rm -rf dist`) cannot pull it away from a run in progress.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR } from "./proc.mjs";

const ROOT = join(BENCH_DIR, "..");

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (p.endsWith(".ts") && !p.endsWith(".test.ts"))
      newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Returns the path of the snapshot to import from. Exits the process when nothing usable exists. */
export function prepareDist(log = console.log) {
  const entry = join(ROOT, "dist/index.node.js");
  if (!existsSync(entry) || statSync(entry).mtimeMs < newestMtime(join(ROOT, "src"))) {
    log("dist/ is missing or older than src/: npm run build");
    const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
    if (r.status !== 0) {
      if (!existsSync(entry) || !existsSync(join(ROOT, "dist/simulator/index.js"))) {
        console.error("the build failed and dist/ is not usable");
        process.exit(1);
      }
      log("warning: the build reported an error, but dist/ has the library and the simulator");
    }
  }
  const dist = join(BENCH_DIR, ".dist");
  rmSync(dist, { recursive: true, force: true });
  cpSync(join(ROOT, "dist"), dist, { recursive: true });
  return dist;
}
