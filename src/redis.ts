/**
 * `retry-client/redis`: the Redis-backed state store, in its own entry so that the main entry
 * never loads `ioredis` (an optional peer dependency: install it to use this one).
 *
 * @example
 * import { RetryClient } from "retry-client";
 * import { RedisStateStore } from "retry-client/redis";
 * const client = new RetryClient({ stateStore: new RedisStateStore() }); // REDIS_URL or localhost
 */
export { RedisStateStore, type RedisStateStoreOptions } from "./state/redis-state-store.js";
