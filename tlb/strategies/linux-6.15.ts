import type { Sim } from '../../lib/engine/ops';
import type { Counter } from '../../lib/stats/counter';
import type { Cpu } from '../../cpu/cpu';
import type { KernelOps } from '../../cpu/kernel-ops';
import type { SmpCond } from '../../cpu/smp';
import type { FieldSpec, PerCpuStruct } from './layout';
import type { Mm } from '../mm/mm';
import type { Strategy, StrategyContext } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';
import { flushTlbMultiMask } from './pv-flush';
import {
  FLUSH_TLB_INFO_V6_15, GenStrategy, LOADED_MM_SWITCHING, TLB_GENERATION_INVALID, TLB_NR_DYN_ASIDS, TlbState, chooseNewAsid,
  cpumaskAnyBut, getFlushTlbInfo, incMmTlbGen, tlbContextFields, tlbStateWithShared,
} from './gen-common';

export { FLUSH_TLB_INFO_V6_15 };

/** is_global_asid() (v6.15): ASIDs from TLB_NR_DYN_ASIDS up are global (the same on every CPU). */
export const isGlobalAsid = (asid: number): boolean => asid >= TLB_NR_DYN_ASIDS;

/**
 * Linux v6.15 (E3 in docs/reference/linux-lazy-tlb.md; the code of the CachyOS ≥ 6.15 snapshot
 * that note read, with the 2025 ordering fixes), on a machine without broadcast invalidation:
 * - mm_cpumask is updated lazily (209954cbc7d0): a switch sets the bit only if it is not set
 *   (else smp_mb() for the ordering the LOCK BTS would have given) and never clears prev's; a
 *   CPU whose bit is stale clears it itself when a flush IPI finds another mm loaded;
 * - should_flush_tlb() replaces tlb_is_not_lazy (6db2526c1d69): an IPI goes to a non-lazy CPU
 *   that has the mm loaded, is in the middle of a switch (LOADED_MM_SWITCHING), or, once a
 *   second per mm (`trim_cpumask`), to every non-lazy CPU of the mask so stale bits get trimmed;
 * - loaded_mm = LOADED_MM_SWITCHING is stored before the cpumask/smp_mb and the tlb_gen read:
 *   either the switcher sees the new generation or the flusher sees the new loaded_mm.
 * The INVLPGB / global-ASID branches of the same code are here too, gated as the kernel gates
 * them by cpu_feature_enabled(X86_FEATURE_INVLPGB) (`broadcast`, false here: no loads at all);
 * the `invlpgb` strategy turns them on.
 *
 * Read against v6.15's arch/x86/mm/tlb.c: enter_lazy_tlb, switch_mm_irqs_off, choose_new_asid,
 * flush_tlb_mm_range, native_flush_tlb_multi with should_flush_tlb, and flush_tlb_func are all in
 * this file. `GenStrategy` adds only the steps every version shares (`loadNewMm`, the
 * `reload_tlb:` tail; `catchUp`; `switchToInitMm`); nothing comes from another version's class.
 */
export class Linux615 extends GenStrategy {
  readonly name: string = 'linux-6.15';
  readonly kernel: string = 'Linux 6.15 without INVLPGB (lazy mm_cpumask, once-a-second trim, should_flush_tlb)';
  readonly supportsPcid: boolean = true;
  /** cpu_feature_enabled(X86_FEATURE_INVLPGB). */
  protected broadcast = false;
  /** cpu_tlbstate_shared (for tests of the layout). */
  protected shared!: PerCpuStruct;
  /** Handlers that returned on `f->new_tlb_gen <= local_tlb_gen` without reading the mm's tlb_gen. */
  protected genReadsSkipped!: Counter;
  protected wrongMmClears!: Counter;
  protected trims!: Counter;
  /** should_flush_tlb as the smp_cond_func_t of on_each_cpu_cond_mask(); `info` is the initiator's flush_tlb_info. */
  protected readonly shouldFlush: SmpCond = (k, cpu, target) => this.shouldFlushTlb(k, target, this.info.addr(cpu.id));

  override attach(ctx: StrategyContext): void {
    super.attach(ctx); // GenStrategy's: layout, boot, flush_tlb_info, the IPI function, its stats
    this.genReadsSkipped = ctx.stats.counter('tlbGenReadsSkipped', 'flush handlers whose generation was already reached, so they did not read the mm tlb_gen');
    this.wrongMmClears = ctx.stats.counter('wrongMmClears', 'flush IPIs that found another mm loaded: the CPU cleared its stale mm_cpumask bit');
    this.trims = ctx.stats.counter('cpumaskTrims', 'flushes with trim_cpumask set (once a second per mm)');
  }

  /** cpu_tlbstate_shared's PerCpuStruct. */
  get sharedState(): PerCpuStruct {
    return this.shared;
  }

  /**
   * struct tlb_state (v6.15): { loaded_mm, last_user_mm_spec, u16 loaded_mm_asid, u16 next_asid,
   * bool invalidate_other, u8 lam (CONFIG_ADDRESS_MASKING; same word), u16 user_pcid_flush_mask,
   * cr4, ctxs[6] }; is_lazy is in cpu_tlbstate_shared.
   */
  protected tlbStateFields(): FieldSpec[] {
    return [
      { name: 'loaded_mm', bytes: 8 },
      { name: 'last_user_mm_spec', bytes: 8 },
      { name: 'loaded_mm_asid', bytes: 2 },
      { name: 'next_asid', bytes: 2 },
      { name: 'invalidate_other', bytes: 1 },
      { name: 'lam', bytes: 1 },
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

  /** struct flush_tlb_info (v6.14+): v5.13's, with trim_cpumask. */
  protected flushInfoFields(): readonly FieldSpec[] {
    return FLUSH_TLB_INFO_V6_15;
  }

  /** jiffies: scheduler ticks since boot (the machine clock divided by the tick period). */
  protected jiffies(): number {
    return Math.floor(this.ctx.now() / this.ctx.sched.tickCycles);
  }

  /** HZ: jiffies per second of the machine clock. */
  protected hz(): number {
    return Math.round((this.ctx.params.clockGhz * 1e9) / this.ctx.sched.tickCycles);
  }

  /** init_new_context() (v6.15): `next_trim_cpumask = jiffies + HZ` (6db2526c1d69). */
  initNewContext(mm: Mm): void {
    this.ctx.memory.poke(mm.nextTrimAddr, this.jiffies() + this.hz());
  }

  /** mm_global_asid() (v6.15): 0 without INVLPGB, else smp_load_acquire(&mm->context.global_asid) (a load on x86). */
  protected *mmGlobalAsid(k: KernelOps, mm: Mm): Sim<number> {
    if (!this.broadcast) return 0;
    return yield k.load(mm.globalAsidAddr);
  }

  /** mm_needs_global_asid() (v6.15): the mm has a global ASID and this CPU still runs it on another. */
  protected *mmNeedsGlobalAsid(k: KernelOps, mm: Mm, asid: number): Sim<boolean> {
    const g = yield* this.mmGlobalAsid(k, mm);
    return this.broadcast && g !== 0 && asid !== g;
  }

  /** mm_in_asid_transition() (v6.15): false without INVLPGB, else READ_ONCE(mm->context.asid_transition). */
  protected *mmInAsidTransition(k: KernelOps, mm: Mm): Sim<boolean> {
    if (!this.broadcast) return false;
    return (yield k.load(mm.asidTransitionAddr)) !== 0;
  }

  /** choose_new_asid() (v6.15): without PCID, ASID 0 and a flush; an mm's global ASID, never flushed ("Global ASIDs are always up to date"); else a dynamic slot. */
  protected *chooseAsid(k: TlbOps, c: number, next: Mm, nextTlbGen: number): Sim<{ asid: number; needFlush: boolean }> {
    if (!this.ctx.options.pcid) return { asid: 0, needFlush: true };
    const g = yield* this.mmGlobalAsid(k, next);
    if (g !== 0) return { asid: g, needFlush: false };
    return yield* chooseNewAsid(this.ctx, this.ts, k, c, next, nextTlbGen);
  }

  /** consider_global_asid() (v6.15): returns at once without INVLPGB. */
  protected *considerGlobalAsid(_k: TlbOps, _cpu: Cpu, _mm: Mm): Sim {}

  /** broadcast_tlb_flush() (v6.15): only reached for an mm with a global ASID, which needs INVLPGB. */
  protected *broadcastTlbFlush(_k: TlbOps, _cpu: Cpu, mm: Mm, _f: number, _freedTables: boolean): Sim {
    throw new Error(`${this.name}: ${mm.name} has a global ASID without INVLPGB`);
  }

  /** enter_lazy_tlb() (v6.15): nothing on init_mm, else this_cpu_write(cpu_tlbstate_shared.is_lazy, true) (a plain store to its own line). */
  *enterLazyTlb(k: TlbOps, cpu: Cpu): Sim {
    const c = cpu.id;
    if ((yield k.load(this.ts.loadedMm(c))) === this.ctx.initMm.id) return;
    yield k.store(this.ts.isLazy(c), 1);
  }

  /**
   * switch_mm_irqs_off() (v6.15). is_lazy is written only if set. Same mm: a CPU still on a
   * dynamic ASID of an mm that got a global one reloads CR3 with it; on a global ASID nothing is
   * ever stale; a thread switch returns; back from lazy, smp_mb() and the tlb_gen compare.
   * Another mm: loaded_mm = LOADED_MM_SWITCHING first; set next's bit only if it is clear (the
   * LOCK BTS is the barrier), else smp_mb(); prev's bit stays set; read tlb_gen; choose the ASID.
   * Then `reload_tlb:` (`loadNewMm`).
   */
  *switchMmIrqsOff(k: TlbOps, cpu: Cpu, _prev: Mm | null, next: Mm): Sim {
    const c = cpu.id;
    const ts = this.ts;
    const prev = this.mm(yield k.load(ts.loadedMm(c)));
    const prevAsid = yield* ts.readLoadedMmAsid(k, c);
    const wasLazy = (yield k.load(ts.isLazy(c))) !== 0;
    if (wasLazy) yield k.store(ts.isLazy(c), 0);
    let ns: { asid: number; needFlush: boolean };
    let nextTlbGen: number;
    if (prev === next) {
      // The cpumask WARN_ON_ONCE is CONFIG_DEBUG_VM-only in 6.15: no load here.
      if (yield* this.mmNeedsGlobalAsid(k, next, prevAsid)) {
        nextTlbGen = yield k.load(next.tlbGenAddr);
        ns = yield* this.chooseAsid(k, c, next, nextTlbGen);
      } else {
        if (isGlobalAsid(prevAsid)) return; // "Broadcast TLB invalidation keeps this ASID up to date"
        if (!wasLazy) return;
        yield* this.smpMb(k); // pairs with inc_mm_tlb_gen() in the flusher
        nextTlbGen = yield k.load(next.tlbGenAddr);
        if ((yield k.load(ts.ctxTlbGen(c, prevAsid))) === nextTlbGen) return;
        this.catchUps.value++; // "TLB contents went out of date while we were in lazy mode"
        ns = { asid: prevAsid, needFlush: true };
      }
    } else {
      yield k.store(ts.loadedMm(c), LOADED_MM_SWITCHING); // "Indicate that CR3 is about to change"
      yield* this.setCpumaskOrMb(k, c, next);
      nextTlbGen = yield* this.readTlbGen(k, next);
      ns = yield* this.chooseAsid(k, c, next, nextTlbGen);
    }
    yield* this.loadNewMm(k, c, next, ns.asid, ns.needFlush, nextTlbGen);
  }

  /** smp_mb() on the way back from lazy mode (MFENCE): orders the is_lazy = false store before the tlb_gen load. */
  protected *smpMb(k: TlbOps): Sim {
    yield k.mfence();
  }

  /**
   * The mm-change path's cpumask step (6.15): set this CPU's bit in mm_cpumask(next) only if it
   * is not set; otherwise `cpumaskMb()`, the smp_mb() that orders the LOADED_MM_SWITCHING store
   * before the tlb_gen read ("such that we'll receive invalidation IPIs"). Its own hook, so a
   * user can change the set or the barrier without copying switchMmIrqsOff.
   */
  protected *setCpumaskOrMb(k: TlbOps, c: number, next: Mm): Sim {
    if (next !== this.ctx.initMm && !(yield* next.cpumask.testBit(k, c))) yield* next.cpumask.setBit(k, c);
    else yield* this.cpumaskMb(k);
  }

  /** The `else smp_mb()` of the cpumask step (MFENCE); apart from `smpMb`, the lazy-return barrier. */
  protected *cpumaskMb(k: TlbOps): Sim {
    yield k.mfence();
  }

  /** atomic64_read(&next->context.tlb_gen) on the mm-change path. */
  protected *readTlbGen(k: TlbOps, next: Mm): Sim<number> {
    return yield k.load(next.tlbGenAddr);
  }

  /**
   * flush_tlb_mm_range() (v6.15): bump tlb_gen, fill the info (trim_cpumask = 0). An mm with a
   * global ASID is flushed by broadcast; else, if another CPU is in the mask, once a second the
   * flush also trims the mask, goes to flush_tlb_multi(), and may earn the mm a global ASID;
   * else the local flush only, if the mm is loaded here.
   */
  *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, freedTables: boolean): Sim {
    const c = cpu.id;
    yield k.preemptAdd(1); // get_cpu()
    const f = yield* this.fillInfo(k, c, mm, start, end, freedTables);
    yield k.store(this.info.field(f, 'trim_cpumask'), 0); // init_flush_tlb_info()'s last field
    if ((yield* this.mmGlobalAsid(k, mm)) !== 0) {
      yield* this.broadcastTlbFlush(k, cpu, mm, f, freedTables);
    } else if (yield* cpumaskAnyBut(k, mm.cpumask, c)) {
      const trim = yield* this.shouldTrimCpumask(k, mm);
      yield k.store(this.info.field(f, 'trim_cpumask'), trim ? 1 : 0);
      yield* this.flushTlbOthers(k, cpu, mm, f, freedTables); // flush_tlb_multi()
      yield* this.considerGlobalAsid(k, cpu, mm);
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

  /** should_trim_cpumask() (v6.14+): time_after(jiffies, next_trim_cpumask) → next_trim_cpumask = jiffies + HZ (a store to the mm's line). */
  protected *shouldTrimCpumask(k: TlbOps, mm: Mm): Sim<boolean> {
    const jiffies = this.jiffies();
    if (!(jiffies > (yield k.load(mm.nextTrimAddr)))) return false;
    yield k.store(mm.nextTrimAddr, jiffies + this.hz());
    this.trims.value++;
    return true;
  }

  /**
   * native_flush_tlb_multi() (v6.15): freed page tables, or an mm in ASID transition, → every CPU
   * of the mask (on_each_cpu_mask); otherwise on_each_cpu_cond_mask(should_flush_tlb). The
   * initiator is in the mask and runs its flush between send and wait.
   */
  protected *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, f: number, freedTables: boolean): Sim {
    const smp = this.ctx.smp;
    // A pv op: with --pv-flush, kvm_flush_tlb_multi() first drops preempted vCPUs (pv-flush.ts).
    const mask = yield* flushTlbMultiMask(this.ctx.pvFlush, k, cpu.id, mm.cpumask);
    if (freedTables || (yield* this.mmInAsidTransition(k, mm))) yield* smp.smpCallFunctionMany(k, cpu, mask, this.flushFunc, f, true, 'concurrent', true);
    else yield* smp.onEachCpuCondMask(k, cpu, this.shouldFlush, this.flushFunc, f, true, mask, 'concurrent');
  }

  /**
   * should_flush_tlb() (v6.15, with the 2025 fixes): read the target's loaded_mm, then (smp_rmb(),
   * a compiler barrier on x86: TSO keeps the loads in order) its is_lazy. Lazy: no (it catches up
   * at its next switch). Switching: yes ("Assume the worst"). Loaded mm is the flushed one: yes.
   * Otherwise only when this flush trims the mask. `info->mm` is never NULL here.
   */
  protected *shouldFlushTlb(k: KernelOps, target: number, f: number): Sim<boolean> {
    const loaded = yield k.load(this.ts.loadedMm(target));
    if ((yield k.load(this.ts.isLazy(target))) !== 0) return false;
    const mmId = yield k.load(f);
    if (loaded === LOADED_MM_SWITCHING || loaded === mmId) return true;
    return (yield k.load(this.info.field(f, 'trim_cpumask'))) !== 0;
  }

  /**
   * flush_tlb_func() (v6.15), interrupts off. A CPU whose loaded mm is not the flushed one clears
   * its own bit ("The CPU was left in the mm_cpumask of the target mm") and returns. Nothing on
   * init_mm. A CPU still on a dynamic ASID of an mm in transition to a global one reloads it
   * (the snapshot's order: before the is_lazy test, the May 2025 race). A global ASID is kept
   * current by INVLPGB. A lazy CPU leaves for init_mm (its bit stays). Then the generations.
   */
  protected *flushTlbFuncRemote(cpu: Cpu, f: number): Sim {
    const k = this.ctx.k;
    const c = cpu.id;
    const loadedId = yield k.load(this.ts.loadedMm(c));
    let asid = yield* this.ts.readLoadedMmAsid(k, c);
    yield k.load(this.info.field(f, 'initiating_cpu')); // `local`, for the statistics
    const fMm = yield k.load(f);
    if (fMm !== loadedId) {
      yield* this.mm(fMm).cpumask.clearBit(k, c);
      this.wrongMmClears.value++;
      return;
    }
    const loaded = this.mm(loadedId);
    if (loaded === this.ctx.initMm) return;
    if (yield* this.mmNeedsGlobalAsid(k, loaded, asid)) {
      yield* this.switchMmIrqsOff(k, cpu, null, loaded);
      asid = yield* this.ts.readLoadedMmAsid(k, c);
    }
    if (isGlobalAsid(asid)) return; // "Broadcast ASIDs are always kept up to date with INVLPGB"
    if ((yield k.load(this.ts.isLazy(c))) !== 0) {
      yield* this.switchToInitMm(k, cpu); // "We're in lazy mode ... just switch to init_mm"
      return;
    }
    yield* this.flushTail(k, cpu, f, loaded, asid);
  }

  /**
   * The generation check of flush_tlb_func() (v6.15, as since v5.19): read local_tlb_gen; if the
   * flush's generation is valid and already reached, return without touching the mm's tlb_gen
   * line; else read mm_tlb_gen ("Defer mm_tlb_gen reading as long as possible to avoid cache
   * contention"), and catch up unless a concurrent flush already did.
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

export const linux615 = (): Strategy => new Linux615();
