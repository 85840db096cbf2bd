/**
 * Memory-level parallelism of user code: how an out-of-order core overlaps independent accesses.
 * A stream of independent loads and stores issues one access per cycle. A hit in either TLB level
 * is pipelined (the STLB lookup adds latency, not occupancy). A page walk holds one of
 * `pageWalkers` walkers for the walk's duration and one of `fillBuffers` miss slots until its data
 * arrives (the window of outstanding misses). The next access waits only for a free slot, so n
 * independent walks of latency L take about L + (n - 1) L / pageWalkers cycles instead of n L.
 *
 * The timeline is absolute simulated cycles of one CPU; the caller charges the time by waiting
 * until each issue time, and at the end until the last completion. Kernel code never uses it.
 */
export class MlpWindow {
  /** When each miss slot (fill buffer) frees, and each walker. */
  private readonly slots: Float64Array;
  private readonly walkers: Float64Array;
  /** The earliest cycle the next access can issue, and the last completion so far. */
  issueAt: number;
  done: number;

  constructor(fillBuffers: number, pageWalkers: number) {
    this.slots = new Float64Array(fillBuffers);
    this.walkers = new Float64Array(pageWalkers);
    this.issueAt = 0;
    this.done = 0;
  }

  /** A new stream at `now`: nothing outstanding. */
  begin(now: number): void {
    this.slots.fill(now);
    this.walkers.fill(now);
    this.issueAt = now;
    this.done = now;
  }

  /** When the next access can issue if it may miss: a free slot is needed. */
  nextIssue(): number {
    const s = this.slots[minIndex(this.slots)];
    return s > this.issueAt ? s : this.issueAt;
  }

  /** An access issued at `at` that hit a TLB: `latency` cycles, no miss slot. */
  hit(at: number, latency: number): void {
    this.issueAt = at + 1;
    if (at + latency > this.done) this.done = at + latency;
  }

  /** A walk issued at `at` (from `nextIssue`) whose translation and data take `latency` cycles. */
  miss(at: number, latency: number): void {
    this.slots[minIndex(this.slots)] = at + latency;
    this.issueAt = at + 1;
    if (at + latency > this.done) this.done = at + latency;
  }

  /** A walk of `walkCycles` wanted at `at`: returns when a walker starts it (and holds it till done). */
  walk(at: number, walkCycles: number): number {
    const w = minIndex(this.walkers);
    const start = this.walkers[w] > at ? this.walkers[w] : at;
    this.walkers[w] = start + walkCycles;
    return start;
  }
}

function minIndex(a: Float64Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] < a[best]) best = i;
  return best;
}
