export type { GroupStrategy, ResolvedGroup } from "./group-balancer.js";
export { GroupBalancer, type GroupBalancerOptions } from "./group-balancer.js";
export { HedgeBudget, type HedgeOptions, type ResolvedHedge, resolveHedge } from "./hedge.js";
export { Router, type RouterOptions } from "./router.js";
export {
  estimateInputTokens,
  estimateRequestTokens,
  type Headroom,
  type RequestEstimate,
  Throttle,
  type ThrottleTicket,
} from "./throttle.js";
