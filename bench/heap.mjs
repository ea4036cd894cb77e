// `node --expose-gc bench/heap.mjs [contestant] [--streams=1000] [--dist=DIR]`: what one open stream keeps on
// the JS heap. Opens the streams (the simulator stalls each after 2 tokens), takes a heap
// snapshot before and after, and prints the growth by constructor, per stream.
import { getHeapSnapshot } from "node:v8";
import { makeContestant } from "./lib/contestants.mjs";
import { prepareDist } from "./lib/dist.mjs";
import { startSimulatorProcess } from "./lib/proc.mjs";

const args = process.argv.slice(2);
const id = args.find((a) => !a.startsWith("--")) ?? "retry-client";
const n = Number(args.find((a) => a.startsWith("--streams="))?.split("=")[1] ?? 1000);

async function snapshot() {
  globalThis.gc?.();
  let json = "";
  for await (const chunk of getHeapSnapshot()) json += chunk;
  const snap = JSON.parse(json);
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = f.length;
  const [iType, iName, iSize] = ["type", "name", "self_size"].map((x) => f.indexOf(x));
  const out = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]];
    const name =
      type === "object" || type === "closure" ? snap.strings[snap.nodes[i + iName]] : `(${type})`;
    const key = type === "closure" ? `closure ${name}` : name;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + iSize];
    out.set(key, e);
  }
  return out;
}

// `--dist` measures another build (e.g. a copy of main's dist/, for a before/after).
const dist = args.find((a) => a.startsWith("--dist="))?.slice("--dist=".length) ?? prepareDist();
const sim = await startSimulatorProcess({ maxLogEntries: 100 });
try {
  const warm = await makeContestant(id, { url: sim.url, dist });
  for (let i = 0; i < 20; i++) await warm.stream("warm up");
  const c = await makeContestant(id, { url: sim.url, dist, model: "gpt-4o-mini~stall-after-2" });
  const before = await snapshot();
  let ready = 0;
  await new Promise((resolve) => {
    for (let i = 0; i < n; i++) {
      let seen = false;
      c.stream(`heap-${i}`, () => {
        if (!seen && ++ready === n) resolve();
        seen = true;
      }).catch(() => {});
    }
    setTimeout(resolve, 30_000);
  });
  const after = await snapshot();
  const rows = [...after]
    .map(([k, a]) => {
      const b = before.get(k) ?? { count: 0, size: 0 };
      return [k, (a.count - b.count) / ready, (a.size - b.size) / ready];
    })
    .filter((r) => r[2] > 0)
    .sort((x, y) => y[2] - x[2]);
  const total = rows.reduce((s, r) => s + r[2], 0);
  console.log(
    `${id}: ${ready} streams open; heap growth ${(total / 1024).toFixed(2)} KiB per stream`,
  );
  for (const [k, count, size] of rows.slice(0, 30))
    console.log(
      `  ${size.toFixed(0).padStart(6)} B  ${count.toFixed(2).padStart(6)} objects  ${k}`,
    );
} finally {
  await sim.close();
}
process.exit(0);
