/** How a deployment group picks the member a call goes to first. */
export type GroupStrategy = "least-busy" | "round-robin" | "latency" | "weighted";

/** A group with its members as target keys, checked. */
export interface ResolvedGroup {
  readonly name: string;
  /** Target keys of the members, in configured order. */
  readonly keys: readonly string[];
  readonly strategy: GroupStrategy;
  /** One positive weight per member (`weighted`); 1 each otherwise. */
  readonly weights: readonly number[];
}

/** Options of {@link GroupBalancer}. */
export interface GroupBalancerOptions {
  /** Share of `latency` picks that go to a uniformly random member. @default 0.05 */
  readonly exploration?: number;
  /** Weight of the newest sample in the latency average (EWMA). @default 0.3 */
  readonly latencyWeight?: number;
  /** Randomness in [0, 1), injectable for tests. @default Math.random */
  readonly random?: () => number;
}

/**
 * Picks members of deployment groups and keeps what the strategies need, per process: requests
 * in flight per member (`least-busy`, and `latency` as a load factor), a moving average of each
 * member's latency (`latency`), rotation counters (`round-robin`, ties) and smooth weighted
 * round-robin credits (`weighted`).
 *
 * `latency` picks the member with the lowest `average latency × (1 + in flight)` — the expected
 * wait of one more request there — so equal members share the load, and a member five times slower
 * gets about 1/25 of the traffic of the others. A share of picks (`exploration`) goes to a random
 * member so a member that recovered is measured again and wins its traffic back; a member not yet
 * measured counts as the fastest measured one.
 */
export class GroupBalancer {
  readonly #inFlight = new Map<string, number>();
  readonly #latency = new Map<string, number>();
  readonly #turn = new Map<string, number>();
  readonly #credit = new Map<string, number[]>();
  readonly #exploration: number;
  readonly #alpha: number;
  readonly #random: () => number;

  constructor(options: GroupBalancerOptions = {}) {
    this.#exploration = options.exploration ?? 0.05;
    this.#alpha = options.latencyWeight ?? 0.3;
    this.#random = options.random ?? Math.random;
  }

  /** Requests in flight to `key` from this process. */
  inFlight(key: string): number {
    return this.#inFlight.get(key) ?? 0;
  }

  /** The latency average of `key`, undefined before its first sample. */
  latencyOf(key: string): number | undefined {
    return this.#latency.get(key);
  }

  /** Counts one more request in flight to `key`. */
  acquire(key: string): void {
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
  }

  /** Counts one request to `key` as done. */
  release(key: string): void {
    const n = (this.#inFlight.get(key) ?? 0) - 1;
    if (n <= 0) this.#inFlight.delete(key);
    else this.#inFlight.set(key, n);
  }

  /** Adds a latency sample (time to the answer, or to the first content of a stream). */
  observeLatency(key: string, ms: number): void {
    const current = this.#latency.get(key);
    this.#latency.set(key, current === undefined ? ms : current + this.#alpha * (ms - current));
  }

  /**
   * The index (into `keys`) of the member to use among `candidates` (indices into `keys`, every
   * one a member of `group`). `candidates` must not be empty.
   */
  pick(group: ResolvedGroup, keys: readonly string[], candidates: readonly number[]): number {
    if (candidates.length === 1) return candidates[0]!;
    switch (group.strategy) {
      case "round-robin":
        return candidates[this.#rotate(group.name) % candidates.length]!;
      case "weighted":
        return this.#weighted(group, keys, candidates);
      case "latency":
        return this.#fastest(group, keys, candidates);
      default:
        return this.#leastBusy(group, keys, candidates);
    }
  }

  #rotate(name: string): number {
    const turn = this.#turn.get(name) ?? 0;
    this.#turn.set(name, turn + 1);
    return turn;
  }

  #leastBusy(group: ResolvedGroup, keys: readonly string[], candidates: readonly number[]): number {
    return this.#lowest(group, candidates, (i) => this.inFlight(keys[i]!));
  }

  #fastest(group: ResolvedGroup, keys: readonly string[], candidates: readonly number[]): number {
    if (this.#random() < this.#exploration) {
      return candidates[Math.floor(this.#random() * candidates.length)] ?? candidates[0]!;
    }
    let known = Number.POSITIVE_INFINITY;
    for (const i of candidates) known = Math.min(known, this.#latency.get(keys[i]!) ?? known);
    if (!Number.isFinite(known)) known = 1;
    return this.#lowest(group, candidates, (i) => {
      const key = keys[i]!;
      return Math.max(1, this.#latency.get(key) ?? known) * (1 + this.inFlight(key));
    });
  }

  /** The candidate with the lowest score; ties taken in turn (the group's rotation). */
  #lowest(
    group: ResolvedGroup,
    candidates: readonly number[],
    score: (i: number) => number,
  ): number {
    let best = Number.POSITIVE_INFINITY;
    const tied: number[] = [];
    for (const i of candidates) {
      const value = score(i);
      if (value < best) {
        best = value;
        tied.length = 0;
      }
      if (value === best) tied.push(i);
    }
    return tied.length === 1 ? tied[0]! : tied[this.#rotate(group.name) % tied.length]!;
  }

  /** Smooth weighted round-robin (as nginx): deterministic, and spreads the heavy member out. */
  #weighted(group: ResolvedGroup, keys: readonly string[], candidates: readonly number[]): number {
    let credit = this.#credit.get(group.name);
    if (!credit) {
      credit = group.keys.map(() => 0);
      this.#credit.set(group.name, credit);
    }
    let total = 0;
    let best = -1;
    let bestMember = -1;
    for (const i of candidates) {
      const member = group.keys.indexOf(keys[i]!);
      const weight = group.weights[member] ?? 1;
      total += weight;
      credit[member] = (credit[member] ?? 0) + weight;
      if (best < 0 || credit[member]! > credit[bestMember]!) {
        best = i;
        bestMember = member;
      }
    }
    credit[bestMember] = (credit[bestMember] ?? 0) - total;
    return best;
  }
}
