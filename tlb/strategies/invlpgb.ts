import type { Sim } from '../../lib/engine/ops';
import type { Counter } from '../../lib/stats/counter';
import type { Cpu } from '../../cpu/cpu';
import { Cpumask } from '../../cpu/cpumask';
import { Spinlock } from '../../cpu/spinlock';
import type { Mm } from '../mm/mm';
import type { Strategy, StrategyContext } from './strategy';
import { INVLPGB_ALL_NONGLOBALS, type TlbOps } from '../hw/tlb-ops';
import { TLB_FLUSH_ALL } from './common';
import { LOADED_MM_SWITCHING, TLB_NR_DYN_ASIDS } from './gen-common';
import { Linux615 } from './linux-6.15';

/**
 * MAX_ASID_AVAILABLE (v6.15) = (1 << CR3_AVAIL_PCID_BITS) - 2 with
 * CONFIG_MITIGATION_PAGE_TABLE_ISOLATION=y (the x86-64 default; PTI itself is off on AMD): 11
 * bits. Global ASIDs are [TLB_NR_DYN_ASIDS, MAX_ASID_AVAILABLE): above the per-CPU dynamic ones,
 * used directly as the PCID here (the kernel writes ASID + 1; the TLB unit takes the ASID).
 */
export const MAX_ASID_AVAILABLE = (1 << 11) - 2;
/** invlpgb_count_max: pages one INVLPGB covers (CPUID 0x80000008 EDX[15:0] + 1); 8 on Zen 3 [M]. */
export const INVLPGB_COUNT_MAX = 8;
/** mm_active_cpus_exceeds(mm, 3): a global ASID for an mm running on 4 or more CPUs. */
const ACTIVE_CPUS_THRESHOLD = 3;

/**
 * Linux v6.15 with AMD INVLPGB (E4 in docs/reference/linux-lazy-tlb.md; Rik van Riel's series,
 * 4afeb0ed1753 "Enable broadcast TLB invalidation for multi-threaded processes"): the linux-6.15 code with
 * cpu_feature_enabled(X86_FEATURE_INVLPGB) true. An mm seen running (loaded, not lazy) on 4 or
 * more CPUs by a sampled flush gets a global ASID, the same PCID on every CPU; its flushes are
 * INVLPGB per chunk and one TLBSYNC, with no IPIs, except while CPUs still run it on their old
 * dynamic ASIDs (the ASID transition), when the whole mm_cpumask is IPIed. A CPU returning to it
 * needs no tlb_gen check: INVLPGB keeps the global ASID current.
 *
 * On a machine without INVLPGB (`invlpgb` = 0), or without PCID (the stable fix that makes
 * X86_FEATURE_INVLPGB depend on PCID), the kernel does not refuse: every branch tests the
 * feature and falls back, so this strategy behaves exactly as linux-6.15 there.
 *
 * The one strategy that subclasses another version, on purpose: in the kernel this is not a
 * different version but the same 6.15 tlb.c with X86_FEATURE_INVLPGB enabled. switch_mm_irqs_off,
 * flush_tlb_mm_range and flush_tlb_func are linux-6.15.ts's, whose `broadcast` branches this
 * class turns on; here are only the parts that do nothing without the feature:
 * consider_global_asid and the global ASID allocator, broadcast_tlb_flush,
 * finish_asid_transition and mm_free_global_asid.
 */
export class Invlpgb extends Linux615 {
  override readonly name: string = 'invlpgb';
  override readonly kernel: string = 'Linux 6.15 with INVLPGB (global ASIDs for mms active on 4+ CPUs, broadcast flush + TLBSYNC)';
  /** global_asid_lock (a raw spinlock) and the allocator's statics in simulated memory. */
  private lock!: Spinlock;
  private used!: Cpumask;
  private freed!: Cpumask;
  private lastGlobalAsidAddr = 0;
  private availableAddr = 0;
  protected globalAsids!: Counter;
  protected broadcasts!: Counter;
  protected transitionFlushes!: Counter;

  override attach(ctx: StrategyContext): void {
    super.attach(ctx);
    this.broadcast = ctx.params.invlpgb === 1 && ctx.options.pcid;
    const mem = ctx.memory;
    this.lock = new Spinlock('global_asid_lock', mem, ctx.sched.m.engine, ctx.stats.group('globalAsidLock'));
    this.used = new Cpumask(mem, 'global_asid_used', MAX_ASID_AVAILABLE);
    this.freed = new Cpumask(mem, 'global_asid_freed', MAX_ASID_AVAILABLE);
    const statics = mem.allocLines('global_asid_statics');
    this.lastGlobalAsidAddr = statics;
    this.availableAddr = statics + 4;
    mem.poke(this.lastGlobalAsidAddr, MAX_ASID_AVAILABLE); // static u16 last_global_asid = MAX_ASID_AVAILABLE
    mem.poke(this.availableAddr, MAX_ASID_AVAILABLE - TLB_NR_DYN_ASIDS - 1);
    this.globalAsids = ctx.stats.counter('globalAsidsAssigned', 'mms given a global ASID');
    this.broadcasts = ctx.stats.counter('broadcastFlushes', 'flushes done by INVLPGB + TLBSYNC');
    this.transitionFlushes = ctx.stats.counter('asidTransitionFlushes', 'broadcast flushes that IPIed the mask because a CPU still ran the mm on a dynamic ASID');
  }

  /**
   * destroy_context() → mm_free_global_asid() (v6.15), under global_asid_lock: the ASID goes to
   * `global_asid_freed` (reusable only after the flush at wrap-around), global_asid = 0,
   * global_asid_available++. Outside simulated time, as the machine frees mm_structs.
   */
  destroyContext(mm: Mm): void {
    const mem = this.ctx.memory;
    const asid = mem.peek(mm.globalAsidAddr);
    if (!this.broadcast || asid === 0) return;
    this.freed.set(asid);
    mem.poke(mm.globalAsidAddr, 0);
    mem.poke(this.availableAddr, mem.peek(this.availableAddr) + 1);
  }

  /** The test consider_global_asid() samples with: `(current->pid & 0x1f) == (jiffies & 0x1f)`. */
  protected sampled(cpu: Cpu): boolean {
    return (this.ctx.sched.rqs[cpu.id].curr.pid & 0x1f) === (this.jiffies() & 0x1f);
  }

  /**
   * consider_global_asid() (v6.15), after an IPI flush: "Check every once in a while" (one jiffy
   * in 32, by the current task's pid), then give the mm a global ASID if more than 3 CPUs run it.
   */
  protected override *considerGlobalAsid(k: TlbOps, cpu: Cpu, mm: Mm): Sim {
    if (!this.broadcast || !this.sampled(cpu)) return;
    if (yield* this.mmActiveCpusExceeds(k, mm, ACTIVE_CPUS_THRESHOLD)) yield* this.useGlobalAsid(k, cpu, mm);
  }

  /**
   * mm_active_cpus_exceeds() (v6.15): cpumask_weight() of the mask (a quick exit for small
   * masks), then for_each_cpu: count CPUs whose loaded_mm is the mm and is_lazy is clear (remote
   * loads of both lines).
   */
  protected *mmActiveCpusExceeds(k: TlbOps, mm: Mm, threshold: number): Sim<boolean> {
    if ((yield* mm.cpumask.loadCpus(k)).length <= threshold) return false;
    let count = 0;
    for (const c of yield* mm.cpumask.loadCpus(k)) {
      if ((yield k.load(this.ts.loadedMm(c))) !== mm.id) continue;
      if ((yield k.load(this.ts.isLazy(c))) !== 0) continue;
      if (++count > threshold) return true;
    }
    return false;
  }

  /**
   * use_global_asid() (v6.15), under guard(raw_spinlock_irqsave)(&global_asid_lock): nothing if
   * another thread got there first or none is left; else allocate_global_asid() and
   * mm_assign_global_asid(): asid_transition = true, then smp_store_release(global_asid) (a
   * plain store on x86, ordered after the first by TSO).
   */
  protected *useGlobalAsid(k: TlbOps, cpu: Cpu, mm: Mm): Sim {
    const irqsOn = cpu.irqsOn;
    if (irqsOn) yield k.irqDisable();
    yield* this.lock.lock(k, cpu.id);
    if ((yield k.load(mm.globalAsidAddr)) === 0 && (yield k.load(this.availableAddr)) !== 0) {
      const asid = yield* this.allocateGlobalAsid(k);
      if (asid !== 0) {
        yield k.store(mm.asidTransitionAddr, 1);
        yield k.store(mm.globalAsidAddr, asid);
        this.globalAsids.value++;
      }
    }
    yield* this.lock.unlock(k, cpu.id);
    if (irqsOn) yield k.irqEnable();
  }

  /**
   * allocate_global_asid() (v6.15), lock held: past the end of the space, reset it; then
   * find_next_zero_bit(global_asid_used, MAX, last_global_asid), __set_bit (a plain RMW),
   * last_global_asid = asid, global_asid_available--. → 0 when none is found.
   */
  protected *allocateGlobalAsid(k: TlbOps): Sim<number> {
    let last = yield k.load(this.lastGlobalAsidAddr);
    if (last >= MAX_ASID_AVAILABLE - 1) {
      yield* this.resetGlobalAsidSpace(k);
      last = TLB_NR_DYN_ASIDS;
    }
    const asid = yield* this.findNextZeroBit(k, this.used, last);
    const available = yield k.load(this.availableAddr);
    if (asid >= MAX_ASID_AVAILABLE && available === 0) return 0; // "This should never happen."
    const w = this.used.wordAddr(asid);
    yield k.store(w, ((yield k.load(w)) | (1 << Cpumask.bit(asid))) >>> 0);
    yield k.store(this.lastGlobalAsidAddr, asid);
    yield k.store(this.availableAddr, available - 1);
    return asid;
  }

  /**
   * reset_global_asid_space() (v6.15): invlpgb_flush_all_nonglobals() makes the freed global
   * ASIDs safe to reuse, then used &= ~freed, freed = 0, last_global_asid = TLB_NR_DYN_ASIDS.
   */
  protected *resetGlobalAsidSpace(k: TlbOps): Sim {
    yield k.invlpgb(0, 0, INVLPGB_ALL_NONGLOBALS);
    yield k.tlbsync();
    yield* this.resetGlobalAsidBitmaps(k);
  }

  /** The rest of reset_global_asid_space(): used &= ~freed, freed = 0, last_global_asid = TLB_NR_DYN_ASIDS. */
  protected *resetGlobalAsidBitmaps(k: TlbOps): Sim {
    for (let w = 0; w < this.used.nWords; w++) {
      const a = this.used.addr + 4 * w;
      const u = yield k.load(a);
      yield k.store(a, (u & ~(yield k.load(this.freed.addr + 4 * w))) >>> 0);
    }
    for (let w = 0; w < this.freed.nWords; w++) yield k.store(this.freed.addr + 4 * w, 0);
    yield k.store(this.lastGlobalAsidAddr, TLB_NR_DYN_ASIDS);
  }

  /** find_next_zero_bit(bitmap, MAX_ASID_AVAILABLE, from): a load per word scanned → the bit, or MAX_ASID_AVAILABLE. */
  private *findNextZeroBit(k: TlbOps, map: Cpumask, from: number): Sim<number> {
    for (let w = from >>> 5; w < map.nWords; w++) {
      let free = ~(yield k.load(map.addr + 4 * w)) >>> 0;
      if (w === from >>> 5) free = (free & ~((1 << (from & 31)) - 1)) >>> 0;
      if (free === 0) continue;
      return Math.min(w * 32 + 31 - Math.clz32(free & -free), MAX_ASID_AVAILABLE);
    }
    return MAX_ASID_AVAILABLE;
  }

  /**
   * broadcast_tlb_flush() (v6.15): INVLPGB (nosync) of the global ASID, the whole PCID for a full
   * flush, else per chunk of up to invlpgb_count_max pages ("The inc_mm_tlb_gen() guarantees page
   * table updates are done before these TLB flushes happen"); then finish_asid_transition(), then
   * TLBSYNC to wait for the INVLPGBs. INVLPGB also drops the PCID's paging-structure caches, so
   * freed page tables need no IPI.
   */
  protected override *broadcastTlbFlush(k: TlbOps, cpu: Cpu, mm: Mm, f: number, freedTables: boolean): Sim {
    const asid = yield* this.mmGlobalAsid(k, mm);
    const start = yield k.load(this.info.field(f, 'start'));
    const end = yield k.load(this.info.field(f, 'end'));
    if (end === TLB_FLUSH_ALL) {
      yield k.invlpgb(asid, 0, mm.nPages); // invlpgb_flush_single_pcid_nosync(kern_pcid(asid))
    } else {
      for (let addr = start; addr < end;) {
        const nr = Math.min(Math.max(end - addr, 1), INVLPGB_COUNT_MAX);
        yield k.invlpgb(asid, addr, nr); // invlpgb_flush_user_nr_nosync()
        addr += nr;
      }
    }
    this.broadcasts.value++;
    yield* this.finishAsidTransition(k, cpu, mm, f, freedTables);
    yield k.tlbsync(); // __tlbsync()
  }

  /**
   * finish_asid_transition() (v6.15): while the mm is in transition, for each CPU of the mask,
   * spin while it is switching ("to catch the unlikely case of it switching to the target mm
   * with an out of date ASID"); if one runs the mm on another ASID, flush_tlb_multi() the whole
   * mask (native_flush_tlb_multi IPIs everyone during a transition; the handlers move to the
   * global ASID) and return; if none does, the transition is over.
   */
  protected *finishAsidTransition(k: TlbOps, cpu: Cpu, mm: Mm, f: number, freedTables: boolean): Sim {
    if (!(yield* this.mmInAsidTransition(k, mm))) return;
    const bcAsid = yield* this.mmGlobalAsid(k, mm);
    for (const c of yield* mm.cpumask.loadCpus(k)) {
      yield k.spinWhileEq(this.ts.loadedMm(c), LOADED_MM_SWITCHING);
      if ((yield k.load(this.ts.loadedMm(c))) !== mm.id) continue;
      if ((yield* this.ts.readLoadedMmAsid(k, c)) !== bcAsid) {
        this.transitionFlushes.value++;
        yield* this.flushTlbOthers(k, cpu, mm, f, freedTables);
        return;
      }
    }
    yield k.store(mm.asidTransitionAddr, 0); // mm_clear_asid_transition()
  }
}

export const invlpgb = (): Strategy => new Invlpgb();
