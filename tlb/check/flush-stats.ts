import type { Counter } from '../../lib/stats/counter';
import type { Histogram } from '../../lib/stats/histogram';
import type { StatGroup } from '../../lib/stats/group';
import type { Scheduler } from '../../cpu/sched';
import type { Mm } from '../mm/mm';
import type { TlbUnit } from '../hw/tlb-unit';

/**
 * Flush accounting that needs no help from the strategy: while a flush is open on a CPU, the IPIs
 * that CPU sends are its flush IPIs, and the CPUs it queues smp_call_function work for are the
 * CPUs it interrupts (an IPI is skipped when the target's queue already had work, but the
 * target is interrupted all the same). A strategy that reaches CPUs through memory instead (an
 * mc-shootdown message, a LATR state) says so on `TlbMachine.flushPosted`: those CPUs are reached
 * but not interrupted. Whether a target was lazy (CR3 on the mm while running a kernel thread or
 * idle) is read from the scheduler and the TLB hardware, not from strategy state.
 */
export class FlushStats {
  private readonly unit: TlbUnit;
  private readonly sched: Scheduler;
  /** Per CPU: the mm of the flush it is running, or null. */
  private readonly openMm: Array<Mm | null>;
  private readonly targets: Array<Set<number>>;
  /** Per CPU: the CPUs its open flush posted its invalidation to (`onPosted`). */
  private readonly posted: Array<Set<number>>;
  private readonly lazyAtStart: number[][];
  readonly count: Counter;
  readonly local: Counter;
  readonly remote: Counter;
  /** Flushes whose initiator found another CPU in mm_cpumask at entry: the kernel's decision to
   *  go remote (`cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids`, traced as TLB_REMOTE_SEND_IPI). */
  readonly remoteDecisions: Counter;
  /** CPUs interrupted, summed over flushes (targets per flush = targets / count). */
  readonly targetCpus: Counter;
  /** CPUs a flush left its invalidation to in memory, summed over flushes (posted per flush = postedCpus / count). */
  readonly postedCpus: Counter;
  readonly latency: Histogram;
  readonly tlbFlush: Counter;
  readonly toLazyCpus: Counter;
  readonly avoidedLazy: Counter;

  constructor(unit: TlbUnit, sched: Scheduler, flushes: StatGroup, ipis: StatGroup) {
    this.unit = unit;
    this.sched = sched;
    const n = unit.cr3Mm.length;
    this.openMm = new Array<Mm | null>(n).fill(null);
    this.targets = Array.from({ length: n }, () => new Set<number>());
    this.posted = Array.from({ length: n }, () => new Set<number>());
    this.lazyAtStart = Array.from({ length: n }, () => []);
    this.count = flushes.counter('count', 'flush_tlb_mm_range calls');
    this.local = flushes.counter('local', 'flushes that reached no other CPU');
    this.remote = flushes.counter('remote', 'flushes that reached another CPU: IPIs, broadcast invalidations, or invalidations posted in memory');
    this.remoteDecisions = flushes.counter('remoteDecisions', 'flushes whose mm_cpumask held another CPU at entry');
    this.targetCpus = flushes.counter('targetCpus', 'CPUs a flush interrupted (queued flush work for), summed over flushes');
    this.postedCpus = flushes.counter('postedCpus', 'CPUs a flush posted its invalidation to in memory (an mc-shootdown message, a LATR state), summed over flushes');
    this.latency = flushes.histogram('latencyCycles', 'cycles from entering flush_tlb_mm_range to its return');
    this.tlbFlush = ipis.counter('tlbFlush', 'IPIs sent by flush_tlb_mm_range');
    this.toLazyCpus = ipis.counter('toLazyCpus', 'CPUs lazy on the flushed mm that a flush interrupted');
    this.avoidedLazy = ipis.counter('avoidedLazy', 'CPUs lazy on the flushed mm (at its start) that the flush did not interrupt');
  }

  /** Lazy on `mm`: CR3 on its page tables while the CPU runs no user task of it. */
  isLazy(cpu: number, mm: Mm): boolean {
    return this.unit.cr3Mm[cpu] === mm.id && this.sched.rqs[cpu].curr.mm === null;
  }

  begin(cpu: number, mm: Mm): void {
    this.openMm[cpu] = mm;
    this.targets[cpu].clear();
    this.posted[cpu].clear();
    if (mm.cpumask.anyBut(cpu)) this.remoteDecisions.value++;
    const lazy: number[] = [];
    for (let c = 0; c < this.openMm.length; c++) if (c !== cpu && this.isLazy(c, mm)) lazy.push(c);
    this.lazyAtStart[cpu] = lazy;
  }

  /** Listens to Apic.ipiSent: a flush IPI. */
  onIpi(from: number): void {
    if (this.openMm[from] !== null) this.tlbFlush.value++;
  }

  /** Listens to Smp.csdQueued: the flush interrupts `to`. */
  onQueue(from: number, to: number): void {
    const mm = this.openMm[from];
    if (mm === null || this.targets[from].has(to)) return;
    this.targets[from].add(to);
    if (this.isLazy(to, mm)) this.toLazyCpus.value++;
  }

  /** Listens to TlbMachine.flushPosted: the flush reaches `to` through memory, without interrupting it. */
  onPosted(from: number, to: number): void {
    if (this.openMm[from] !== null && to !== from) this.posted[from].add(to);
  }

  end(cpu: number, cycles: number, broadcast: boolean): void {
    this.count.value++;
    this.latency.record(cycles);
    const targets = this.targets[cpu];
    const posted = this.posted[cpu].size;
    this.targetCpus.value += targets.size;
    this.postedCpus.value += posted;
    if (targets.size > 0 || posted > 0 || broadcast) this.remote.value++;
    else this.local.value++;
    for (const c of this.lazyAtStart[cpu]) if (!targets.has(c)) this.avoidedLazy.value++;
    this.openMm[cpu] = null;
  }
}
