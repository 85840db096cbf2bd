import type { Engine } from '../lib/engine/engine';
import type { Histogram } from '../lib/stats/histogram';
import type { StatGroup } from '../lib/stats/group';
import type { SimMemory } from '../mem/memory';
import { Spinlock } from './spinlock';
import type { Task } from './task';

/**
 * One CPU's runqueue. As in `struct rq` (kernel/sched/sched.h) the lock is the first field and
 * `nr_running` and `curr` follow it on the same cacheline, so a remote waker that takes the lock
 * also pulls in the counters the scheduler reads. The queue itself is a FIFO (round-robin within
 * a time slice); `nr_running` counts the running task too, as the kernel's does.
 */
export class Runqueue {
  readonly cpu: number;
  readonly lock: Spinlock;
  readonly nrRunningAddr: number;
  readonly currAddr: number;
  readonly queue: Task[];
  curr: Task;
  readonly idle: Task;
  nrRunning: number;
  /** The tick timer is armed (NO_HZ_IDLE: only while the CPU runs a task). */
  tickArmed: boolean;
  /** Idle balancing looks beyond the LLC only from this cycle on. */
  nextWideBalance: number;

  constructor(cpu: number, idle: Task, memory: SimMemory, engine: Engine, stats: StatGroup, lockWaits: Histogram) {
    this.cpu = cpu;
    const base = memory.allocLines(`rq${cpu}`);
    this.lock = new Spinlock(`rq${cpu}.lock`, memory, engine, stats, lockWaits, base);
    this.nrRunningAddr = base + 8;
    this.currAddr = base + 16;
    this.queue = [];
    this.curr = idle;
    this.idle = idle;
    this.nrRunning = 0;
    this.tickArmed = false;
    this.nextWideBalance = 0;
  }
}
