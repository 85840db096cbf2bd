import type { Sim } from '../lib/engine/ops';
import type { Cpu } from './cpu';
import type { KernelOps } from './kernel-ops';
import type { AddressSpace } from './task';

/**
 * The lazy mm reference (include/linux/sched/mm.h, mmgrab_lazy_tlb() / mmdrop_lazy_tlb()): what a
 * CPU running a kernel thread on a borrowed `active_mm` does to keep that mm_struct alive. How it
 * is kept is the `mmRefcount` strategy option (tlb/mm/lazy-ref.ts); the scheduler only calls these
 * at the points kernel/sched/core.c does. With the option off (`none`) the scheduler has no
 * `LazyMmRef` and the reference costs nothing, as before the option existed.
 */
export interface LazyMmRef<K extends KernelOps = KernelOps> {
  /**
   * mmgrab_lazy_tlb(mm): context_switch()'s user -> kernel case (`if (prev->mm)
   * mmgrab_lazy_tlb(prev->active_mm)`), and exit_mm(), where the exiting task becomes a lazy user.
   */
  grab(k: K, cpu: Cpu, mm: AddressSpace): Sim;
  /**
   * mmdrop_lazy_tlb(mm): finish_task_switch() after the kernel -> user case (`rq->prev_mm`), and
   * exec_mmap() when a kernel thread takes an mm of its own.
   */
  drop(k: K, cpu: Cpu, mm: AddressSpace): Sim;
}
