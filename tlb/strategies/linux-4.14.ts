import type { Sim } from '../../lib/engine/ops';
import type { Cpu } from '../../cpu/cpu';
import { PerCpuStruct, type FieldSpec } from './layout';
import type { Mm } from '../mm/mm';
import type { Strategy, StrategyContext } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';
import { flushTlbMultiMask } from './pv-flush';
import {
  FLUSH_TLB_INFO_V4_13, GenStrategy, TLB_NR_DYN_ASIDS, TlbState, chooseNewAsid, cpumaskAnyBut, getFlushTlbInfo, incMmTlbGen,
  tlbContextFields,
} from './gen-common';

/**
 * Linux v4.14–v4.19 (C3 + C4 in docs/reference/linux-lazy-tlb.md): PCID with TLB_NR_DYN_ASIDS
 * per-CPU ASID slots (10af6235e0d3), and "Flush more aggressively in lazy TLB mode" (b956575bed91), which
 * closed v4.13's stale paging-structure-cache hazard. Whether a CPU is lazy at all depends on
 * PCID, as `tlb_defer_switch_to_init_mm()` = !X86_FEATURE_PCID decides:
 * - with PCID (`linux-4.14-pcid`), enter_lazy_tlb switches to init_mm at once: a NOFLUSH CR3
 *   write to init_mm's ASID and the cpumask atomics on both masks (init_mm's too), and the way
 *   back is a full switch that reuses the mm's ASID slot without flushing if its tlb_gen is
 *   current;
 * - without PCID (`linux-4.14`, or `linux-4.14-pcid` with PCID off, exactly as the kernel does),
 *   the CPU only sets `is_lazy` and stays in mm_cpumask; the first flush IPI it gets while lazy
 *   switches it to init_mm (which clears its bit), so it gets one IPI per lazy period.
 * Flush IPIs go to all of mm_cpumask either way; freed page tables need no special case.
 *
 * v4.14's switch_mm_irqs_off, enter_lazy_tlb, flush_tlb_mm_range, native_flush_tlb_others,
 * flush_tlb_func_remote and flush_tlb_func_common are all in this file; `GenStrategy` adds only
 * the shared steps (`loadNewMm`, `catchUp`, `switchToInitMm`).
 */
export class Linux414 extends GenStrategy {
  readonly name: string;
  readonly kernel: string;
  readonly supportsPcid: boolean;

  constructor(pcid: boolean) {
    super();
    this.supportsPcid = pcid;
    this.name = pcid ? 'linux-4.14-pcid' : 'linux-4.14';
    this.kernel = pcid
      ? 'Linux 4.14–4.19 on PCID hardware (lazy entry switches to init_mm; PCID ASID slots)'
      : 'Linux 4.14–4.19 without PCID (is_lazy; the first flush IPI moves a lazy CPU to init_mm)';
  }

  /**
   * struct tlb_state (v4.14): { loaded_mm, u16 loaded_mm_asid, u16 next_asid, bool is_lazy,
   * cr4, ctxs[6] }: 120 bytes on two lines; is_lazy shares line 0 with loaded_mm, the ASIDs, cr4
   * and ctxs[0..1].
   */
  protected layout(ctx: StrategyContext): TlbState {
    const s = new PerCpuStruct(ctx.memory, 'cpu_tlbstate', ctx.nCpus, [
      { name: 'loaded_mm', bytes: 8 },
      { name: 'loaded_mm_asid', bytes: 2 },
      { name: 'next_asid', bytes: 2 },
      { name: 'is_lazy', bytes: 1 },
      { name: 'cr4', bytes: 8 },
      ...tlbContextFields(TLB_NR_DYN_ASIDS),
    ]);
    return new TlbState(s, { nrAsids: TLB_NR_DYN_ASIDS, asids: true, lazy: s });
  }

  /** struct flush_tlb_info (v4.14–4.19, on the initiator's stack): { mm, start, end, new_tlb_gen }. */
  protected flushInfoFields(): readonly FieldSpec[] {
    return FLUSH_TLB_INFO_V4_13;
  }

  /** tlb_defer_switch_to_init_mm() (v4.14–4.19; the static key tlb_use_lazy_mode in early 4.14): lazy only without PCID. */
  protected deferSwitchToInitMm(): boolean {
    return !this.ctx.options.pcid;
  }

  /** enter_lazy_tlb() (v4.14): nothing on init_mm; else mark lazy, or with PCID switch_mm(NULL, &init_mm, NULL). */
  *enterLazyTlb(k: TlbOps, cpu: Cpu): Sim {
    const c = cpu.id;
    if ((yield k.load(this.ts.loadedMm(c))) === this.ctx.initMm.id) return;
    if (this.deferSwitchToInitMm()) yield k.store(this.ts.isLazy(c), 1);
    else yield* this.switchMmIrqsOff(k, cpu, null, this.ctx.initMm); // interrupts are already off here
  }

  /**
   * switch_mm_irqs_off() (v4.14). Clears is_lazy. Same mm as loaded: nothing to do (a lazy CPU
   * that got a flush IPI is on init_mm by now, so it takes the other branch). Another mm: clear
   * this CPU from prev's mask and set it in next's (both unconditionally, init_mm's included: the
   * init_mm contention Rik van Riel measured in 2018), read tlb_gen after the LOCK BTS, pick an
   * ASID slot, and write CR3 with NOFLUSH if the slot is up to date.
   */
  *switchMmIrqsOff(k: TlbOps, cpu: Cpu, _prev: Mm | null, next: Mm): Sim {
    const c = cpu.id;
    const ts = this.ts;
    const initMm = this.ctx.initMm;
    const realPrev = this.mm(yield k.load(ts.loadedMm(c)));
    yield k.store(ts.isLazy(c), 0);
    if (realPrev === next) {
      // WARN_ON_ONCE(real_prev != &init_mm && !cpumask_test_cpu(cpu, mm_cpumask(next))): never taken here.
      if (realPrev !== initMm && !(yield* next.cpumask.testBit(k, c))) yield* next.cpumask.setBit(k, c);
      return;
    }
    yield* realPrev.cpumask.clearBit(k, c); // stop remote flushes for the previous mm
    yield* next.cpumask.setBit(k, c); // start remote flushes and then read tlb_gen
    const nextTlbGen = yield k.load(next.tlbGenAddr);
    const { asid, needFlush } = yield* chooseNewAsid(this.ctx, ts, k, c, next, nextTlbGen);
    yield* this.loadNewMm(k, c, next, asid, needFlush, nextTlbGen);
  }

  /**
   * flush_tlb_mm_range() (v4.14–4.19): inc_mm_tlb_gen() ("This is also a barrier that
   * synchronizes with switch_mm()"), the range or, above the ceiling, TLB_FLUSH_ALL;
   * flush_tlb_func_local() with interrupts off if this CPU has the mm loaded; then
   * flush_tlb_others() if any other CPU is in mm_cpumask: local first, then remote.
   */
  *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, _freedTables: boolean): Sim {
    const c = cpu.id;
    yield k.preemptAdd(1); // get_cpu()
    const newTlbGen = yield* incMmTlbGen(k, mm);
    const f = yield* getFlushTlbInfo(this.ctx, this.info, k, c, mm, start, end, newTlbGen, false);
    if (mm.id === (yield k.load(this.ts.loadedMm(c)))) {
      yield k.irqDisable();
      yield* this.flushTlbFuncCommon(k, cpu, f); // flush_tlb_func_local()
      yield k.irqEnable();
    }
    if (yield* cpumaskAnyBut(k, mm.cpumask, c)) yield* this.flushTlbOthers(k, cpu, mm, f);
    yield k.preemptAdd(-1); // put_cpu()
  }

  /** native_flush_tlb_others() (v4.14): smp_call_function_many(mm_cpumask(mm), ...), lazy CPUs included. */
  protected *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, f: number): Sim {
    // A pv op: with --pv-flush, kvm_flush_tlb_multi() first drops preempted vCPUs (pv-flush.ts).
    const mask = yield* flushTlbMultiMask(this.ctx.pvFlush, k, cpu.id, mm.cpumask);
    yield* this.ctx.smp.smpCallFunctionMany(k, cpu, mask, this.flushFunc, f, true, 'serial', false);
  }

  /** flush_tlb_func_remote() (v4.14): `if (f->mm && f->mm != loaded_mm) return;`, then flush_tlb_func_common(). */
  protected *flushTlbFuncRemote(cpu: Cpu, f: number): Sim {
    const k = this.ctx.k;
    const mmId = yield k.load(f);
    if (mmId !== (yield k.load(this.ts.loadedMm(cpu.id)))) return;
    yield* this.flushTlbFuncCommon(k, cpu, f);
  }

  /**
   * flush_tlb_func_common() (v4.14), interrupts off: read loaded_mm, loaded_mm_asid, mm_tlb_gen
   * (the mm's latest) and local_tlb_gen (ctxs[asid].tlb_gen, what this ASID has caught up to);
   * the init_mm and lazy checks (`lazyCheck`); nothing to do if up to date; else catch up.
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
   * flush_tlb_func_common()'s checks (v4.14): nothing to do on init_mm; a lazy CPU switches to
   * init_mm: "We need to at least flush our paging-structure cache to avoid speculatively
   * reading garbage into our TLB. Since switching to init_mm is barely slower than a minimal
   * flush, just switch to init_mm." That clears its mm_cpumask bit: one IPI per lazy period.
   * True: nothing more to do.
   */
  protected *lazyCheck(k: TlbOps, cpu: Cpu, loaded: Mm): Sim<boolean> {
    if (loaded === this.ctx.initMm) return true;
    if ((yield k.load(this.ts.isLazy(cpu.id))) === 0) return false;
    yield* this.switchToInitMm(k, cpu);
    return true;
  }
}

export const linux414 = (): Strategy => new Linux414(false);
export const linux414Pcid = (): Strategy => new Linux414(true);
