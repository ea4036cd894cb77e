import { type StateStore, WINDOW_BUCKETS, windowBucket } from "./state-store.js";

interface Entry {
  value: unknown;
  expiresAt: number;
}

/** A sliding window: its live buckets, oldest first, and their running totals. */
interface Window {
  readonly buckets: Array<{ readonly index: number; readonly counts: Record<string, number> }>;
  readonly totals: Record<string, number>;
}

/** Options for {@link MemoryStateStore}. */
export interface MemoryStateStoreOptions {
  /** The clock, injectable for tests. @default Date.now */
  readonly now?: (() => number) | undefined;
}

/**
 * Process-local state: the default store, one per client. Every operation is synchronous under
 * the hood, so each is trivially atomic.
 */
export class MemoryStateStore implements StateStore {
  readonly kind = "memory";
  readonly #entries = new Map<string, Entry>();
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;

  constructor(options: MemoryStateStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  now(): number {
    return this.#now();
  }

  /** Synchronous read, for callers on the hot path. */
  peek<T>(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value as T;
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.peek<T>(key);
  }

  async getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    return keys.map((key) => this.peek<T>(key));
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    this.#write(key, value, ttlMs);
  }

  async update<T>(
    key: string,
    fn: (current: T | undefined) => T | undefined,
    ttlMs?: number,
  ): Promise<T | undefined> {
    const next = fn(this.peek<T>(key));
    this.#write(key, next, ttlMs);
    return next;
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
    this.#windows.delete(key);
  }

  async entries<T>(prefix: string): Promise<Array<[string, T]>> {
    const out: Array<[string, T]> = [];
    for (const key of this.#entries.keys()) {
      if (!key.startsWith(prefix)) continue;
      const value = this.peek<T>(key);
      if (value !== undefined) out.push([key, value]);
    }
    return out;
  }

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const current = this.peek<string>(key);
    if (current !== undefined && current !== holder) return false;
    this.#write(key, holder, ttlMs);
    return true;
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    if (this.peek<string>(key) === holder) this.#entries.delete(key);
  }

  async addToWindow(
    key: string,
    field: string,
    amount: number,
    windowMs: number,
  ): Promise<Record<string, number>> {
    return this.addToWindowSync(key, field, amount, windowMs);
  }

  /** Synchronous {@link addToWindow}, for callers on the hot path: O(1) amortised. */
  addToWindowSync(
    key: string,
    field: string,
    amount: number,
    windowMs: number,
  ): Record<string, number> {
    const current = windowBucket(this.#now(), windowMs);
    let window = this.#windows.get(key);
    if (!window) {
      window = { buckets: [], totals: {} };
      this.#windows.set(key, window);
    }
    const { buckets, totals } = window;
    while (buckets.length > 0 && buckets[0]!.index <= current - WINDOW_BUCKETS) {
      const expired = buckets.shift()!;
      for (const name in expired.counts) {
        const left = (totals[name] ?? 0) - (expired.counts[name] ?? 0);
        if (left === 0) delete totals[name];
        else totals[name] = left;
      }
    }
    if (amount !== 0) {
      let bucket = buckets[buckets.length - 1];
      if (bucket?.index !== current) {
        bucket = { index: current, counts: {} };
        buckets.push(bucket);
      }
      bucket.counts[field] = (bucket.counts[field] ?? 0) + amount;
      totals[field] = (totals[field] ?? 0) + amount;
    }
    return { ...totals };
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#windows.clear();
  }

  #write(key: string, value: unknown, ttlMs: number | undefined): void {
    if (value === undefined) {
      this.#entries.delete(key);
      return;
    }
    this.#entries.set(key, {
      value,
      expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : this.#now() + ttlMs,
    });
  }
}
