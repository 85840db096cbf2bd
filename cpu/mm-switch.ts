import type { Sim } from '../lib/engine/ops';
import type { Cpu } from './cpu';
import type { KernelOps } from './kernel-ops';
import type { AddressSpace, Task } from './task';

/**
 * The points where `context_switch()` (kernel/sched/core.c) calls into the architecture's mm
 * code, with the rq lock held and interrupts off. A lazy-TLB strategy implements these.
 */
export interface MmSwitch<K extends KernelOps = KernelOps> {
  /** `enter_lazy_tlb(prev->active_mm, next)`: `next` has no mm and borrows `activeMm`. */
  enterLazyTlb(k: K, cpu: Cpu, activeMm: AddressSpace | null, next: Task): Sim;
  /** `switch_mm_irqs_off(prev->active_mm, next->mm, next)`. */
  switchMmIrqsOff(k: K, cpu: Cpu, prev: AddressSpace | null, next: AddressSpace, nextTask: Task): Sim;
  /** Optional: run by the idle loop before it halts (e.g. leave_mm() before a deep C-state). */
  idleEnter?(k: K, cpu: Cpu): Sim;
  /**
   * Optional: the idle loop polls instead of halting (cpu_idle_poll(), idle=poll). Called with
   * interrupts off and need_resched clear; enables interrupts, polls whatever it watches beside
   * the idle task's thread flags at `flagsAddr`, and returns once TIF_NEED_RESCHED may be set.
   */
  idlePoll?(k: K, cpu: Cpu, flagsAddr: number): Sim;
}

/**
 * No laziness at all: every switch to another address space writes CR3, and a switch to a kernel
 * thread loads init_mm's page tables (the "eager" behaviour). CR3 writes serialize: they drain
 * the store buffer and cost `cr3Write`.
 */
export class AlwaysSwitch implements MmSwitch {
  /** What each CPU's CR3 points at: an mm id, or -1 for init_mm. */
  private readonly loaded: Int32Array;
  private readonly cr3Write: number;

  constructor(nCpus: number, cr3Write: number) {
    this.loaded = new Int32Array(nCpus).fill(-1);
    this.cr3Write = cr3Write;
  }

  *enterLazyTlb(k: KernelOps, cpu: Cpu): Sim {
    if (this.loaded[cpu.id] === -1) return;
    this.loaded[cpu.id] = -1;
    yield k.serialize(this.cr3Write);
  }

  *switchMmIrqsOff(k: KernelOps, cpu: Cpu, _prev: AddressSpace | null, next: AddressSpace): Sim {
    if (this.loaded[cpu.id] === next.id) return;
    this.loaded[cpu.id] = next.id;
    yield k.serialize(this.cr3Write);
  }
}
