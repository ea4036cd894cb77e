import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { homedir, hostname } from "node:os";
import { dirname, join } from "node:path";
import { nonNegativeNumber } from "../options.js";
import type { Warning } from "../types.js";
import { type StateStore, WINDOW_BUCKETS, windowBucket } from "./state-store.js";
import { WarningListeners } from "./warning-listeners.js";

/** Options for {@link FileStateStore}. */
export interface FileStateStoreOptions {
  /** The state file. Its directory is created (mode 0700) when missing. @default defaultStatePath() */
  readonly path?: string | undefined;
  /** The clock used for TTLs and windows, injectable for tests. @default Date.now */
  readonly now?: (() => number) | undefined;
  /**
   * How long a mutating operation waits for the lock before going ahead without it (the write
   * stays atomic, so the file is never torn; a concurrent update may be lost) and warning.
   * Longer than `staleLockMs`, so that a waiter always gets to break a stale lock first.
   * @default 10000
   */
  readonly lockTimeoutMs?: number | undefined;
  /**
   * A lock older than this is considered abandoned and broken. A lock whose holder is a dead
   * process on this host is broken at once. Holders keep the lock for a few milliseconds.
   * @default 5000
   */
  readonly staleLockMs?: number | undefined;
  /** Called with every warning (corrupted or unwritable file, broken lock). */
  readonly onWarning?: ((warning: Warning) => void) | undefined;
}

/**
 * The default state file: `$XDG_STATE_HOME/retry-client/state.json`, else
 * `~/.local/state/retry-client/state.json`.
 */
export function defaultStatePath(env: Readonly<Record<string, string | undefined>> = process.env) {
  const base = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "retry-client", "state.json");
}

interface Entry {
  value: unknown;
  expiresAt: number;
}
interface WindowState {
  windowMs: number;
  buckets: Map<number, Map<string, number>>;
}
interface State {
  entries: Map<string, Entry>;
  windows: Map<string, WindowState>;
}

/** On-disk shape (version 1). `expiresAt` is omitted for entries that never expire. */
interface FileShape {
  version: 1;
  entries: Record<string, { value: unknown; expiresAt?: number }>;
  windows: Record<string, { windowMs: number; buckets: Record<string, Record<string, number>> }>;
}

const emptyState = (): State => ({ entries: new Map(), windows: new Map() });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const errorCode = (error: unknown) =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;

/**
 * State in one JSON file, shared by the processes of one machine: the CLI's default store.
 *
 * Every mutating operation is lock → read → modify → write → unlock. The lock is a file created
 * with `O_EXCL` next to the state file, holding the holder's pid, host and a token; a lock whose
 * holder is dead (same host) or that is older than `staleLockMs` is broken. Writes go to a
 * temporary file in the same directory, renamed over the state file, so readers (which take no
 * lock) always see a whole file. The parsed file is cached by inode, size and mtime.
 *
 * A corrupted file is moved aside (`state.json.corrupt`), reported through `onWarning`, and
 * replaced by a fresh state. When the file cannot be read or written at all (permissions, full
 * disk), operations go on in process memory and a warning is emitted once until it works again:
 * this store never throws and never fails a request.
 *
 * Writes are not fsynced: after a power loss the file may lose its last updates (never tear),
 * which for breaker and budget state only means a few requests more or less.
 *
 * @example
 * const store = new FileStateStore();                       // ~/.local/state/retry-client/state.json
 * const client = new RetryClient({ stateStore: store });
 */
export class FileStateStore implements StateStore {
  readonly kind = "file";
  /** The state file. */
  readonly path: string;
  readonly #lockPath: string;
  readonly #now: () => number;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;
  readonly #warnings: WarningListeners;
  #cache: { signature: string; state: State } | undefined;
  /** Where operations go while the file cannot be used at all. */
  #fallback: State | undefined;
  #warnedCorrupt: string | undefined;
  #directoryReady = false;

  constructor(options: FileStateStoreOptions = {}) {
    this.path = options.path ?? defaultStatePath();
    this.#lockPath = `${this.path}.lock`;
    this.#now = options.now ?? Date.now;
    this.#lockTimeoutMs = nonNegativeNumber("lockTimeoutMs", options.lockTimeoutMs ?? 10_000);
    this.#staleLockMs = nonNegativeNumber("staleLockMs", options.staleLockMs ?? 5_000);
    this.#warnings = new WarningListeners(options.onWarning);
  }

  now(): number {
    return this.#now();
  }

  onWarning(listener: (warning: Warning) => void): () => void {
    return this.#warnings.add(listener);
  }

  async get<T>(key: string): Promise<T | undefined> {
    const state = await this.#read();
    return live<T>(state.entries.get(key), this.#now());
  }

  async getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    const state = await this.#read();
    const now = this.#now();
    return keys.map((key) => live<T>(state.entries.get(key), now));
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    await this.#mutate((state, now) => write(state, key, value, ttlMs, now));
  }

  async update<T>(
    key: string,
    fn: (current: T | undefined) => T | undefined,
    ttlMs?: number,
  ): Promise<T | undefined> {
    return this.#mutate((state, now) => {
      const next = fn(live<T>(state.entries.get(key), now));
      write(state, key, next, ttlMs, now);
      return next;
    });
  }

  async delete(key: string): Promise<void> {
    await this.#mutate((state) => {
      state.entries.delete(key);
      state.windows.delete(key);
    });
  }

  async entries<T>(prefix: string): Promise<Array<[string, T]>> {
    const state = await this.#read();
    const now = this.#now();
    const out: Array<[string, T]> = [];
    for (const [key, entry] of state.entries) {
      if (!key.startsWith(prefix)) continue;
      const value = live<T>(entry, now);
      if (value !== undefined) out.push([key, value]);
    }
    return out;
  }

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.#mutate((state, now) => {
      const current = live<string>(state.entries.get(key), now);
      if (current !== undefined && current !== holder) return false;
      write(state, key, holder, ttlMs, now);
      return true;
    });
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    // Read first: releasing a lease we do not hold should not cost a lock.
    if ((await this.get<string>(key)) !== holder) return;
    await this.#mutate((state, now) => {
      if (live<string>(state.entries.get(key), now) === holder) state.entries.delete(key);
    });
  }

  async addToWindow(
    key: string,
    field: string,
    amount: number,
    windowMs: number,
  ): Promise<Record<string, number>> {
    if (amount === 0) return sumWindow((await this.#read()).windows.get(key), this.#now());
    return this.#mutate((state, now) => {
      let window = state.windows.get(key);
      if (!window) {
        window = { windowMs, buckets: new Map() };
        state.windows.set(key, window);
      }
      window.windowMs = windowMs;
      const current = windowBucket(now, windowMs);
      let bucket = window.buckets.get(current);
      if (!bucket) {
        bucket = new Map();
        window.buckets.set(current, bucket);
      }
      bucket.set(field, (bucket.get(field) ?? 0) + amount);
      return sumWindow(window, now);
    });
  }

  async close(): Promise<void> {
    this.#cache = undefined;
    this.#fallback = undefined;
  }

  // --- reading ---------------------------------------------------------------------------

  /** The current state, for reading only (it may be the shared cached object). */
  async #read(): Promise<State> {
    if (this.#fallback) return this.#fallback;
    try {
      return (await this.#load()).state;
    } catch (error) {
      this.#unusable(error);
      return this.#fallback ?? emptyState();
    }
  }

  /**
   * Loads the file (or the cache when the file did not change); throws when it cannot be read.
   * `corrupt` is true when the file exists but does not hold a valid state; the state is then a
   * fresh one.
   */
  async #load(): Promise<{ state: State; corrupt: boolean }> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.path, "r");
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
      this.#cache = undefined;
      return { state: emptyState(), corrupt: false };
    }
    try {
      const stat = await handle.stat({ bigint: true });
      const signature = `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
      if (this.#cache?.signature === signature) return { state: this.#cache.state, corrupt: false };
      const state = parse(await handle.readFile("utf8"));
      if (!state) {
        if (this.#warnedCorrupt !== signature) {
          this.#warnedCorrupt = signature;
          this.#warnings.emit({
            code: "state-file-corrupt",
            message: `state file ${this.path} is corrupted: starting from a fresh state (the bad file is kept as ${this.path}.corrupt)`,
          });
        }
        this.#cache = undefined;
        return { state: emptyState(), corrupt: true };
      }
      this.#cache = { signature, state };
      return { state, corrupt: false };
    } finally {
      await handle.close().catch(() => {});
    }
  }

  // --- writing ---------------------------------------------------------------------------

  async #mutate<R>(operation: (state: State, now: number) => R): Promise<R> {
    let token: string | undefined;
    try {
      token = await this.#lock();
      const { state, corrupt } = await this.#load();
      if (corrupt) await fs.rename(this.path, `${this.path}.corrupt`).catch(() => {});
      // The cached object is about to change: drop it so a failure cannot leave it half-done.
      this.#cache = undefined;
      const now = this.#now();
      const result = operation(state, now);
      prune(state, now);
      await this.#write(state);
      if (this.#fallback) {
        this.#fallback = undefined;
        this.#warnings.emit({
          code: "state-file-recovered",
          message: `state file ${this.path} usable again`,
        });
      }
      return result;
    } catch (error) {
      this.#unusable(error);
      const fallback = this.#fallback ?? emptyState();
      return operation(fallback, this.#now());
    } finally {
      if (token) await this.#unlock(token);
    }
  }

  async #write(state: State): Promise<void> {
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await fs.writeFile(temporary, serialize(state), { mode: 0o600 });
      await fs.rename(temporary, this.path);
    } catch (error) {
      await fs.unlink(temporary).catch(() => {});
      throw error;
    }
    // Still under the lock: the file is ours, so cache what we wrote.
    const stat = await fs.stat(this.path, { bigint: true });
    this.#cache = { signature: `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`, state };
  }

  #unusable(error: unknown): void {
    if (this.#fallback) return;
    this.#fallback = emptyState();
    this.#cache = undefined;
    this.#warnings.emit({
      code: "state-file-unusable",
      message: `state file ${this.path} cannot be used (${describe(error)}): using process memory`,
      cause: error,
    });
  }

  // --- locking ---------------------------------------------------------------------------

  /** Takes the lock; its token, or undefined when it timed out (the caller goes on unlocked). */
  async #lock(): Promise<string | undefined> {
    const token = `${process.pid}:${randomBytes(6).toString("hex")}`;
    const deadline = Date.now() + this.#lockTimeoutMs;
    let delayMs = 1;
    for (;;) {
      await this.#ensureDirectory(); // its failures are the caller's (the file is unusable)
      try {
        const handle = await fs.open(this.#lockPath, "wx", 0o600);
        try {
          await handle.writeFile(
            JSON.stringify({ pid: process.pid, host: hostname(), token, at: Date.now() }),
          );
        } finally {
          await handle.close();
        }
        return token;
      } catch (error) {
        const code = errorCode(error);
        if (code === "ENOENT") {
          this.#directoryReady = false;
          continue;
        }
        if (code !== "EEXIST") throw error;
      }
      if (await this.#breakIfStale()) continue;
      if (Date.now() >= deadline) {
        this.#warnings.emit({
          code: "state-file-lock-timeout",
          message: `state file lock ${this.#lockPath} still held after ${this.#lockTimeoutMs} ms: writing without it`,
        });
        return undefined;
      }
      await sleep(delayMs * (0.5 + Math.random()));
      delayMs = Math.min(delayMs * 2, 10);
    }
  }

  async #ensureDirectory(): Promise<void> {
    if (this.#directoryReady) return;
    await fs.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    this.#directoryReady = true;
  }

  /** Breaks the lock when its holder is dead or it is older than `staleLockMs`. */
  async #breakIfStale(): Promise<boolean> {
    let ino: bigint;
    let stale: boolean;
    try {
      const stat = await fs.stat(this.#lockPath, { bigint: true });
      ino = stat.ino;
      stale = Date.now() - Number(stat.mtimeMs) > this.#staleLockMs;
      if (!stale) {
        const holder = parseLock(await fs.readFile(this.#lockPath, "utf8"));
        stale = holder !== undefined && holder.host === hostname() && !isAlive(holder.pid);
      }
    } catch (error) {
      return errorCode(error) === "ENOENT"; // released meanwhile: try again at once
    }
    if (!stale) return false;
    // Move it aside atomically, then check that what we moved is the lock we judged stale
    // (another process may have broken it and taken a fresh one in between).
    const aside = `${this.#lockPath}.${process.pid}.${randomBytes(4).toString("hex")}.stale`;
    try {
      await fs.rename(this.#lockPath, aside);
    } catch {
      return true;
    }
    try {
      const moved = await fs.stat(aside, { bigint: true });
      if (moved.ino === ino) {
        this.#warnings.emit({
          code: "state-file-stale-lock",
          message: `broke the stale lock ${this.#lockPath}`,
        });
      } else {
        // A live lock: put it back unless someone already took the free slot.
        await fs.link(aside, this.#lockPath).catch(() => {});
      }
    } finally {
      await fs.unlink(aside).catch(() => {});
    }
    return true;
  }

  async #unlock(token: string): Promise<void> {
    try {
      // Only remove our own lock: a lock broken as stale may now belong to someone else.
      const holder = parseLock(await fs.readFile(this.#lockPath, "utf8"));
      if (holder?.token === token) await fs.unlink(this.#lockPath);
    } catch {
      // Already gone.
    }
  }
}

// --- pure helpers ----------------------------------------------------------------------------

function live<T>(entry: Entry | undefined, now: number): T | undefined {
  if (!entry || entry.expiresAt <= now) return undefined;
  return entry.value as T;
}

function write(
  state: State,
  key: string,
  value: unknown,
  ttlMs: number | undefined,
  now: number,
): void {
  if (value === undefined) {
    state.entries.delete(key);
    return;
  }
  // A JSON round trip now, so that what the caller gets back later is what the file holds.
  state.entries.set(key, {
    value: JSON.parse(JSON.stringify(value)),
    expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : now + ttlMs,
  });
}

function sumWindow(window: WindowState | undefined, now: number): Record<string, number> {
  const totals: Record<string, number> = {};
  if (!window) return totals;
  const current = windowBucket(now, window.windowMs);
  for (const [index, bucket] of window.buckets) {
    if (index <= current - WINDOW_BUCKETS || index > current) continue;
    for (const [field, count] of bucket) totals[field] = (totals[field] ?? 0) + count;
  }
  return totals;
}

/** Drops expired entries and window buckets that slid out, so the file stays small. */
function prune(state: State, now: number): void {
  for (const [key, entry] of state.entries) if (entry.expiresAt <= now) state.entries.delete(key);
  for (const [key, window] of state.windows) {
    const current = windowBucket(now, window.windowMs);
    for (const index of window.buckets.keys())
      if (index <= current - WINDOW_BUCKETS) window.buckets.delete(index);
    if (window.buckets.size === 0) state.windows.delete(key);
  }
}

function serialize(state: State): string {
  const shape: FileShape = {
    version: 1,
    entries: Object.fromEntries(
      [...state.entries].map(([key, { value, expiresAt }]) => [
        key,
        Number.isFinite(expiresAt) ? { value, expiresAt } : { value },
      ]),
    ),
    windows: Object.fromEntries(
      [...state.windows].map(([key, { windowMs, buckets }]) => [
        key,
        {
          windowMs,
          buckets: Object.fromEntries(
            [...buckets].map(([index, fields]) => [String(index), Object.fromEntries(fields)]),
          ),
        },
      ]),
    ),
  };
  return JSON.stringify(shape);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Parses and validates the file; undefined when it is not a valid state. */
function parse(text: string): State | undefined {
  let shape: unknown;
  try {
    shape = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(shape) || shape.version !== 1) return undefined;
  if (!isRecord(shape.entries) || !isRecord(shape.windows)) return undefined;
  const state = emptyState();
  for (const [key, entry] of Object.entries(shape.entries)) {
    if (!isRecord(entry) || !("value" in entry)) return undefined;
    const { expiresAt } = entry;
    if (expiresAt !== undefined && typeof expiresAt !== "number") return undefined;
    state.entries.set(key, {
      value: entry.value,
      expiresAt: expiresAt ?? Number.POSITIVE_INFINITY,
    });
  }
  for (const [key, window] of Object.entries(shape.windows)) {
    if (!isRecord(window) || typeof window.windowMs !== "number" || !isRecord(window.buckets))
      return undefined;
    const buckets = new Map<number, Map<string, number>>();
    for (const [index, fields] of Object.entries(window.buckets)) {
      if (!isRecord(fields)) return undefined;
      const counts = new Map<string, number>();
      for (const [field, count] of Object.entries(fields)) {
        if (typeof count !== "number") return undefined;
        counts.set(field, count);
      }
      buckets.set(Number(index), counts);
    }
    state.windows.set(key, { windowMs: window.windowMs, buckets });
  }
  return state;
}

function parseLock(text: string): { pid: number; host: string; token: string } | undefined {
  try {
    const lock: unknown = JSON.parse(text);
    if (
      isRecord(lock) &&
      typeof lock.pid === "number" &&
      typeof lock.host === "string" &&
      typeof lock.token === "string"
    )
      return { pid: lock.pid, host: lock.host, token: lock.token };
  } catch {
    // Being written, or garbage: judged by its age alone.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
