import type { Sim } from '../lib/engine/ops';
import type { SimCall } from '../lib/engine/step-call';
import type { Cpu } from './cpu';
import type { KernelOps } from './kernel-ops';
import type { Task } from './task';

/** How a user memory access is translated: the TLB layer implements it with TLBs and page walks. */
export interface Translation<K extends KernelOps = KernelOps> {
  access(k: K, cpu: Cpu, task: Task, vaddr: number, write: boolean): SimCall;
  /** `count` independent accesses to vaddr, vaddr + 1, ... (a loop over an array), which an
   *  out-of-order core overlaps; the task runs on `cpus[task's CPU]`. */
  accessRange(k: K, cpus: readonly Cpu[], task: Task, vaddr: number, count: number, write: boolean): Sim;
  /** The kernel's own translations that one pass through the scheduler uses (context_switch). */
  kernelPass(k: K, cpu: Cpu): Sim;
}

/** Every access hits the L1 dTLB and the L1 cache: it costs `l1Hit` of interruptible work. */
export class AlwaysHit implements Translation {
  private readonly l1Hit: number;

  constructor(l1Hit: number) {
    this.l1Hit = l1Hit;
  }

  *access(k: KernelOps): Sim {
    yield k.compute(this.l1Hit);
  }

  /** No TLB, no kernel footprint. */
  *kernelPass(): Sim {}

  /** Pipelined: one access issues per cycle, the last completes `l1Hit` after it issued. */
  *accessRange(k: KernelOps, _cpus: readonly Cpu[], _task: Task, _vaddr: number, count: number): Sim {
    if (count > 0) yield k.compute(count - 1 + this.l1Hit);
  }
}
