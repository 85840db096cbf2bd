import type { Sim } from '../../lib/engine/ops';
import type { Cpu } from '../../cpu/cpu';
import type { KernelOps } from '../../cpu/kernel-ops';
import { PerCpuStruct, type FieldSpec } from './layout';
import type { Mm } from '../mm/mm';
import type { Strategy, StrategyContext } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';
import { flushTlbMultiMask } from './pv-flush';
import {
  FLUSH_TLB_INFO_V4_20, GenStrategy, LOADED_MM_SWITCHING, TLB_NR_DYN_ASIDS, TlbState, chooseNewAsid, cpumaskAnyBut,
  getFlushTlbInfo, incMmTlbGen, tlbContextFields,
} from './gen-common';

/**
 * Linux v4.20–v5.12 (D1 in docs/reference/linux-lazy-tlb.md): Rik van Riel's "make lazy TLB
 * mode even lazier" series on top of the v4.14 machinery. Lazy mode is always on and costs one local store: a lazy
 * CPU keeps CR3 and stays in mm_cpumask with `is_lazy` set. A PTE-only flush skips it through
 * on_each_cpu_cond_mask(tlb_is_not_lazy), which reads every candidate's is_lazy remotely (until
 * 5.13 on the same line as that CPU's loaded_mm, ASIDs and ctxs[0..1]); a flush that frees page
 * tables IPIs the whole mask, and a lazy receiver switches to init_mm. Coming back to the same mm,
 * the CPU does smp_mb() and compares tlb_gen: the store of is_lazy = false, the barrier and the
 * load pair with the flusher's LOCK XADD on tlb_gen followed by its is_lazy load, so either the
 * flusher sees the CPU as not lazy or the CPU sees the new generation. Local flush first, then
 * remote, with the initiator waiting (serial).
 *
 * Read against arch/x86/mm/tlb.c of v5.10 (the note's snapshot; the same in v4.20–v5.12 for what
 * is modelled): enter_lazy_tlb, switch_mm_irqs_off, flush_tlb_mm_range, native_flush_tlb_others
 * with tlb_is_not_lazy, flush_tlb_func_remote and flush_tlb_func_common are all in this file;
 * `GenStrategy` adds only the shared steps (`loadNewMm`, `catchUp`, `switchToInitMm`).
 */
export class Linux420 extends GenStrategy {
  readonly name: string = 'linux-4.20';
  readonly kernel: string = 'Linux 4.20–5.12 (is_lazy; IPIs skip lazy CPUs unless page tables are freed)';
  readonly supportsPcid: boolean = true;
  /** tlb_is_not_lazy as the smp_cond_func_t on_each_cpu_cond_mask() calls. */
  protected readonly tlbIsNotLazy = (k: KernelOps, _cpu: Cpu, target: number): Sim<boolean> => this.isNotLazy(k, target);

  /**
   * struct tlb_state (v4.20 as released, the IBPB union having replaced last_ctx_id late in the
   * -rc series; either way is_lazy's line is the same): { loaded_mm, last_user_mm_ibpb,
   * u16 loaded_mm_asid, u16 next_asid, bool is_lazy, bool invalidate_other, u16
   * user_pcid_flush_mask, cr4, ctxs[6] }: 128 bytes, two lines. is_lazy is on line 0 with
   * loaded_mm, the ASIDs, cr4 and ctxs[0..1], so a flusher's remote is_lazy read pulls the line
   * this CPU writes on every switch (it moves to cpu_tlbstate_shared only in 5.13). is_lazy,
   * invalidate_other and user_pcid_flush_mask share one simulated word; only is_lazy is used
   * (PTI is not modelled).
   */
  protected layout(ctx: StrategyContext): TlbState {
    const s = new PerCpuStruct(ctx.memory, 'cpu_tlbstate', ctx.nCpus, [
      { name: 'loaded_mm', bytes: 8 },
      { name: 'last_user_mm_ibpb', bytes: 8 },
      { name: 'loaded_mm_asid', bytes: 2 },
      { name: 'next_asid', bytes: 2 },
      { name: 'is_lazy', bytes: 1 },
      { name: 'invalidate_other', bytes: 1 },
      { name: 'user_pcid_flush_mask', bytes: 2 },
      { name: 'cr4', bytes: 8 },
      ...tlbContextFields(TLB_NR_DYN_ASIDS),
    ]);
    return new TlbState(s, { nrAsids: TLB_NR_DYN_ASIDS, asids: true, lazy: s });
  }

  /** struct flush_tlb_info (v4.20; per-CPU from v5.2): v4.13's, with stride_shift and freed_tables. */
  protected flushInfoFields(): readonly FieldSpec[] {
    return FLUSH_TLB_INFO_V4_20;
  }

  /** enter_lazy_tlb() (v4.20): "Please ignore the name of this function": nothing on init_mm, else is_lazy = true (a plain store). */
  *enterLazyTlb(k: TlbOps, cpu: Cpu): Sim {
    const c = cpu.id;
    if ((yield k.load(this.ts.loadedMm(c))) === this.ctx.initMm.id) return;
    yield k.store(this.ts.isLazy(c), 1);
  }

  /**
   * switch_mm_irqs_off() (v4.20). was_lazy = is_lazy; is_lazy = false. Same mm: a thread switch
   * needs nothing; back from lazy, smp_mb() then compare ctxs[prev_asid].tlb_gen with the mm's
   * and flush the same ASID if it moved. Another mm: cpumask clear/set skipped for init_mm
   * ("the bitmap manipulation can cause cache line contention"), read tlb_gen after the LOCK BTS,
   * choose_new_asid, loaded_mm = LOADED_MM_SWITCHING while CR3 changes. Then CR3 (NOFLUSH if
   * the slot is current), loaded_mm, loaded_mm_asid.
   */
  *switchMmIrqsOff(k: TlbOps, cpu: Cpu, _prev: Mm | null, next: Mm): Sim {
    const c = cpu.id;
    const ts = this.ts;
    const initMm = this.ctx.initMm;
    const realPrev = this.mm(yield k.load(ts.loadedMm(c)));
    const prevAsid = yield* ts.readLoadedMmAsid(k, c);
    const wasLazy = (yield k.load(ts.isLazy(c))) !== 0;
    yield* this.clearIsLazy(k, c, wasLazy);
    let asid: number;
    let needFlush: boolean;
    let nextTlbGen: number;
    if (realPrev === next) {
      // WARN_ON_ONCE(real_prev != &init_mm && !cpumask_test_cpu(...)): lazy CPUs stay in the mask.
      if (realPrev !== initMm && !(yield* next.cpumask.testBit(k, c))) yield* next.cpumask.setBit(k, c);
      if (!wasLazy) return; // thread to thread of one process
      yield* this.smpMb(k); // pairs with inc_mm_tlb_gen() in the flusher
      nextTlbGen = yield k.load(next.tlbGenAddr);
      if ((yield k.load(ts.ctxTlbGen(c, prevAsid))) === nextTlbGen) return;
      this.catchUps.value++; // "TLB contents went out of date while we were in lazy mode"
      asid = prevAsid;
      needFlush = true;
    } else {
      if (realPrev !== initMm) yield* realPrev.cpumask.clearBit(k, c); // stop remote flushes for prev
      if (next !== initMm) yield* next.cpumask.setBit(k, c); // start remote flushes and then read tlb_gen
      nextTlbGen = yield k.load(next.tlbGenAddr);
      ({ asid, needFlush } = yield* chooseNewAsid(this.ctx, ts, k, c, next, nextTlbGen));
      yield k.store(ts.loadedMm(c), LOADED_MM_SWITCHING); // for nmi_uaccess_okay()
    }
    yield* this.loadNewMm(k, c, next, asid, needFlush, nextTlbGen);
  }

  /** this_cpu_write(cpu_tlbstate.is_lazy, false): v4.20 writes it on every switch. */
  protected *clearIsLazy(k: TlbOps, c: number, _wasLazy: boolean): Sim {
    yield k.store(this.ts.isLazy(c), 0);
  }

  /** smp_mb() on the way back from lazy mode (MFENCE): orders the is_lazy = false store before the tlb_gen load. */
  protected *smpMb(k: TlbOps): Sim {
    yield k.mfence();
  }

  /**
   * flush_tlb_mm_range() (v4.20–v5.12): inc_mm_tlb_gen() ("This is also a barrier that
   * synchronizes with switch_mm()"), get_flush_tlb_info() with the range or, above the ceiling,
   * TLB_FLUSH_ALL (v5.10 tests the ceiling first: no memory access, so the same);
   * flush_tlb_func_local() with interrupts off if this CPU has the mm loaded; then
   * flush_tlb_others() if any other CPU is in mm_cpumask: local first, then remote.
   */
  *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, freedTables: boolean): Sim {
    const c = cpu.id;
    yield k.preemptAdd(1); // get_cpu()
    const newTlbGen = yield* incMmTlbGen(k, mm);
    const f = yield* getFlushTlbInfo(this.ctx, this.info, k, c, mm, start, end, newTlbGen, freedTables);
    if (mm.id === (yield k.load(this.ts.loadedMm(c)))) {
      yield k.irqDisable();
      yield* this.flushTlbFuncCommon(k, cpu, f); // flush_tlb_func_local()
      yield k.irqEnable();
    }
    if (yield* cpumaskAnyBut(k, mm.cpumask, c)) yield* this.flushTlbOthers(k, cpu, mm, f, freedTables);
    yield k.preemptAdd(-1); // put_cpu()
  }

  /**
   * native_flush_tlb_others() (v4.20–v5.12): freed_tables → smp_call_function_many on the whole
   * mask ("to prevent CPUs in lazy TLB mode from tripping up on the new contents of what used to
   * be page tables"); otherwise on_each_cpu_cond_mask(tlb_is_not_lazy, ...) on it.
   */
  protected *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, f: number, freedTables: boolean): Sim {
    const smp = this.ctx.smp;
    // A pv op: with --pv-flush, kvm_flush_tlb_multi() first drops preempted vCPUs (pv-flush.ts).
    const mask = yield* flushTlbMultiMask(this.ctx.pvFlush, k, cpu.id, mm.cpumask);
    if (freedTables) yield* smp.smpCallFunctionMany(k, cpu, mask, this.flushFunc, f, true, 'serial', false);
    else yield* smp.onEachCpuCondMask(k, cpu, this.tlbIsNotLazy, this.flushFunc, f, true, mask, 'serial');
  }

  /** tlb_is_not_lazy(cpu) (v4.20–5.12): !per_cpu(cpu_tlbstate.is_lazy, cpu), a load of that CPU's cpu_tlbstate line. */
  protected *isNotLazy(k: KernelOps, target: number): Sim<boolean> {
    return (yield k.load(this.ts.isLazy(target))) === 0;
  }

  /** flush_tlb_func_remote() (v4.20–v5.12): `if (f->mm && f->mm != loaded_mm) return;`, then flush_tlb_func_common(). */
  protected *flushTlbFuncRemote(cpu: Cpu, f: number): Sim {
    const k = this.ctx.k;
    const mmId = yield k.load(f);
    if (mmId !== (yield k.load(this.ts.loadedMm(cpu.id)))) return;
    yield* this.flushTlbFuncCommon(k, cpu, f);
  }

  /**
   * flush_tlb_func_common() (v4.20–v5.12), interrupts off: read loaded_mm, loaded_mm_asid,
   * mm_tlb_gen (the mm's latest) and local_tlb_gen (what this ASID has caught up to); the init_mm
   * and lazy checks (`lazyCheck`); nothing to do if up to date; else catch up.
   */
  protected *flushTlbFuncCommon(k: TlbOps, cpu: Cpu, f: number): Sim {
    const c = cpu.id;
    const loaded = this.mm(yield k.load(this.ts.loadedMm(c)));
    const asid = yield* this.ts.readLoadedMmAsid(k, c);
    const mmTlbGen = yield k.load(loaded.tlbGenAddr);
    const localTlbGen = yield k.load(this.ts.ctxTlbGen(c, asid));
    if (yield* this.lazyCheck(k, cpu, loaded)) return;
    if (localTlbGen === mmTlbGen) return; // "two concurrent flushes": the first caught us up
    yield* this.catchUp(k, cpu, f, asid, localTlbGen, mmTlbGen);
  }

  /**
   * flush_tlb_func_common()'s checks (v4.20–v5.12): nothing to do on init_mm; a lazy CPU, which
   * gets such an IPI only when page tables were freed or by a race, switches to init_mm ("This
   * should be rare, with native_flush_tlb_others skipping IPIs to lazy TLB mode CPUs").
   * True: nothing more to do.
   */
  protected *lazyCheck(k: TlbOps, cpu: Cpu, loaded: Mm): Sim<boolean> {
    if (loaded === this.ctx.initMm) return true;
    if ((yield k.load(this.ts.isLazy(cpu.id))) === 0) return false;
    yield* this.switchToInitMm(k, cpu);
    return true;
  }
}

export const linux420 = (): Strategy => new Linux420();
