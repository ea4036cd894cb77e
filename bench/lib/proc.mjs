// Spawning helpers: the simulator in its own process, and one child per measurement.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));

/**
 * Starts the simulator in a child process. Resolves `{ url, requests(), reset(), close() }`.
 * `requests()` reads the log over HTTP (`GET /__simulator/requests`).
 */
export function startSimulatorProcess(options = {}, { timeoutMs = 15_000 } = {}) {
  const child = spawn(
    process.execPath,
    [`${BENCH_DIR}lib/sim-server.mjs`, JSON.stringify(options)],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("simulator did not start in time"));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited with code ${code}`));
    });
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /READY (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const url = m[1];
      child.stdout.removeAllListeners("data");
      child.stdout.resume();
      resolve({
        url,
        pid: child.pid,
        async requests() {
          const res = await fetch(`${url}/__simulator/requests`);
          return res.json();
        },
        async reset() {
          await fetch(`${url}/__simulator/reset`, { method: "POST" });
        },
        close() {
          return new Promise((done) => {
            if (child.exitCode !== null) return done();
            const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
            child.once("exit", () => {
              clearTimeout(kill);
              done();
            });
            child.kill("SIGTERM");
          });
        },
      });
    });
  });
}

/**
 * Runs `node [nodeArgs] script arg` and resolves the JSON object the child prints on its last
 * stdout line. Rejects on a non-zero exit or after `timeoutMs` (the child is killed).
 */
export function runChild(script, arg, { nodeArgs = [], timeoutMs = 120_000, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, JSON.stringify(arg)], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      err += c;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split("\n").pop() ?? "";
      if (code !== 0) {
        reject(new Error(`${script} exited ${code ?? signal}: ${err.trim().slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(
          new Error(`${script} printed no JSON result: ${out.slice(-500)} ${err.slice(-500)}`),
        );
      }
    });
  });
}
