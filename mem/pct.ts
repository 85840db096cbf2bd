import type { Rng } from '../lib/rng';

/**
 * PCT: probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A
 * Randomized Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010), adapted to
 * a timed simulator (docs/ARCHITECTURE.md, "Exploration: PCT"):
 *
 * - the scheduled *entities* are each CPU's instruction stream and each CPU's store buffer
 *   (x86-TSO's abstract machine drains a buffer as an action of its own: Owens, Sarkar, Sewell,
 *   TPHOLs 2009), entity `cpu` and `nCpus + cpu`;
 * - a *step* is one memory operation a CPU issues, or one store-buffer entry set to drain;
 * - *priorities* d, d+1, ..., d+m-1 go to the m entities in a random order; the i-th of d-1
 *   *change points*, drawn uniformly from steps 1..k, lowers the priority of the entity taking
 *   that step to i, below every initial one.
 *
 * Time cannot stop for a priority here, so a priority acts through the step's start time: an
 * entity ranked r (0 = highest) starts each step r cycles late, so of two entities ready in the
 * same cycle the higher goes first; the entity taking the change point to priority i is held back
 * (d - i) x `holdCycles` while the others run unhindered (so of two held entities the lower is
 * released last, as strict priorities would have it), and keeps its low rank afterwards.
 */
export interface PctOptions {
  /** PCT's d: the bug depth aimed at; d - 1 change points. */
  depth: number;
  /** PCT's k: the estimated number of steps of the run; change points fall in 1..k. */
  steps: number;
  /** The unit of holding back, in cycles: the change point to priority i holds (d - i) units. */
  holdCycles: number;
}

export class PctSchedule {
  /** Steps taken so far in the run. */
  taken: number;
  private readonly priority: Int32Array;
  /** rank[e]: how many entities have a higher priority than e (its lateness per step, in cycles). */
  private readonly rank: Int32Array;
  /** The change points, ascending step numbers. */
  private readonly changeAt: Float64Array;
  /** The priority each change point gives, in `changeAt` order. */
  private readonly changePriority: Int32Array;
  private nextChange: number;
  private nextAt: number;
  private readonly hold: number;
  private readonly depth: number;

  constructor(entities: number, o: PctOptions, rng: Rng) {
    this.taken = 0;
    this.hold = o.holdCycles;
    this.depth = o.depth;
    // Initial priorities d..d+m-1 in a random order (Fisher-Yates).
    this.priority = new Int32Array(entities);
    for (let e = 0; e < entities; e++) this.priority[e] = o.depth + e;
    for (let e = entities - 1; e > 0; e--) {
      const j = rng.int(e + 1);
      const t = this.priority[e];
      this.priority[e] = this.priority[j];
      this.priority[j] = t;
    }
    this.rank = new Int32Array(entities);
    this.rerank();
    // d - 1 distinct change points, uniform over 1..k (fewer when k < d - 1).
    const n = Math.min(o.depth - 1, o.steps);
    const points: number[] = [];
    while (points.length < n) {
      const s = 1 + rng.int(o.steps);
      if (!points.includes(s)) points.push(s);
    }
    // The i-th change point in PCT's numbering is the i-th drawn; it takes priority i.
    const order = points.map((_, i) => i).sort((a, b) => points[a] - points[b]);
    this.changeAt = Float64Array.from(order.map((i) => points[i]));
    this.changePriority = Int32Array.from(order.map((i) => i + 1));
    this.nextChange = 0;
    this.nextAt = this.changeAt.length > 0 ? this.changeAt[0] : Infinity;
  }

  /** Entity `e` takes a step: the cycles it starts late (its rank, plus the hold at a change point). */
  step(e: number): number {
    const s = ++this.taken;
    if (s !== this.nextAt) return this.rank[e];
    const p = this.changePriority[this.nextChange++];
    this.priority[e] = p;
    this.nextAt = this.nextChange < this.changeAt.length ? this.changeAt[this.nextChange] : Infinity;
    this.rerank();
    // Of two held entities the higher-priority one must go first, as under PCT's strict
    // priorities: priority p (1..d-1) is held (d - p) holds, so the lowest is released last.
    return this.hold * (this.depth - p) + this.rank[e];
  }

  /** The current priorities, by entity (for tests and reports). */
  priorities(): number[] {
    return Array.from(this.priority);
  }

  /** The change points, ascending. */
  changePoints(): number[] {
    return Array.from(this.changeAt);
  }

  private rerank(): void {
    const p = this.priority;
    for (let e = 0; e < p.length; e++) {
      let r = 0;
      for (let f = 0; f < p.length; f++) if (p[f] > p[e]) r++;
      this.rank[e] = r;
    }
  }
}
