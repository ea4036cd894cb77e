// Child process: starts the simulator from the dist snapshot and prints `READY <url>` on stdout.
// Options come as one JSON argument. Stops on SIGTERM or when its parent's stdin closes.
import { startSimulator } from "../.dist/simulator/index.js";

const options = JSON.parse(process.argv[2] ?? "{}");
const sim = await startSimulator({ maxLogEntries: 200_000, ...options });
process.stdout.write(`READY ${sim.url}\n`);

let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  await Promise.race([sim.close(), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
