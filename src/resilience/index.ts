export * from "./backoff.js";
export * from "./circuit-breaker.js";
export * from "./retry.js";
export * from "./retry-budget.js";
export { sleep } from "./sleep.js";
