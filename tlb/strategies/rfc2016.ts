import type { Sim } from '../../lib/engine/ops';
import type { Counter } from '../../lib/stats/counter';
import type { Cpu } from '../../cpu/cpu';
import { Cpumask } from '../../cpu/cpumask';
import type { Mm } from '../mm/mm';
import type { Strategy, StrategyContext } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';
import { flushTlbMultiMask } from './pv-flush';
import { flushTlbLocalRange, flushEnd } from './common';
import { Linux48, TLBSTATE_LAZY, TLBSTATE_OK } from './linux-4.8';

/** cpu_tlbstate.state values: OK and LAZY are v4.8's; FLUSH is the RFC's. */
export { TLBSTATE_LAZY, TLBSTATE_OK };
export const TLBSTATE_FLUSH = 3;

/**
 * Rik van Riel's 2016 RFC "x86,mm,sched: make lazy TLB mode even lazier" (never merged), on top
 * of Linux v4.8. A third per-CPU state, FLUSH, lives in `cpu_tlbstate.state` beside `active_mm`
 * (one line, as in v4.8). Lazy CPUs stay in mm_cpumask. The flusher does, for every other CPU in
 * mm_cpumask, `cmpxchg(&state, LAZY, FLUSH)`: a CPU that was lazy is skipped (it flushes at its
 * next switch back), the others get the v4.8 flush IPI. The RFC thread is lost; this follows
 * the summary in docs/reference/linux-lazy-tlb.md (§3): the variants differ only in how the
 * check-and-skip and the switch's read-and-reset are made atomic with respect to each other.
 *
 * This class is B0, the RFC as first written: the switch reads the state, then writes OK, two
 * plain accesses, so a flusher's cmpxchg landing between them (or while the store of OK still
 * sits in the store buffer) is overwritten and the flush is lost. Freed page tables get no
 * special case: lazy CPUs are skipped then too, keeping CR3 on the freed tables.
 */
export class Rfc2016Naive extends Linux48 {
  override readonly name: string = 'rfc2016-naive';
  override readonly kernel: string = '2016 RFC "make lazy TLB mode even lazier" (TLBSTATE_FLUSH) on v4.8, as first written (racy)';
  /** Per CPU: the CPUs this CPU's flush IPIs go to (a DEFINE_PER_CPU cpumask, like cfd->cpumask). */
  protected flushMasks: Cpumask[] = [];
  protected skipped!: Counter;
  protected switchFlushes!: Counter;

  override attach(ctx: StrategyContext): void {
    super.attach(ctx);
    for (let c = 0; c < ctx.nCpus; c++) {
      ctx.memory.poke(this.tlbstate.addr(c, 'state'), TLBSTATE_OK);
      this.flushMasks.push(new Cpumask(ctx.memory, `rfc_flush_mask[${c}]`, ctx.nCpus));
    }
    this.skipped = ctx.stats.counter('lazyIpisSkipped', 'CPUs in mm_cpumask that were LAZY or FLUSH, so the flusher sent them no IPI');
    this.switchFlushes = ctx.stats.counter('flushOnSwitch', 'returns to the same mm that reloaded CR3 (state was FLUSH, or leave_mm had cleared the bit)');
  }

  /** Address of `per_cpu(cpu_tlbstate.state, cpu)` (for tests and stats). */
  stateAddr(cpu: number): number {
    return this.tlbstate.addr(cpu, 'state');
  }

  /** The globally visible value of a CPU's state word (outside simulated time; for tests). */
  peekState(cpu: number): number {
    return this.ctx.memory.peek(this.stateAddr(cpu));
  }

  /** enter_lazy_tlb() (v4.8, unchanged by the RFC): OK → LAZY; LAZY and FLUSH stay as they are. */
  override *enterLazyTlb(k: TlbOps, cpu: Cpu): Sim {
    const state = this.tlbstate.addr(cpu.id, 'state');
    if ((yield k.load(state)) === TLBSTATE_OK) yield k.store(state, TLBSTATE_LAZY);
  }

  /**
   * switch_mm_irqs_off() (v4.8 + RFC). A switch to another mm always reloads CR3, so it keeps
   * v4.8's plain `state = OK` (a FLUSH it overwrites is covered by that reload). A return to the
   * same mm reads the old state and resets it to OK, and reloads CR3 if a flusher had marked it
   * FLUSH or leave_mm() had taken the CPU out of the mask (a flush IPI reached it while lazy).
   */
  override *switchMmIrqsOff(k: TlbOps, cpu: Cpu, prev: Mm | null, next: Mm): Sim {
    if (prev !== next) {
      yield* super.switchMmIrqsOff(k, cpu, prev, next);
      return;
    }
    const c = cpu.id;
    const oldstate = yield* this.resetState(k, c);
    const inMask = yield* next.cpumask.testBit(k, c);
    if (oldstate === TLBSTATE_FLUSH || !inMask) {
      this.switchFlushes.value++;
      if (!inMask) yield* next.cpumask.setBit(k, c);
      // load_cr3(next->pgd): a full flush (no PCID); serializing, so it orders the cpumask set.
      yield k.writeCr3(next.id, 0, false);
    }
  }

  /**
   * The switch side's `oldstate = this_cpu_read(state); this_cpu_write(state, OK)` as the RFC
   * first had it: a load, then a store. Nothing makes the pair atomic.
   */
  protected *resetState(k: TlbOps, c: number): Sim<number> {
    const state = this.tlbstate.addr(c, 'state');
    const old = yield k.load(state);
    yield k.store(state, TLBSTATE_OK);
    return old;
  }

  /**
   * flush_tlb_mm_range() (v4.8) with the RFC's native_flush_tlb_others(): the local part as in
   * v4.8, then the check-and-skip for each other CPU in mm_cpumask, then one
   * smp_call_function_many() to the CPUs that were not lazy. `freedTables` is ignored: the RFC
   * had no page-table-free case, so lazy CPUs keep CR3 on the freed tables (the oracle's
   * freed-page-table hazard).
   */
  override *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, _freedTables?: boolean): Sim {
    const c = cpu.id;
    yield k.preemptAdd(1);
    const current = this.current(c);
    if (current.activeMm === mm) {
      if (current.mm === null) yield* this.leaveMm(k, cpu);
      else yield* flushTlbLocalRange(this.ctx, k, cpu, start, end);
    }
    const ipi: number[] = [];
    for (const t of yield* mm.cpumask.loadCpus(k)) {
      if (t === c) continue;
      if (yield* this.checkAndSkip(k, cpu, t)) this.skipped.value++;
      else ipi.push(t);
    }
    if (ipi.length > 0) {
      yield* this.fillInfo(k, c, mm, start, flushEnd(this.ctx, start, end));
      // The scratch mask is this CPU's own (per-CPU, nobody else reads or writes its line), so it
      // is filled functionally, as smp.ts fills cfd->cpumask: __cpumask_set_cpu on an L1-resident
      // private line costs nothing the coherence model would see. smp_call_function_many reads
      // it back with simulated loads.
      const mask = this.flushMasks[c];
      mask.assign(ipi);
      // A pv op (a what-if on the RFC's 4.8 base): with --pv-flush, KVM first drops preempted vCPUs.
      const sent = yield* flushTlbMultiMask(this.ctx.pvFlush, k, c, mask);
      yield* this.ctx.smp.smpCallFunctionMany(k, cpu, sent, this.flushFunc, this.info.addr(c, 'flush_mm'), true, 'serial', false);
    }
    yield k.preemptAdd(-1);
  }

  /**
   * The RFC's per-CPU test in native_flush_tlb_others(): `old = cmpxchg(&per_cpu(
   * cpu_tlbstate.state, cpu), TLBSTATE_LAZY, TLBSTATE_FLUSH); return old != TLBSTATE_OK;`
   * → true to skip the IPI. One locked RMW on the target's cpu_tlbstate line, lazy or not.
   */
  protected *checkAndSkip(k: TlbOps, _cpu: Cpu, target: number): Sim<boolean> {
    const old = yield k.cmpxchg(this.tlbstate.addr(target, 'state'), TLBSTATE_LAZY, TLBSTATE_FLUSH);
    return old !== TLBSTATE_OK;
  }
}

/**
 * B1: the RFC with fix (1), an atomic read-and-reset on the switch side, `oldstate =
 * xchg(&cpu_tlbstate.state, TLBSTATE_OK)`. A flusher's cmpxchg now lands either before it (the
 * xchg returns FLUSH) or after it (it sees OK and sends the IPI). Costs one locked RMW per
 * return to the same mm, on a line flushers write remotely. Still unsafe for freed page tables.
 */
export class Rfc2016Xchg extends Rfc2016Naive {
  override readonly name: string = 'rfc2016-xchg';
  override readonly kernel: string = '2016 RFC "make lazy TLB mode even lazier" on v4.8, fix (1): xchg(state, OK) at switch';

  /** switch_mm_irqs_off()'s `oldstate = xchg(&state, TLBSTATE_OK)` (RFC fix 1). */
  protected override *resetState(k: TlbOps, c: number): Sim<number> {
    return yield k.xchg(this.tlbstate.addr(c, 'state'), TLBSTATE_OK);
  }
}

/**
 * B2: the RFC with fix (2): the flusher takes the target's runqueue lock around its
 * check-and-skip. schedule() holds that lock (with interrupts off) across switch_mm_irqs_off(),
 * so the switch's plain read-then-write of the state is atomic with respect to the flusher.
 * The lock is taken with raw_spin_lock_irqsave(): the rq lock is also taken from interrupts
 * (tick, hrtimer wake-ups), so holding it with interrupts on could deadlock against this CPU's
 * own interrupt. One rq lock at a time, never nested, so no lock-order problem. Still unsafe
 * for freed page tables.
 */
export class Rfc2016Rqlock extends Rfc2016Naive {
  override readonly name: string = 'rfc2016-rqlock';
  override readonly kernel: string = '2016 RFC "make lazy TLB mode even lazier" on v4.8, fix (2): flusher takes the remote rq lock';
  protected rqLocks!: Counter;

  override attach(ctx: StrategyContext): void {
    super.attach(ctx);
    this.rqLocks = ctx.stats.counter('remoteRqLocks', 'remote runqueue locks taken by flushers around the check-and-skip');
  }

  /** raw_spin_lock_irqsave(&cpu_rq(cpu)->lock); cmpxchg(LAZY → FLUSH); raw_spin_unlock_irqrestore() (RFC fix 2). */
  protected override *checkAndSkip(k: TlbOps, cpu: Cpu, target: number): Sim<boolean> {
    const lock = this.ctx.sched.rqs[target].lock;
    const wasOn = cpu.irqsOn;
    if (wasOn) yield k.irqDisable();
    yield* lock.lock(k, cpu.id);
    this.rqLocks.value++;
    const skip = yield* super.checkAndSkip(k, cpu, target);
    yield* lock.unlock(k, cpu.id);
    if (wasOn) yield k.irqEnable();
    return skip;
  }
}

export const rfc2016Naive = (): Strategy => new Rfc2016Naive();
export const rfc2016Xchg = (): Strategy => new Rfc2016Xchg();
export const rfc2016Rqlock = (): Strategy => new Rfc2016Rqlock();
