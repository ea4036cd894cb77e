// Suite 3: RSS with thousands of streams open at once.
import { BENCH_DIR, runChild, startSimulatorProcess } from "../lib/proc.mjs";

export const MEMORY_CONTESTANTS = [
  ["floor-http", "floor: bare node:http"],
  ["floor-fetch", "floor: bare fetch"],
  ["retry-client", "retry-client (node:http transport)"],
  ["retry-client-fetch", "retry-client (injected fetch)"],
];

export async function runMemory({ quick, dist, log, only }) {
  const n = quick ? 2000 : 5000;
  const rows = [];
  for (const [id, label] of MEMORY_CONTESTANTS.filter(([x]) => !only || only.includes(x))) {
    // A fresh simulator per contestant: it must hold n sockets, and none left from the last one.
    const sim = await startSimulatorProcess({ tokenDelayMs: 0, maxLogEntries: 100 });
    try {
      const r = await runChild(
        `${BENCH_DIR}workers/memory.mjs`,
        {
          id,
          url: sim.url,
          dist,
          n,
          warmModel: "gpt-4o-mini",
          model: "gpt-4o-mini~stall-after-2",
          maxSeconds: 60,
        },
        { nodeArgs: ["--expose-gc"], timeoutMs: 120_000 },
      );
      rows.push({ id, label, ...r });
      log(
        `  ${id.padEnd(19)} ${r.streams} streams open  RSS ${r.rssMiB.toFixed(0)} MiB (+${r.rssDeltaMiB.toFixed(0)} MiB, ${r.kibPerStream?.toFixed(1)} KiB/stream)${r.failed ? `  failed ${r.failed}: ${r.firstError}` : ""}`,
      );
    } catch (error) {
      log(`  ${id} failed: ${error.message}`);
      rows.push({ id, label, failed: true, error: error.message });
    } finally {
      await sim.close();
    }
  }
  const floor = rows.find((r) => r.id === "floor-http" && !r.failed);
  const fetchFloor = rows.find((r) => r.id === "floor-fetch" && !r.failed);
  for (const r of rows) {
    if (r.failed) continue;
    if (floor) r.vsHttpFloor = r.rssMiB / floor.rssMiB;
    if (fetchFloor) r.vsFetchFloor = r.rssMiB / fetchFloor.rssMiB;
  }
  return { streams: n, rows };
}
