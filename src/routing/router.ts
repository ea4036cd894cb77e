import { GroupBalancer, type GroupBalancerOptions, type ResolvedGroup } from "./group-balancer.js";
import { HedgeBudget, type ResolvedHedge } from "./hedge.js";
import { Throttle } from "./throttle.js";

/** Options of {@link Router}. */
export interface RouterOptions extends GroupBalancerOptions {
  readonly groups?: readonly ResolvedGroup[];
  /** Proactive throttling from rate-limit headers. */
  readonly throttling: boolean;
  readonly hedge?: ResolvedHedge | undefined;
  /** The window of the hedge budget (the retry budget's). */
  readonly hedgeWindowMs: number;
  /** The store's clock. */
  readonly now: () => number;
}

/**
 * Answers, for a call, which target next: the member of a deployment group its strategy picks,
 * whether a target is out of rate-limit headroom, and whether a hedge may start. It keeps only
 * routing state (in-flight counts, latencies, headroom, the hedge budget) and knows nothing of
 * the call that asks.
 */
export class Router {
  readonly balancer: GroupBalancer;
  /** Undefined when throttling is off. */
  readonly throttle: Throttle | undefined;
  /** Undefined when hedging is off. */
  readonly hedge: ResolvedHedge | undefined;
  readonly hedgeBudget: HedgeBudget | undefined;
  readonly #groups = new Map<string, ResolvedGroup>();

  constructor(options: RouterOptions) {
    this.balancer = new GroupBalancer(options);
    this.throttle = options.throttling ? new Throttle() : undefined;
    this.hedge = options.hedge;
    this.hedgeBudget = options.hedge
      ? new HedgeBudget(options.hedgeWindowMs, options.now)
      : undefined;
    for (const group of options.groups ?? []) this.#groups.set(group.name, group);
  }

  /** The group named `name`, if one is configured. */
  group(name: string): ResolvedGroup | undefined {
    return this.#groups.get(name);
  }

  /** Indices of `keys` that are members of `group`. */
  members(group: ResolvedGroup, keys: readonly string[]): number[] {
    const out: number[] = [];
    for (let i = 0; i < keys.length; i++) if (group.keys.includes(keys[i]!)) out.push(i);
    return out;
  }

  /**
   * The member a group call would take if every member were free, counted in flight at once so
   * concurrent calls spread before any store answers. Returns an index into `keys`, or -1 when no
   * member is pending.
   */
  preselect(group: ResolvedGroup, keys: readonly string[]): number {
    const members = this.members(group, keys);
    if (members.length === 0) return -1;
    const index = this.balancer.pick(group, keys, members);
    this.balancer.acquire(keys[index]!);
    return index;
  }

  /**
   * The member to use among `usable` (indices into `keys`, free to take a request), given the
   * one `preselected` (-1 for none): it stays when usable; else the strategy picks again and the
   * in-flight count moves. Returns undefined when no member is usable (the count is released).
   */
  choose(
    group: ResolvedGroup,
    keys: readonly string[],
    usable: readonly number[],
    preselected: number,
  ): number | undefined {
    if (preselected >= 0) {
      if (usable.includes(preselected)) return preselected;
      this.balancer.release(keys[preselected]!);
    }
    if (usable.length === 0) return undefined;
    const index = this.balancer.pick(group, keys, usable);
    this.balancer.acquire(keys[index]!);
    return index;
  }
}
