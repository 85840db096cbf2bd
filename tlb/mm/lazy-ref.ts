import type { Sim } from '../../lib/engine/ops';
import type { Counter } from '../../lib/stats/counter';
import type { StatGroup } from '../../lib/stats/group';
import type { Cpu } from '../../cpu/cpu';
import type { LazyMmRef } from '../../cpu/lazy-mm';
import type { Scheduler } from '../../cpu/sched';
import type { Smp } from '../../cpu/smp';
import type { AddressSpace } from '../../cpu/task';
import type { TlbOps } from '../hw/tlb-ops';
import type { Strategy } from '../strategies/strategy';
import type { Mm } from './mm';

/** What the lazy reference needs of the machine. */
export interface LazyRefContext {
  readonly smp: Smp;
  readonly sched: Scheduler<TlbOps>;
  readonly strategy: Strategy;
  readonly initMm: Mm;
  mmById(id: number): Mm;
}

/**
 * The lazy mm reference as the kernel keeps it since Nicholas Piggin's series (2655421ae69f "lazy
 * tlb: shoot lazies, non-refcounting lazy tlb mm reference handling scheme"), in one of two modes:
 *
 * - `atomic` (CONFIG_MMU_LAZY_TLB_REFCOUNT, x86's only choice): mmgrab_lazy_tlb() and
 *   mmdrop_lazy_tlb() are mmgrab()/mmdrop(), a LOCK INC and a LOCK DEC of mm->mm_count, on its own
 *   line (c1753fd02a00). The mm_struct is freed when the last holder drops it: the model's functional
 *   count in MmLifecycle (CPUs holding it as active mm) decides that moment, this adds the cost.
 * - `shoot-lazies` (CONFIG_MMU_LAZY_TLB_SHOOTDOWN, powerpc/64s in mainline): no reference on lazy
 *   entry; mmdrop_lazy_tlb() is only an smp_mb() (include/linux/sched/mm.h: the membarrier needs
 *   a full barrier in finish_task_switch). At the final mmdrop, __mmdrop() calls
 *   cleanup_lazy_tlbs() (kernel/fork.c): on_each_cpu_mask(mm_cpumask(mm), do_shoot_lazy_tlb, mm, 1),
 *   and each CPU whose current->active_mm is mm switches to init_mm. Then the mm is freed, whoever
 *   is still lazy on it: the Kconfig contract is that mm_cpumask covers every lazy CPU.
 *
 * In both modes mmput()'s own mmdrop (the users' reference, end of __mmput) is a LOCK DEC too.
 */
export class LazyMmRefcount implements LazyMmRef<TlbOps> {
  readonly mode: 'atomic' | 'shoot-lazies';
  private readonly ctx: LazyRefContext;
  private readonly shootId: number;
  readonly grabs: Counter;
  readonly drops: Counter;
  readonly shootCalls: Counter;
  readonly shootTargets: Counter;
  readonly shootSwitches: Counter;

  constructor(mode: 'atomic' | 'shoot-lazies', ctx: LazyRefContext, stats: StatGroup) {
    this.mode = mode;
    this.ctx = ctx;
    this.grabs = stats.counter('grabs', 'mmgrab_lazy_tlb() calls: user -> kernel switches and exit_mm() (atomic: a LOCK INC of mm_count each)');
    this.drops = stats.counter('drops', 'mmdrop_lazy_tlb() calls: kernel -> user switches, exec from a kernel thread (atomic: a LOCK DEC; shoot-lazies: an MFENCE)');
    this.shootCalls = stats.counter('shootCalls', 'cleanup_lazy_tlbs() calls (shoot-lazies: one per freed mm)');
    this.shootTargets = stats.counter('shootTargets', 'other CPUs in mm_cpumask that cleanup_lazy_tlbs() sent do_shoot_lazy_tlb to');
    this.shootSwitches = stats.counter('shootSwitches', 'CPUs (the initiator included) that do_shoot_lazy_tlb switched from the dying mm to init_mm');
    this.shootId = ctx.smp.register('do_shoot_lazy_tlb', (cpu, info) => this.doShootLazyTlb(cpu, info));
  }

  *grab(k: TlbOps, _cpu: Cpu, mm: AddressSpace): Sim {
    this.grabs.value++;
    if (this.mode === 'atomic') yield k.xadd(this.ctx.mmById(mm.id).countAddr, 1); // mmgrab()
  }

  *drop(k: TlbOps, _cpu: Cpu, mm: AddressSpace): Sim {
    this.drops.value++;
    if (this.mode === 'atomic') yield k.xadd(this.ctx.mmById(mm.id).countAddr, -1); // mmdrop()
    else yield k.mfence(); // smp_mb(): "must provide a full memory barrier" (mmdrop_lazy_tlb)
  }

  /**
   * mmdrop(mm) at the end of __mmput(), after exit_mmap(). Returns true when this is the final
   * drop and the mm must be freed now (shoot-lazies: nothing else holds mm_count); false when the
   * lazy holders still keep it (atomic: freed when the last of them drops it).
   */
  *mmputDrop(k: TlbOps, cpu: Cpu, mm: Mm): Sim<boolean> {
    yield k.xadd(mm.countAddr, -1);
    if (this.mode === 'atomic') return false;
    yield* this.cleanupLazyTlbs(k, cpu, mm);
    return true;
  }

  /** cleanup_lazy_tlbs() (kernel/fork.c): called from __mmdrop() with interrupts on. */
  private *cleanupLazyTlbs(k: TlbOps, cpu: Cpu, mm: Mm): Sim {
    this.shootCalls.value++;
    this.shootTargets.value += mm.cpumask.weight() - (mm.cpumask.test(cpu.id) ? 1 : 0);
    // on_each_cpu_mask(mask, func, info, wait=1): smp_call_function_many_cond with SCF_RUN_LOCAL.
    yield* this.ctx.smp.smpCallFunctionMany(k, cpu, mm.cpumask, this.shootId, mm.id, true, 'concurrent', true);
  }

  /**
   * do_shoot_lazy_tlb() (kernel/fork.c): `if (current->active_mm == mm) { current->active_mm =
   * &init_mm; switch_mm(mm, &init_mm, current); }`. Runs in the IPI handler, or locally with
   * interrupts off.
   */
  private *doShootLazyTlb(cpu: Cpu, mmId: number): Sim {
    const s = this.ctx.sched;
    const current = s.rqs[cpu.id].curr;
    if (current.activeMm === null || current.activeMm.id !== mmId) return;
    const mm = this.ctx.mmById(mmId);
    const initMm = this.ctx.initMm;
    this.shootSwitches.value++;
    current.activeMm = initMm;
    yield* s.mmHook(cpu, this.ctx.strategy.switchMmIrqsOff(s.k, cpu, mm, initMm, current), initMm);
  }
}
