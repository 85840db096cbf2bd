import type { Sim } from '../../lib/engine/ops';
import type { Cpu } from '../../cpu/cpu';
import type { Cpumask } from '../../cpu/cpumask';
import type { Task } from '../../cpu/task';
import { PerCpuStruct } from './layout';
import { INIT_MM_ID, type Mm } from '../mm/mm';
import type { FlushReason, Strategy, StrategyContext } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';
import { flushTlbMultiMask } from './pv-flush';
import { TLB_FLUSH_ALL, flushEnd, flushTlbLocalRange } from './common';

export const TLBSTATE_OK = 1;
export const TLBSTATE_LAZY = 2;

/**
 * Linux v4.8, arch/x86/mm/tlb.c and asm/mmu_context.h (the TLBSTATE_OK/LAZY scheme used from
 * 2.6 to 4.11). A CPU switching to a kernel thread only marks itself LAZY and keeps the old mm
 * loaded and its bit in mm_cpumask. Flush IPIs go to every CPU in mm_cpumask; a LAZY receiver
 * runs leave_mm(): it clears its bit and loads swapper_pg_dir, so it gets one IPI per lazy
 * period. No PCID: every CR3 write flushes the TLB.
 */
export class Linux48 implements Strategy {
  readonly name: string = 'linux-4.8';
  readonly kernel: string = 'Linux 2.6.x – 4.11 (code read at v4.8)';
  readonly supportsPcid: boolean = false;
  protected ctx!: StrategyContext;
  /** DEFINE_PER_CPU_SHARED_ALIGNED(struct tlb_state, cpu_tlbstate) = { active_mm, state }. */
  protected tlbstate!: PerCpuStruct;
  /** The initiator's struct flush_tlb_info (on its stack in v4.8): { flush_mm, flush_start, flush_end }. */
  protected info!: PerCpuStruct;
  protected flushFunc = 0;

  attach(ctx: StrategyContext): void {
    this.ctx = ctx;
    this.tlbstate = new PerCpuStruct(ctx.memory, 'cpu_tlbstate', ctx.nCpus, [
      { name: 'active_mm', bytes: 8 },
      { name: 'state', bytes: 4 },
    ]);
    this.info = new PerCpuStruct(ctx.memory, 'flush_tlb_info', ctx.nCpus, [
      { name: 'flush_mm', bytes: 8 },
      { name: 'flush_start', bytes: 8 },
      { name: 'flush_end', bytes: 8 },
    ]);
    for (let c = 0; c < ctx.nCpus; c++) {
      ctx.memory.poke(this.tlbstate.addr(c, 'state'), TLBSTATE_OK);
      ctx.memory.poke(this.tlbstate.addr(c, 'active_mm'), INIT_MM_ID);
    }
    this.flushFunc = ctx.smp.register('flush_tlb_func', (cpu, info) => this.flushTlbFunc(cpu, info));
  }

  /** enter_lazy_tlb(): if (this_cpu_read(cpu_tlbstate.state) == TLBSTATE_OK) write LAZY. */
  *enterLazyTlb(k: TlbOps, cpu: Cpu): Sim {
    const state = this.tlbstate.addr(cpu.id, 'state');
    if ((yield k.load(state)) === TLBSTATE_OK) yield k.store(state, TLBSTATE_LAZY);
  }

  /** switch_mm_irqs_off(prev, next, tsk). */
  *switchMmIrqsOff(k: TlbOps, cpu: Cpu, prev: Mm | null, next: Mm): Sim {
    const c = cpu.id;
    if (prev !== next) {
      yield k.store(this.tlbstate.addr(c, 'state'), TLBSTATE_OK);
      yield k.store(this.tlbstate.addr(c, 'active_mm'), next.id);
      yield* next.cpumask.setBit(k, c);
      // Re-load page tables (load_cr3 is serializing: it orders the cpumask store before any
      // load from next->pgd).
      yield k.writeCr3(next.id, 0, false);
      if (prev !== null) yield* prev.cpumask.clearBit(k, c);
      return;
    }
    yield k.store(this.tlbstate.addr(c, 'state'), TLBSTATE_OK);
    if (!(yield* next.cpumask.testBit(k, c))) {
      // We were in lazy mode and leave_mm disabled flush IPIs: reload CR3 to catch up.
      yield* next.cpumask.setBit(k, c);
      yield k.writeCr3(next.id, 0, false);
    }
  }

  /** flush_tlb_mm_range(mm, start, end, vmflag). */
  *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, _freedTables = false, reason: FlushReason = 'other'): Sim {
    const c = cpu.id;
    yield k.preemptAdd(1);
    const current = this.current(c);
    if (current.activeMm !== mm) {
      yield k.mfence(); // "Synchronize with switch_mm": the PTE stores before the mm_cpumask read
    } else if (current.mm === null) {
      yield* this.leaveMm(k, cpu);
      yield k.mfence();
    } else {
      yield* flushTlbLocalRange(this.ctx, k, cpu, start, end);
    }
    if (yield* this.othersInMask(k, c, mm.cpumask)) yield* this.flushTlbOthers(k, cpu, mm, start, flushEnd(this.ctx, start, end), reason);
    yield k.preemptAdd(-1);
  }

  /** native_flush_tlb_others(mm_cpumask(mm), mm, start, end): the flush IPIs, waited for. */
  protected *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, _reason: FlushReason): Sim {
    const c = cpu.id;
    yield* this.fillInfo(k, c, mm, start, end);
    // A pv op (from v4.16; here a what-if): with --pv-flush, KVM first drops preempted vCPUs (pv-flush.ts).
    const mask = yield* flushTlbMultiMask(this.ctx.pvFlush, k, c, mm.cpumask);
    yield* this.ctx.smp.smpCallFunctionMany(k, cpu, mask, this.flushFunc, this.info.addr(c, 'flush_mm'), true, 'serial', false);
  }

  /** flush_tlb_func(info): the IPI handler. */
  protected *flushTlbFunc(cpu: Cpu, f: number): Sim {
    const k = this.ctx.k;
    const c = cpu.id;
    const mmId = yield k.load(f);
    if (mmId !== (yield k.load(this.tlbstate.addr(c, 'active_mm')))) return;
    if ((yield k.load(this.tlbstate.addr(c, 'state'))) === TLBSTATE_OK) {
      const start = yield k.load(f + 8);
      const end = yield k.load(f + 16);
      yield* flushTlbLocalRange(this.ctx, k, cpu, start, end === TLB_FLUSH_ALL ? TLB_FLUSH_ALL : end);
    } else {
      yield* this.leaveMm(k, cpu);
    }
  }

  /** intel_idle / acpi_idle before deep C-states (until v4.13): leave_mm() so no flush IPI wakes us. */
  *idleEnter(k: TlbOps, cpu: Cpu): Sim {
    if (this.ctx.options.idleLeaveMm) yield* this.leaveMm(k, cpu);
  }

  /** leave_mm(cpu): drop out of mm_cpumask and run on swapper_pg_dir until the next switch. */
  protected *leaveMm(k: TlbOps, cpu: Cpu): Sim {
    const c = cpu.id;
    const active = this.ctx.mmById(yield k.load(this.tlbstate.addr(c, 'active_mm')));
    if (active.id === INIT_MM_ID) return;
    if (yield* active.cpumask.testBit(k, c)) {
      yield* active.cpumask.clearBit(k, c);
      yield k.writeCr3(INIT_MM_ID, 0, false);
    }
  }

  protected *fillInfo(k: TlbOps, c: number, mm: Mm, start: number, end: number): Sim {
    yield k.store(this.info.addr(c, 'flush_mm'), mm.id);
    yield k.store(this.info.addr(c, 'flush_start'), start);
    yield k.store(this.info.addr(c, 'flush_end'), end);
  }

  /** cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids. */
  protected *othersInMask(k: TlbOps, c: number, mask: Cpumask): Sim<boolean> {
    const cpus = yield* mask.loadCpus(k);
    return cpus.some((x) => x !== c);
  }

  protected current(c: number): Task {
    return this.ctx.sched.rqs[c].curr;
  }
}

export const linux48 = (): Strategy => new Linux48();
