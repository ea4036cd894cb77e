// What machine and which versions a run measured.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";

const require = createRequire(import.meta.url);

function osName() {
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(release)?.[1];
    if (pretty) return `${pretty} (${os.type()} ${os.release()})`;
  } catch {}
  return `${os.type()} ${os.release()}`;
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    node: process.version,
  };
}

/** Versions read from each package's own package.json. */
export function versions(names) {
  const out = {};
  for (const name of names) {
    try {
      out[name] = require(`${name}/package.json`).version;
    } catch {
      // Some packages do not export ./package.json: walk to it by the entry's path.
      try {
        const entry = require.resolve(name);
        const at = entry.lastIndexOf(`/node_modules/${name}/`);
        out[name] = JSON.parse(
          readFileSync(`${entry.slice(0, at)}/node_modules/${name}/package.json`, "utf8"),
        ).version;
      } catch {
        out[name] = "unknown";
      }
    }
  }
  return out;
}
