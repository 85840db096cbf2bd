import type { Sim } from '../lib/engine/ops';
import type { Cpu } from './cpu';
import type { KernelOps } from './kernel-ops';
import type { Task } from './task';

/** How a user memory access is translated: the TLB layer implements it with TLBs and page walks. */
export interface Translation {
  access(k: KernelOps, cpu: Cpu, task: Task, vaddr: number, write: boolean): Sim;
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
}
