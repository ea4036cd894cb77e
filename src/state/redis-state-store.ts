import { Redis } from "ioredis";
import { MAX_TIMER_MS, positiveNumber, timerMs } from "../options.js";
import type { Warning } from "../types.js";
import { MemoryStateStore } from "./memory-state-store.js";
import { type StateStore, WINDOW_BUCKETS, windowBucket } from "./state-store.js";
import { WarningListeners } from "./warning-listeners.js";

/** Options for {@link RedisStateStore}. */
export interface RedisStateStoreOptions {
  /**
   * Where Redis is. TLS with `rediss://`, a password with `redis://:password@host:6379`, a
   * database with `/2`. Ignored when `client` is given.
   * @default process.env.REDIS_URL, else "redis://127.0.0.1:6379"
   */
  readonly url?: string | undefined;
  /**
   * Your own ioredis client (Sentinel, custom TLS, …). The store does not close it. For the
   * bounds below to hold without paying the timeout on every call during an outage, configure it
   * like the store's own: `enableOfflineQueue: false`, `maxRetriesPerRequest: 1`,
   * `autoResendUnfulfilledCommands: false`, `enableAutoPipelining: true`.
   */
  readonly client?: Redis | undefined;
  /** Prefix of every key the store writes. @default "retry-client:" */
  readonly keyPrefix?: string | undefined;
  /**
   * The longest any operation waits for Redis before answering from local state. `update`
   * (read, then compare-and-set, retried under contention) gets this whole bound too; `entries`
   * (a SCAN, for the CLI) gets ten times it.
   * @default 100
   */
  readonly commandTimeoutMs?: number | undefined;
  /**
   * How long the operations issued before the store's first connection wait for it (a process
   * that just started — a CLI run, a new gateway worker — has no connection yet, and a TCP
   * connect plus Redis' ready check can take longer than `commandTimeoutMs` on a busy host).
   * Counted from the store's creation; after the first connection only `commandTimeoutMs` applies.
   * @default 1000
   */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * After a Redis command failed or timed out while the connection looked up, how long
   * operations go straight to local state before trying Redis again (so that a Redis that hangs
   * costs one timeout per period, not one per request). While disconnected, operations never
   * wait: they go local until the connection is back.
   * @default 1000
   */
  readonly retryIntervalMs?: number | undefined;
  /** Called with every warning ("Redis unreachable, using local state", "Redis is back"). */
  readonly onWarning?: ((warning: Warning) => void) | undefined;
  /**
   * The clock. The store uses the local clock, not Redis `TIME`: hosts of a fleet are assumed
   * NTP-synchronised (a skew of a few hundred milliseconds only shifts when a breaker probes).
   * @default Date.now
   */
  readonly now?: (() => number) | undefined;
}

/**
 * Compare-and-set: writes ARGV[4] (or deletes) only if the key still holds what the caller
 * expected; otherwise answers with what it holds, so the caller can retry without a read.
 */
const CAS = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if current then return {0, current} end
elseif current ~= ARGV[2] then
  return {0, current}
end
if ARGV[3] == 'del' then
  redis.call('DEL', KEYS[1])
elseif ARGV[5] == '0' then
  redis.call('SET', KEYS[1], ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
end
return {1}`;

/** Values and their remaining time to live (-1: none), so local state can mirror them. */
const GET_WITH_TTL = `
local out = {}
for i, key in ipairs(KEYS) do
  out[2 * i - 1] = redis.call('GET', key)
  out[2 * i] = redis.call('PTTL', key)
end
return out`;

/** Takes the lease for ARGV[1] when free or already its own (re-entrant, extends it). */
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** Deletes the lease only if ARGV[1] holds it. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Sliding window in one hash: field "<bucket>:<name>" holds a bucket's count. Adds ARGV[2] to
 * ARGV[1] in bucket ARGV[3], drops buckets that slid out of the ARGV[5] buckets, and returns
 * the totals as a flat [name, total, ...] list of strings (Lua numbers would be truncated).
 */
const WINDOW = `
local current = tonumber(ARGV[3])
local buckets = tonumber(ARGV[5])
if ARGV[2] ~= '0' then
  redis.call('HINCRBYFLOAT', KEYS[1], ARGV[3] .. ':' .. ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
local all = redis.call('HGETALL', KEYS[1])
local totals, order, stale = {}, {}, {}
for i = 1, #all, 2 do
  local field = all[i]
  local sep = string.find(field, ':', 1, true)
  local bucket = sep and tonumber(string.sub(field, 1, sep - 1))
  if not bucket or bucket <= current - buckets then
    stale[#stale + 1] = field
  elseif bucket <= current then
    local name = string.sub(field, sep + 1)
    if not totals[name] then
      order[#order + 1] = name
      totals[name] = 0
    end
    totals[name] = totals[name] + tonumber(all[i + 1])
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
local out = {}
for _, name in ipairs(order) do
  out[#out + 1] = name
  out[#out + 1] = tostring(totals[name])
end
return out`;

type Script = (...args: Array<string | number>) => Promise<unknown>;
interface Scripts {
  retryClientCas: Script;
  retryClientGetWithTtl: Script;
  retryClientAcquire: Script;
  retryClientRelease: Script;
  retryClientWindow: Script;
}

const SCRIPTS: ReadonlyArray<[name: keyof Scripts, keys: number | undefined, lua: string]> = [
  ["retryClientCas", 1, CAS],
  ["retryClientGetWithTtl", undefined, GET_WITH_TTL],
  ["retryClientAcquire", 1, ACQUIRE],
  ["retryClientRelease", 1, RELEASE],
  ["retryClientWindow", 1, WINDOW],
];

class TimeoutError extends Error {}

/**
 * Breaker state, cooldowns and retry budgets in Redis, shared by a fleet (`retry-client/redis`).
 *
 * Layout: a value lives at `<keyPrefix>v:<key>` as JSON (TTLs are Redis `PX` expiries), a
 * sliding window at `<keyPrefix>w:<key>` as a hash of per-bucket counters. Every operation is
 * one atomic Redis step: Lua scripts for compare-and-set (`update` reads, computes `fn` locally
 * and writes only if the value did not change, retrying under contention), leases (re-entrant
 * `SET … PX`, compare-and-delete release) and windows. ioredis auto-pipelining is on, so the
 * reads a request issues in the same tick share one round trip.
 *
 * Redis is never what fails a request. Each operation waits at most `commandTimeoutMs`
 * (default 100 ms); on an error, a timeout or a lost connection it answers from a local
 * {@link MemoryStateStore} and warns once (code `state-store-unreachable`) until Redis takes a
 * write again (code `state-store-recovered`; a Redis that answers reads but refuses writes, as
 * at `maxmemory`, is still down). It never throws and never queues commands for later.
 * The local store mirrors what this process last read from or wrote to Redis (values and their
 * TTLs), so an outage starts from the fleet's last known breakers and cooldowns, not from
 * scratch; windows start empty locally.
 *
 * Re-sync when Redis returns — "the fleet wins, local fills the gaps": every entry this process
 * wrote locally during the outage is written to Redis only where Redis has no value for its key
 * (`SET NX` with the remaining TTL), so a breaker this process opened or a cooldown it set
 * reaches the fleet, but nothing the fleet wrote meanwhile is overwritten; window counts made
 * locally are added to their buckets if still inside the window (so the retries made during the
 * outage count toward the fleet's budget). Local leases are not pushed (a probe already in
 * flight finishes; at worst the fleet sends one more probe).
 *
 * @example
 * import { RedisStateStore } from "retry-client/redis";
 * const stateStore = new RedisStateStore({ url: "rediss://:secret@redis.internal:6380" });
 * const client = new RetryClient({ stateStore });
 */
export class RedisStateStore implements StateStore {
  readonly kind = "redis";
  readonly #client: Redis;
  readonly #scripts: Scripts;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #retryIntervalMs: number;
  readonly #now: () => number;
  readonly #local: MemoryStateStore;
  readonly #warnings: WarningListeners;
  readonly #onError = (error: unknown) => {
    this.#lastError = error;
  };
  #lastError: unknown;
  #degraded = false;
  #skipUntil = 0;
  #everReady: boolean;
  #closed = false;
  #probing = false;
  /** The first connection, awaited (within the bound) by the operations issued before it. */
  #firstReady: Promise<boolean> | undefined;
  /** Until when the operations wait for the first connection (`connectTimeoutMs`). */
  readonly #connectBy: number;
  /** The raw value last seen in Redis per key (null: absent), the guess `update` starts from. */
  readonly #known = new Map<string, string | null>();
  /** Entries written locally during an outage: key → expiry, pushed on re-sync. */
  readonly #dirty = new Map<string, number>();
  /** Window counts added locally during an outage: key → window length and "bucket:field" → sum. */
  readonly #dirtyWindows = new Map<string, { windowMs: number; counts: Map<string, number> }>();

  constructor(options: RedisStateStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#local = new MemoryStateStore({ now: this.#now });
    this.#prefix = options.keyPrefix ?? "retry-client:";
    this.#timeoutMs = timerMs(
      "commandTimeoutMs",
      positiveNumber("commandTimeoutMs", options.commandTimeoutMs ?? 100),
    );
    this.#retryIntervalMs = positiveNumber("retryIntervalMs", options.retryIntervalMs ?? 1000);
    const connectTimeoutMs = timerMs(
      "connectTimeoutMs",
      positiveNumber("connectTimeoutMs", options.connectTimeoutMs ?? 1000),
    );
    this.#connectBy = Date.now() + connectTimeoutMs;
    this.#warnings = new WarningListeners(options.onWarning);
    if (options.client) {
      this.#client = options.client;
      this.#ownsClient = false;
    } else {
      this.#client = new Redis(options.url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
        enableAutoPipelining: true,
        // Fail at once while disconnected, never replay stale writes after a reconnect:
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 1,
        connectTimeout: connectTimeoutMs,
        // `disconnect()` (only after QUIT failed: a wrong password, a server that is not
        // Redis) arms this timer even for a socket already closed; its default of 2 s kept the
        // process alive that long after close().
        disconnectTimeout: 20,
        // Keep reconnecting in the background for ever, at most every second.
        retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
      });
      this.#ownsClient = true;
    }
    this.#everReady = this.#client.status === "ready";
    this.#client.on("error", this.#onError);
    const client = this.#client as unknown as Record<string, unknown>;
    for (const [name, numberOfKeys, lua] of SCRIPTS)
      if (typeof client[name] !== "function")
        this.#client.defineCommand(
          name,
          numberOfKeys === undefined ? { lua } : { lua, numberOfKeys },
        );
    this.#scripts = this.#client as unknown as Scripts;
  }

  now(): number {
    return this.#now();
  }

  onWarning(listener: (warning: Warning) => void): () => void {
    return this.#warnings.add(listener);
  }

  /** The underlying ioredis client (for diagnostics and tests). */
  get client(): Redis {
    return this.#client;
  }

  /** True while Redis is unreachable and operations answer from local state. */
  get degraded(): boolean {
    return this.#degraded;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const [value] = await this.getMany<T>([key]);
    return value;
  }

  async getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    if (keys.length === 0) return [];
    return this.#run(
      async () => {
        const reply = (await this.#scripts.retryClientGetWithTtl(
          keys.length,
          ...keys.map((key) => this.#valueKey(key)),
        )) as Array<string | null | number>;
        return keys.map((key, index) => {
          const raw = reply[2 * index];
          const ttlMs = Number(reply[2 * index + 1]);
          const value = typeof raw === "string" ? decode<T>(raw) : undefined;
          this.#mirror(
            key,
            value,
            ttlMs > 0 ? ttlMs : undefined,
            typeof raw === "string" ? raw : null,
          );
          return value;
        });
      },
      () => this.#local.getMany<T>(keys),
    );
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    await this.#run(
      async () => {
        const redisKey = this.#valueKey(key);
        if (value === undefined || (ttlMs !== undefined && ttlMs <= 0))
          await this.#client.del(redisKey);
        else if (ttlMs === undefined) await this.#client.set(redisKey, JSON.stringify(value));
        else await this.#client.set(redisKey, JSON.stringify(value), "PX", pxMs(ttlMs));
        this.#mirror(key, value, ttlMs);
      },
      async () => {
        await this.#local.set(key, value, ttlMs);
        this.#markDirty(key, ttlMs);
      },
    );
  }

  async update<T>(
    key: string,
    fn: (current: T | undefined) => T | undefined,
    ttlMs?: number,
  ): Promise<T | undefined> {
    return this.#run(
      async (expired) => {
        const redisKey = this.#valueKey(key);
        // Start from the value last seen (or "absent"): when it is still current, the update
        // costs one round trip; when not, the script answers with the current value.
        let raw = this.#known.get(key) ?? null;
        for (let attempt = 0; ; attempt++) {
          const next = fn(raw === null ? undefined : decode<T>(raw));
          const remove = next === undefined || (ttlMs !== undefined && ttlMs <= 0);
          const encoded = remove ? null : JSON.stringify(next);
          const [written, current] = (await this.#scripts.retryClientCas(
            redisKey,
            raw === null ? "0" : "1",
            raw ?? "",
            remove ? "del" : "set",
            encoded ?? "",
            remove || ttlMs === undefined ? 0 : pxMs(ttlMs),
          )) as [number, string | null | undefined];
          if (written === 1) {
            this.#mirror(key, next, ttlMs, encoded);
            return next;
          }
          raw = current ?? null;
          if (expired()) throw new TimeoutError("update kept losing the compare-and-set race");
          // Contended: after a few lost races, back off a little (jittered).
          if (attempt >= 2)
            await new Promise((resolve) =>
              setTimeout(resolve, Math.random() * Math.min(attempt, 5)),
            );
        }
      },
      async () => {
        const next = await this.#local.update(key, fn, ttlMs);
        this.#markDirty(key, ttlMs);
        return next;
      },
    );
  }

  async delete(key: string): Promise<void> {
    await this.#run(
      async () => {
        await this.#client.del(this.#valueKey(key), this.#windowKey(key));
        await this.#local.delete(key);
        this.#mirror(key, undefined, undefined, null);
      },
      async () => {
        await this.#local.delete(key);
        this.#dirty.delete(key);
        this.#dirtyWindows.delete(key);
      },
    );
  }

  async entries<T>(prefix: string): Promise<Array<[string, T]>> {
    return this.#run(
      async (expired) => {
        // ioredis applies a client's own keyPrefix to keys, but not to SCAN patterns.
        const clientPrefix = String(this.#client.options.keyPrefix ?? "");
        const namespace = this.#valueKey("");
        const pattern = `${clientPrefix}${escapeGlob(namespace + prefix)}*`;
        const keys = new Set<string>();
        let cursor = "0";
        do {
          const [next, batch] = await this.#client.scan(cursor, "MATCH", pattern, "COUNT", 500);
          for (const key of batch) keys.add(key.slice(clientPrefix.length));
          cursor = next;
          if (expired()) throw new TimeoutError("SCAN took too long");
        } while (cursor !== "0");
        const list = [...keys];
        const out: Array<[string, T]> = [];
        for (let start = 0; start < list.length; start += 500) {
          const chunk = list.slice(start, start + 500);
          const values = await this.#client.mget(chunk);
          chunk.forEach((redisKey, index) => {
            const raw = values[index];
            const value = typeof raw === "string" ? decode<T>(raw) : undefined;
            if (value !== undefined) out.push([redisKey.slice(namespace.length), value]);
          });
        }
        return out;
      },
      () => this.#local.entries<T>(prefix),
      Math.min(this.#timeoutMs * 10, MAX_TIMER_MS),
    );
  }

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.#run(
      async () => {
        const acquired =
          (await this.#scripts.retryClientAcquire(
            this.#valueKey(key),
            JSON.stringify(holder),
            pxMs(ttlMs),
          )) === 1;
        if (acquired) this.#mirror(key, holder, ttlMs);
        return acquired;
      },
      () => this.#local.acquireLease(key, holder, ttlMs),
    );
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    await this.#run(
      async () => {
        await this.#scripts.retryClientRelease(this.#valueKey(key), JSON.stringify(holder));
        await this.#local.releaseLease(key, holder);
        this.#known.delete(key);
      },
      () => this.#local.releaseLease(key, holder),
    );
  }

  async addToWindow(
    key: string,
    field: string,
    amount: number,
    windowMs: number,
  ): Promise<Record<string, number>> {
    return this.#run(
      async () => {
        const reply = (await this.#scripts.retryClientWindow(
          this.#windowKey(key),
          field,
          amount,
          windowBucket(this.#now(), windowMs),
          Math.max(1, Math.ceil(windowMs * 2)),
          WINDOW_BUCKETS,
        )) as string[];
        const totals: Record<string, number> = {};
        for (let index = 0; index + 1 < reply.length; index += 2)
          totals[reply[index]!] = Number(reply[index + 1]);
        return totals;
      },
      async () => {
        if (amount !== 0) {
          let dirty = this.#dirtyWindows.get(key);
          if (!dirty) {
            dirty = { windowMs, counts: new Map() };
            this.#dirtyWindows.set(key, dirty);
          }
          dirty.windowMs = windowMs;
          const slot = `${windowBucket(this.#now(), windowMs)}:${field}`;
          dirty.counts.set(slot, (dirty.counts.get(slot) ?? 0) + amount);
        }
        return this.#local.addToWindowSync(key, field, amount, windowMs);
      },
    );
  }

  /** Quits the connection if the store created it; a client you passed in stays open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient) {
      const ended = new Promise((resolve) => this.#client.once("end", resolve));
      try {
        await withTimeout(this.#client.quit(), this.#timeoutMs);
        await withTimeout(ended, this.#timeoutMs);
      } catch {
        this.#client.disconnect();
      }
    }
    this.#client.off("error", this.#onError);
    await this.#local.close();
  }

  // --- the fallback machinery ------------------------------------------------------------

  /**
   * Runs `remote` within the bound, or `local` when Redis is unreachable, slow or failing.
   * `remote` receives a function telling whether its time is up (for its own loops).
   */
  async #run<R>(
    remote: (expired: () => boolean) => Promise<R>,
    local: () => Promise<R>,
    timeoutMs = this.#timeoutMs,
  ): Promise<R> {
    const deadline = Date.now() + timeoutMs;
    if (this.#closed || !(await this.#usable(deadline))) return local();
    try {
      return await withTimeout(
        remote(() => Date.now() >= deadline),
        Math.max(1, deadline - Date.now()),
      );
    } catch (error) {
      this.#skipUntil = Date.now() + this.#retryIntervalMs;
      this.#unreachable(error);
      return local();
    }
  }

  /**
   * Whether to try Redis now; waits (within the bound) only for the very first connection.
   *
   * During an outage every operation answers locally; once per `retryIntervalMs` one write
   * probe (`SET … PX`) decides whether it is over. Only a write that succeeds ends it: a Redis
   * that answers reads but refuses writes (at `maxmemory`, a read-only replica) is still in the
   * outage, so the warnings do not flap with the mix of commands — one per outage.
   */
  async #usable(deadline: number): Promise<boolean> {
    const status = this.#client.status;
    if (status === "ready") {
      this.#everReady = true;
      if (Date.now() < this.#skipUntil) return false;
      if (!this.#degraded) return true;
      return this.#probe(deadline);
    }
    if (status === "wait") this.#client.connect().catch(() => {}); // a lazyConnect client
    // Before the first connection (and before any failure), wait for it within the bound;
    // afterwards a connection in progress means an outage: answer locally at once.
    if (
      !this.#everReady &&
      !this.#degraded &&
      (status === "wait" || status === "connecting" || status === "connect")
    ) {
      // A refused or failed connection ends the wait at once (it reports an `error`).
      this.#firstReady ??= new Promise<boolean>((resolve) => {
        this.#client.once("ready", () => resolve(true));
        this.#client.once("error", () => resolve(false));
      });
      let timer: NodeJS.Timeout | undefined;
      const ready = await Promise.race([
        this.#firstReady,
        new Promise<boolean>((resolve) => {
          const waitUntil = Math.max(deadline, this.#connectBy);
          timer = setTimeout(() => resolve(false), Math.max(0, waitUntil - Date.now()));
        }),
      ]);
      clearTimeout(timer);
      if (ready) {
        this.#everReady = true;
        return true;
      }
    }
    this.#unreachable(this.#lastError ?? new Error(`connection is ${status}`));
    return false;
  }

  /** One write probe at a time; the operations meanwhile answer locally. */
  #probe(deadline: number): Promise<boolean> {
    if (this.#probing) return Promise.resolve(false);
    this.#probing = true;
    return withTimeout(
      this.#client.set(`${this.#prefix}probe`, "1", "PX", 1000),
      Math.max(1, deadline - Date.now()),
    ).then(
      () => {
        this.#probing = false;
        if (this.#degraded) this.#recovered();
        return true;
      },
      (error: unknown) => {
        this.#probing = false;
        this.#lastError = error;
        this.#skipUntil = Date.now() + this.#retryIntervalMs;
        return false;
      },
    );
  }

  #unreachable(cause: unknown): void {
    if (this.#degraded) return;
    this.#degraded = true;
    this.#warnings.emit({
      code: "state-store-unreachable",
      message: `Redis state store unreachable (${describe(cause)}): using local state until it returns`,
      cause,
    });
  }

  #recovered(): void {
    this.#degraded = false;
    this.#warnings.emit({
      code: "state-store-recovered",
      message: "Redis state store reachable again: local changes merged, shared state in use",
    });
    void this.#resync().catch((error: unknown) =>
      this.#warnings.emit({
        code: "state-store-resync-failed",
        message: `could not push local state to Redis after the outage (${describe(error)})`,
        cause: error,
      }),
    );
  }

  /** Pushes what was written locally during the outage: the fleet wins, local fills gaps. */
  async #resync(): Promise<void> {
    if (this.#dirty.size === 0 && this.#dirtyWindows.size === 0) return;
    const now = this.#now();
    const pipeline = this.#client.pipeline();
    const dirty = [...this.#dirty];
    const windows = [...this.#dirtyWindows];
    this.#dirty.clear();
    this.#dirtyWindows.clear();
    for (const [key, expiresAt] of dirty) {
      const value = this.#local.peek(key);
      if (value === undefined) continue;
      const remainingMs = expiresAt - now;
      if (remainingMs <= 0) continue;
      if (Number.isFinite(remainingMs))
        pipeline.set(this.#valueKey(key), JSON.stringify(value), "PX", pxMs(remainingMs), "NX");
      else pipeline.set(this.#valueKey(key), JSON.stringify(value), "NX");
    }
    for (const [key, { windowMs, counts }] of windows) {
      const oldest = windowBucket(now, windowMs) - WINDOW_BUCKETS;
      const windowKey = this.#windowKey(key);
      let added = false;
      for (const [slot, amount] of counts) {
        if (Number(slot.slice(0, slot.indexOf(":"))) <= oldest) continue;
        pipeline.hincrbyfloat(windowKey, slot, amount);
        added = true;
      }
      if (added) pipeline.pexpire(windowKey, Math.max(1, Math.ceil(windowMs * 2)));
    }
    await withTimeout(pipeline.exec(), Math.min(this.#timeoutMs * 10, MAX_TIMER_MS));
  }

  /**
   * Reflects what Redis holds into the local store (for outages) and remembers its encoding
   * (the first guess of the next `update`). `raw` undefined: encode `value`.
   */
  #mirror(key: string, value: unknown, ttlMs: number | undefined, raw?: string | null): void {
    void this.#local.set(key, value, ttlMs);
    this.#dirty.delete(key);
    if (this.#known.size >= 10_000) this.#known.clear();
    const encoded =
      raw !== undefined
        ? raw
        : value === undefined || (ttlMs !== undefined && ttlMs <= 0)
          ? null
          : JSON.stringify(value);
    this.#known.set(key, encoded);
  }

  #markDirty(key: string, ttlMs: number | undefined): void {
    this.#dirty.set(key, ttlMs === undefined ? Number.POSITIVE_INFINITY : this.#now() + ttlMs);
  }

  #valueKey(key: string): string {
    return `${this.#prefix}v:${key}`;
  }

  #windowKey(key: string): string {
    return `${this.#prefix}w:${key}`;
  }
}

/** Redis wants a positive integer for PX (a non-finite TTL would make the command fail). */
function pxMs(ttlMs: number): number {
  return Math.max(1, Math.ceil(Math.min(ttlMs, Number.MAX_SAFE_INTEGER)));
}

function decode<T>(raw: string): T | undefined {
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined; // Not ours: treat as absent.
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  promise.catch(() => {}); // a late failure after the timeout is nobody's business
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new TimeoutError(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
