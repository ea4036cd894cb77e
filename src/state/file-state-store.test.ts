import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Warning } from "../types.js";
import { defaultStatePath, FileStateStore } from "./file-state-store.js";

let directory: string;
let path: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "retry-client-file-store-"));
  path = join(directory, "nested", "state.json");
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

function collect(store: FileStateStore): Warning[] {
  const warnings: Warning[] = [];
  store.onWarning((warning) => warnings.push(warning));
  return warnings;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("defaultStatePath", () => {
  it("uses XDG_STATE_HOME, else ~/.local/state", () => {
    expect(defaultStatePath({ XDG_STATE_HOME: "/x/state" })).toBe(
      "/x/state/retry-client/state.json",
    );
    expect(defaultStatePath({})).toMatch(/\.local\/state\/retry-client\/state\.json$/);
  });
});

describe("FileStateStore", () => {
  it("creates the directory and writes a valid JSON file, without leftovers", async () => {
    const store = new FileStateStore({ path });
    await store.set("breaker:a", { state: "open" }, 60_000);
    await store.addToWindow("budget:a", "requests", 2, 10_000);
    const file = JSON.parse(readFileSync(path, "utf8"));
    expect(file.version).toBe(1);
    expect(file.entries["breaker:a"].value).toEqual({ state: "open" });
    expect(typeof file.entries["breaker:a"].expiresAt).toBe("number");
    expect(Object.keys(file.windows)).toEqual(["budget:a"]);
    expect(existsSync(`${path}.lock`)).toBe(false);
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(join(directory, "nested"))).toEqual(["state.json"]);
  });

  it("drops expired entries from the file when it writes", async () => {
    let now = 1_000_000;
    const store = new FileStateStore({ path, now: () => now });
    await store.set("short", 1, 100);
    await store.set("kept", 2);
    now += 200;
    await store.set("other", 3);
    const file = JSON.parse(readFileSync(path, "utf8"));
    expect(Object.keys(file.entries).sort()).toEqual(["kept", "other"]);
  });

  it("sees writes made by another process (cache invalidated by the file changing)", async () => {
    const store = new FileStateStore({ path });
    await store.set("k", 1);
    expect(await store.get("k")).toBe(1);
    const other = new FileStateStore({ path });
    await other.set("k", 2);
    expect(await store.get("k")).toBe(2);
  });

  it("a corrupted file gives one warning and a fresh state, and is kept aside", async () => {
    const store = new FileStateStore({ path });
    const warnings = collect(store);
    await store.set("k", 1);
    writeFileSync(path, '{"version":1,"entries":{"k":{"val');
    expect(await store.get("k")).toBeUndefined();
    expect(await store.entries("")).toEqual([]);
    expect(warnings.map((warning) => warning.code)).toEqual(["state-file-corrupt"]);
    await store.set("k", 2);
    expect(await store.get("k")).toBe(2);
    expect(JSON.parse(readFileSync(path, "utf8")).entries.k.value).toBe(2);
    expect(readFileSync(`${path}.corrupt`, "utf8")).toContain('"val');
    expect(warnings).toHaveLength(1);
  });

  it.each([
    ["not JSON", "garbage\u0000"],
    ["wrong shape", '{"version":1,"entries":[],"windows":{}}'],
    ["wrong version", '{"version":9,"entries":{},"windows":{}}'],
    ["bad window", '{"version":1,"entries":{},"windows":{"w":{"windowMs":"x"}}}'],
    ["empty", ""],
  ])("treats a file with %s as corrupted, never crashing", async (_name, text) => {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(directory, "nested"), { recursive: true });
    writeFileSync(path, text);
    const store = new FileStateStore({ path });
    const warnings = collect(store);
    expect(await store.get("w")).toBeUndefined();
    expect(await store.addToWindow("w", "requests", 1, 10_000)).toEqual({ requests: 1 });
    expect(await store.update<number>("n", (n) => (n ?? 0) + 1)).toBe(1);
    expect(warnings[0]?.code).toBe("state-file-corrupt");
  });

  it("breaks a lock left by a dead process at once", async () => {
    const store = new FileStateStore({ path, staleLockMs: 60_000 });
    const warnings = collect(store);
    await store.set("k", 1);
    writeFileSync(
      `${path}.lock`,
      JSON.stringify({ pid: deadPid(), host: hostname(), token: "dead", at: Date.now() }),
    );
    const started = Date.now();
    await store.update<number>("k", (n) => (n ?? 0) + 1);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await store.get("k")).toBe(2);
    expect(warnings.map((warning) => warning.code)).toContain("state-file-stale-lock");
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("breaks a lock older than staleLockMs even when its holder cannot be checked", async () => {
    const store = new FileStateStore({ path, staleLockMs: 200 });
    await store.set("k", 1);
    // A live-looking holder on another host: only its age can tell.
    writeFileSync(
      `${path}.lock`,
      JSON.stringify({ pid: 1, host: "elsewhere", token: "x", at: Date.now() }),
    );
    const started = Date.now();
    await store.update<number>("k", (n) => (n ?? 0) + 1);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(2000);
    expect(await store.get("k")).toBe(2);
  });

  it("breaks an old lock file with no readable content", async () => {
    const store = new FileStateStore({ path, staleLockMs: 1000 });
    await store.set("k", 1);
    writeFileSync(`${path}.lock`, "");
    const past = new Date(Date.now() - 5000);
    utimesSync(`${path}.lock`, past, past);
    await store.set("k", 2);
    expect(await store.get("k")).toBe(2);
  });

  it("waits for a live lock, and after lockTimeoutMs goes on without it with a warning", async () => {
    const store = new FileStateStore({ path, lockTimeoutMs: 150, staleLockMs: 60_000 });
    const warnings = collect(store);
    await store.set("k", 1);
    writeFileSync(
      `${path}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), token: "held", at: Date.now() }),
    );
    const started = Date.now();
    await store.set("k", 2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(await store.get("k")).toBe(2);
    expect(warnings.map((warning) => warning.code)).toEqual(["state-file-lock-timeout"]);
    // The other holder's lock is left alone.
    expect(JSON.parse(readFileSync(`${path}.lock`, "utf8")).token).toBe("held");
  });

  it("a lock released while waiting is taken promptly", async () => {
    const store = new FileStateStore({ path, staleLockMs: 60_000 });
    await store.set("k", 1);
    writeFileSync(
      `${path}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), token: "held", at: Date.now() }),
    );
    setTimeout(() => rmSync(`${path}.lock`), 100);
    const started = Date.now();
    await store.set("k", 2);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await store.get("k")).toBe(2);
  });

  it("an unusable location warns once and keeps working in memory", async () => {
    const blocker = join(directory, "a-file");
    writeFileSync(blocker, "not a directory");
    const store = new FileStateStore({ path: join(blocker, "state.json") });
    const warnings = collect(store);
    await store.set("k", 1);
    expect(await store.get("k")).toBe(1);
    expect(await store.update<number>("k", (n) => (n ?? 0) + 1)).toBe(2);
    expect(await store.acquireLease("probe", "a", 60_000)).toBe(true);
    expect(await store.acquireLease("probe", "b", 60_000)).toBe(false);
    expect(await store.addToWindow("w", "requests", 1, 10_000)).toEqual({ requests: 1 });
    expect(warnings.map((warning) => warning.code)).toEqual(["state-file-unusable"]);
  });

  it("validates its options", () => {
    expect(() => new FileStateStore({ path, lockTimeoutMs: -1 })).toThrow(/lockTimeoutMs.*-1/);
    expect(() => new FileStateStore({ path, staleLockMs: Number.NaN })).toThrow(RangeError);
  });

  it("unsubscribes warning listeners", async () => {
    const store = new FileStateStore({ path });
    const warnings: Warning[] = [];
    const unsubscribe = store.onWarning((warning) => warnings.push(warning));
    unsubscribe();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(directory, "nested"), { recursive: true });
    writeFileSync(path, "garbage");
    await store.get("k");
    expect(warnings).toEqual([]);
  });
});
