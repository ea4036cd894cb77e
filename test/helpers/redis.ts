import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createConnection, createServer } from "node:net";
import { delimiter, join } from "node:path";

/** A redis-server this test file started (or the one `REDIS_URL` points at). */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** False when the server is `REDIS_URL`'s: it cannot be killed or restarted. */
  readonly owned: boolean;
  /** Kills the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

/** Where redis-server is on PATH (or the usual places), if anywhere. */
export function findRedisServer(): string | undefined {
  const directories = [
    ...(process.env.PATH ?? "").split(delimiter),
    "/usr/bin",
    "/usr/local/bin",
    "/usr/sbin",
    "/opt/homebrew/bin",
  ];
  for (const directory of directories) {
    if (!directory) continue;
    const candidate = join(directory, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * Whether Redis tests can run here. Under `CI=true` a missing Redis is a failure, never a skip:
 * callers turn `missing` into a failing test.
 */
export function redisAvailability(options: { needsOwnServer?: boolean } = {}): {
  available: boolean;
  reason: string;
  mustFail: boolean;
} {
  const ownServer = findRedisServer() !== undefined;
  const available = ownServer || (!options.needsOwnServer && Boolean(process.env.REDIS_URL));
  return {
    available,
    reason: available
      ? ""
      : "redis-server not found (install it: scripts/ensure-redis.sh, or set REDIS_URL)",
    mustFail: !available && process.env.CI === "true",
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something answers PING with PONG on the port. */
async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port });
      socket.setTimeout(200);
      socket.on("connect", () => socket.write("PING\r\n"));
      socket.on("data", (data) => {
        socket.destroy();
        resolve(data.toString().startsWith("+PONG"));
      });
      socket.on("error", () => resolve(false));
      socket.on("timeout", () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function spawnServer(binary: string, port: number): ChildProcess {
  const child = spawn(
    binary,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
    ],
    { stdio: "ignore" },
  );
  child.on("error", () => {});
  return child;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once("exit", resolve));
}

/**
 * Starts a redis-server on a free loopback port for this test file (no persistence), or uses
 * `REDIS_URL` when set and `ownServer` is not required. Stop it in `afterAll`.
 */
export async function startRedis(options: { ownServer?: boolean } = {}): Promise<RedisServer> {
  if (process.env.REDIS_URL && !options.ownServer) {
    const url = process.env.REDIS_URL;
    const noKill = async () => {
      throw new Error("cannot kill or restart the REDIS_URL server");
    };
    return {
      url,
      port: Number(new URL(url).port || 6379),
      owned: false,
      kill: noKill,
      restart: noKill,
      stop: async () => {},
    };
  }
  const binary = findRedisServer();
  if (!binary) throw new Error(redisAvailability().reason);
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    let child = spawnServer(binary, port);
    try {
      await waitForPong(port, 5000);
    } catch (error) {
      lastError = error;
      child.kill("SIGKILL");
      continue; // the port was taken meanwhile: try another
    }
    const server: RedisServer = {
      url: `redis://127.0.0.1:${port}`,
      port,
      owned: true,
      async kill() {
        child.kill("SIGKILL");
        await exited(child);
      },
      async restart() {
        child = spawnServer(binary, port);
        await waitForPong(port, 5000);
      },
      async stop() {
        child.kill("SIGKILL");
        await exited(child);
      },
    };
    return server;
  }
  throw lastError;
}
