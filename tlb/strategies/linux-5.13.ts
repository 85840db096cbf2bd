import type { Sim } from '../../lib/engine/ops';
import type { Counter } from '../../lib/stats/counter';
import type { Cpu } from '../../cpu/cpu';
import { Cpumask } from '../../cpu/cpumask';
import type { KernelOps } from '../../cpu/kernel-ops';
import type { FieldSpec, PerCpuStruct } from './layout';
import type { Mm } from '../mm/mm';
import type { Strategy, StrategyContext } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';
import { flushTlbMultiMask } from './pv-flush';
import {
  FLUSH_TLB_INFO_V5_13, GenStrategy, LOADED_MM_SWITCHING, TLB_GENERATION_INVALID, TLB_NR_DYN_ASIDS, TlbState, chooseNewAsid,
  cpumaskAnyBut, getFlushTlbInfo, incMmTlbGen, tlbContextFields, tlbStateWithShared,
} from './gen-common';

export { FLUSH_TLB_INFO_V5_13, TLB_GENERATION_INVALID };

/**
 * Linux v5.13 (E1 in docs/reference/linux-lazy-tlb.md): Nadav Amit's concurrent flushes and
 * cacheline hygiene on top of v4.20's lazy mode, plus the handler shortcut of v5.19 (E1b), as
 * that note's §9 item 9 prescribes:
 * - flush_tlb_multi() with the initiator in the mask: IPIs go out first, the local flush runs
 *   while they fly, then the initiator waits (4ce94eabac16; smp_call_function_many_cond with
 *   SCF_RUN_LOCAL, 'concurrent' order), so latency is max(local, remote) not their sum;
 * - is_lazy moves to `cpu_tlbstate_shared`, a line of its own ("Privatize cpu_tlbstate",
 *   2f4305b19fe6): a flusher's remote is_lazy read no longer pulls the owner's cpu_tlbstate line;
 * - `if (was_lazy) is_lazy = false` (09c5272e4861): no store, so no invalidation of the line in
 *   the flushers' caches, when the CPU was not lazy;
 * - the lazy filter open-coded into a per-CPU `cond_cpumask` (6035152d8eeb; reverted in 5.18 by
 *   "x86/mm/tlb: Revert retpoline avoidance approach" [M]);
 * - flush_tlb_func() returns early when `f->new_tlb_gen <= local_tlb_gen` without reading the
 *   mm's contended tlb_gen line (aa44284960d5, 5.19), except for TLB_GENERATION_INVALID
 *   ("Ignore f->new_tlb_gen when zero": generation 0 made batched reclaim flushes look done).
 *
 * Read against v5.13's arch/x86/mm/tlb.c (flush_tlb_func as of v5.19): enter_lazy_tlb,
 * switch_mm_irqs_off, flush_tlb_mm_range, native_flush_tlb_multi and flush_tlb_func are all in
 * this file. `GenStrategy` adds only the steps every version shares (`loadNewMm`, `catchUp`,
 * `switchToInitMm`); nothing comes from another version's class.
 */
export class Linux513 extends GenStrategy {
  readonly name: string = 'linux-5.13';
  readonly kernel: string = 'Linux 5.13 (concurrent local/remote flush, private is_lazy line; handler shortcut of 5.19)';
  readonly supportsPcid: boolean = true;
  /** tlb_is_not_lazy as an smp_cond_func_t, for on_each_cpu_cond_mask() (5.13 open-codes the filter; 5.18 went back to it). */
  protected readonly tlbIsNotLazy = (k: KernelOps, _cpu: Cpu, target: number): Sim<boolean> => this.isNotLazy(k, target);
  /** cpu_tlbstate_shared (for tests of the layout). */
  protected shared!: PerCpuStruct;
  /** Per CPU: `flush_tlb_mask`, the scratch cond_cpumask of native_flush_tlb_multi(). */
  protected condMasks: Cpumask[] = [];
  /** Handlers that returned on `f->new_tlb_gen <= local_tlb_gen` without reading the mm's tlb_gen. */
  protected genReadsSkipped!: Counter;

  override attach(ctx: StrategyContext): void {
    super.attach(ctx); // GenStrategy's: layout, boot, flush_tlb_info, the IPI function, its stats
    this.genReadsSkipped = ctx.stats.counter('tlbGenReadsSkipped', 'flush handlers whose generation was already reached, so they did not read the mm tlb_gen');
    this.condMasks = [];
    for (let c = 0; c < ctx.nCpus; c++) this.condMasks.push(new Cpumask(ctx.memory, `flush_tlb_mask[${c}]`, ctx.nCpus));
  }

  /** cpu_tlbstate_shared's PerCpuStruct. */
  get sharedState(): PerCpuStruct {
    return this.shared;
  }

  /**
   * struct tlb_state (v5.13, DEFINE_PER_CPU_ALIGNED): { loaded_mm, last_user_mm_spec, u16
   * loaded_mm_asid, u16 next_asid, bool invalidate_other, u16 user_pcid_flush_mask, cr4, ctxs[6] }:
   * 128 bytes, is_lazy gone from it.
   */
  protected tlbStateFields(): FieldSpec[] {
    return [
      { name: 'loaded_mm', bytes: 8 },
      { name: 'last_user_mm_spec', bytes: 8 },
      { name: 'loaded_mm_asid', bytes: 2 },
      { name: 'next_asid', bytes: 2 },
      { name: 'invalidate_other', bytes: 1 },
      { name: 'user_pcid_flush_mask', bytes: 2 },
      { name: 'cr4', bytes: 8 },
      ...tlbContextFields(TLB_NR_DYN_ASIDS),
    ];
  }

  /** cpu_tlbstate, and `struct tlb_state_shared { bool is_lazy; }` (DEFINE_PER_CPU_SHARED_ALIGNED: a line of its own). */
  protected layout(ctx: StrategyContext): TlbState {
    const { ts, shared } = tlbStateWithShared(ctx, this.tlbStateFields());
    this.shared = shared;
    return ts;
  }

  /** struct flush_tlb_info (v5.13): { mm, start, end, new_tlb_gen, initiating_cpu, stride_shift, freed_tables }. */
  protected flushInfoFields(): readonly FieldSpec[] {
    return FLUSH_TLB_INFO_V5_13;
  }

  /** enter_lazy_tlb() (v5.13): nothing on init_mm, else this_cpu_write(cpu_tlbstate_shared.is_lazy, true) (a plain store to its own line). */
  *enterLazyTlb(k: TlbOps, cpu: Cpu): Sim {
    const c = cpu.id;
    if ((yield k.load(this.ts.loadedMm(c))) === this.ctx.initMm.id) return;
    yield k.store(this.ts.isLazy(c), 1);
  }

  /**
   * switch_mm_irqs_off() (v5.13): was_lazy = is_lazy, cleared only if set (`clearIsLazy`). Same
   * mm: a thread switch needs nothing; back from lazy, smp_mb() then compare
   * ctxs[prev_asid].tlb_gen with the mm's and flush the same ASID if it moved. Another mm:
   * cpumask clear/set skipped for init_mm, read tlb_gen after the LOCK BTS ("Start remote
   * flushes and then read tlb_gen"), choose_new_asid, loaded_mm = LOADED_MM_SWITCHING while CR3
   * changes. Then CR3 (NOFLUSH if the slot is current), loaded_mm, loaded_mm_asid (`loadNewMm`).
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
      // "Even in lazy TLB mode, the CPU should stay set in the mm_cpumask": WARN_ON_ONCE(!test), never taken here.
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
      yield k.store(ts.loadedMm(c), LOADED_MM_SWITCHING); // "Let nmi_uaccess_okay() know that we're changing CR3"
    }
    yield* this.loadNewMm(k, c, next, asid, needFlush, nextTlbGen);
  }

  /** `if (was_lazy) this_cpu_write(cpu_tlbstate_shared.is_lazy, false)`: "x86/mm/tlb: Do not make is_lazy dirty for no reason" (09c5272e4861). */
  protected *clearIsLazy(k: TlbOps, c: number, wasLazy: boolean): Sim {
    if (wasLazy) yield k.store(this.ts.isLazy(c), 0);
  }

  /** smp_mb() on the way back from lazy mode (MFENCE): orders the is_lazy = false store before the tlb_gen load. */
  protected *smpMb(k: TlbOps): Sim {
    yield k.mfence();
  }

  /**
   * flush_tlb_mm_range() (v5.13): bump tlb_gen (the barrier that pairs with switch_mm), fill the
   * per-CPU flush_tlb_info, then flush_tlb_multi(mm_cpumask(mm)) if any other CPU is in the mask:
   * the local flush happens inside it, concurrently with the remote ones. Otherwise only the
   * local flush_tlb_func(), with interrupts off, if this CPU has the mm loaded.
   */
  *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, freedTables: boolean): Sim {
    const c = cpu.id;
    yield k.preemptAdd(1); // get_cpu()
    const f = yield* this.fillInfo(k, c, mm, start, end, freedTables);
    if (yield* cpumaskAnyBut(k, mm.cpumask, c)) {
      yield* this.flushTlbOthers(k, cpu, mm, f, freedTables); // flush_tlb_multi()
    } else if (mm.id === (yield k.load(this.ts.loadedMm(c)))) {
      yield k.irqDisable();
      yield* this.flushTlbFuncRemote(cpu, f); // flush_tlb_func(info), locally
      yield k.irqEnable();
    }
    yield k.preemptAdd(-1); // put_cpu()
  }

  /** inc_mm_tlb_gen() and get_flush_tlb_info() (the range above the ceiling becomes a full flush; info->initiating_cpu set); → the info's address. */
  protected *fillInfo(k: TlbOps, c: number, mm: Mm, start: number, end: number, freedTables: boolean): Sim<number> {
    const newTlbGen = yield* incMmTlbGen(k, mm); // "This is also a barrier that synchronizes with switch_mm()"
    const f = yield* getFlushTlbInfo(this.ctx, this.info, k, c, mm, start, end, newTlbGen, freedTables);
    yield k.store(this.info.field(f, 'initiating_cpu'), c);
    return f;
  }

  /**
   * native_flush_tlb_multi() (v5.13; native_flush_tlb_others before): freed_tables → every CPU
   * of the mask, lazy ones included (on_each_cpu_mask); otherwise the open-coded filter:
   * cpumask_clear(cond_cpumask), then for each CPU of the mask a remote read of its is_lazy and
   * __cpumask_set_cpu (a non-atomic RMW of this CPU's private mask), then on_each_cpu_mask on it.
   * Either way the initiator is in the mask and runs its flush between send and wait.
   */
  protected *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, f: number, freedTables: boolean): Sim {
    const smp = this.ctx.smp;
    // A pv op: with --pv-flush, kvm_flush_tlb_multi() first drops preempted vCPUs (pv-flush.ts).
    const mask = yield* flushTlbMultiMask(this.ctx.pvFlush, k, cpu.id, mm.cpumask);
    if (freedTables) {
      yield* smp.smpCallFunctionMany(k, cpu, mask, this.flushFunc, f, true, 'concurrent', true);
      return;
    }
    const cond = this.condMasks[cpu.id];
    for (let w = 0; w < cond.nWords; w++) yield k.store(cond.addr + 4 * w, 0);
    for (const t of yield* mask.loadCpus(k)) {
      if (!(yield* this.isNotLazy(k, t))) continue;
      const a = cond.wordAddr(t);
      yield k.store(a, ((yield k.load(a)) | (1 << Cpumask.bit(t))) >>> 0);
    }
    yield* smp.smpCallFunctionMany(k, cpu, cond, this.flushFunc, f, true, 'concurrent', true);
  }

  /** tlb_is_not_lazy(cpu) (v5.13): !per_cpu(cpu_tlbstate_shared.is_lazy, cpu), a load of that CPU's own is_lazy line. */
  protected *isNotLazy(k: KernelOps, target: number): Sim<boolean> {
    return (yield k.load(this.ts.isLazy(target))) === 0;
  }

  /**
   * flush_tlb_func() (v5.13: flush_tlb_func_local/remote unified, 4c1ba3923e6c), with interrupts
   * off: a remote CPU ignores a flush of an mm it no longer has loaded; nothing to do on init_mm;
   * a lazy CPU leaves for init_mm (`lazyCheck`); then the generation check (`flushTail`).
   */
  protected *flushTlbFuncRemote(cpu: Cpu, f: number): Sim {
    const k = this.ctx.k;
    const c = cpu.id;
    const loaded = this.mm(yield k.load(this.ts.loadedMm(c)));
    const asid = yield* this.ts.readLoadedMmAsid(k, c);
    const local = (yield k.load(this.info.field(f, 'initiating_cpu'))) === c;
    if (!local && (yield k.load(f)) !== loaded.id) return; // "Can only happen on remote CPUs"
    if (yield* this.lazyCheck(k, cpu, loaded)) return;
    yield* this.flushTail(k, cpu, f, loaded, asid);
  }

  /**
   * flush_tlb_func()'s checks (v5.13): `if (unlikely(loaded_mm == &init_mm)) return;`; a lazy CPU
   * switches to init_mm ("This should be rare, with native_flush_tlb_multi() skipping IPIs to
   * lazy TLB mode CPUs"). True: nothing more to do.
   */
  protected *lazyCheck(k: TlbOps, cpu: Cpu, loaded: Mm): Sim<boolean> {
    if (loaded === this.ctx.initMm) return true;
    if ((yield k.load(this.ts.isLazy(cpu.id))) === 0) return false;
    yield* this.switchToInitMm(k, cpu);
    return true;
  }

  /**
   * The generation check of flush_tlb_func() since v5.19 (aa44284960d5 and its "when zero" fix): read
   * local_tlb_gen; if the flush's generation is valid and already reached, return without
   * touching the mm's tlb_gen line ("checking mm_tlb_gen unnecessarily would have negative
   * caching effects"); else read mm_tlb_gen ("Defer mm_tlb_gen reading as long as possible"),
   * and catch up unless a concurrent flush already did.
   */
  protected *flushTail(k: TlbOps, cpu: Cpu, f: number, loaded: Mm, asid: number): Sim {
    const localTlbGen = yield k.load(this.ts.ctxTlbGen(cpu.id, asid));
    const newTlbGen = yield k.load(this.info.field(f, 'new_tlb_gen'));
    if (newTlbGen !== TLB_GENERATION_INVALID && newTlbGen <= localTlbGen) {
      this.genReadsSkipped.value++;
      return;
    }
    const mmTlbGen = yield k.load(loaded.tlbGenAddr);
    if (localTlbGen === mmTlbGen) return;
    yield* this.catchUp(k, cpu, f, asid, localTlbGen, mmTlbGen);
  }
}

export const linux513 = (): Strategy => new Linux513();
