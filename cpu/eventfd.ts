import type { Engine } from '../lib/engine/engine';
import type { Sim } from '../lib/engine/ops';
import type { SimMemory } from '../mem/memory';
import type { Scheduler } from './sched';
import type { SpinlockStats } from './spinlock';
import type { Task } from './task';
import { WaitQueue } from './waitqueue';

/**
 * An eventfd (fs/eventfd.c): a 64-bit counter beside its wait queue (`ctx->wqh`), on one line.
 * write(2) adds to the counter and wakes a reader; a blocking read(2) waits until the counter is
 * non-zero, then takes it all and resets it. The kernel wakes under the wait-queue lock it already
 * holds (wake_up_locked_poll); the model takes that lock again in `wakeUp`, one extra local
 * acquire.
 */
export class EventFd {
  readonly name: string;
  readonly wqh: WaitQueue;
  readonly countAddr: number;

  constructor(name: string, memory: SimMemory, engine: Engine, lockStats: SpinlockStats) {
    this.name = name;
    const base = memory.allocLines(name, 1);
    this.wqh = new WaitQueue(`${name}.wqh`, memory, engine, lockStats, base);
    this.countAddr = base + 8;
  }

  /** eventfd_write(): `vfs` is the cost beyond the machine's syscallEntryExit (fdget, file ops). */
  *write(s: Scheduler, task: Task, n: number, vfs: number): Sim {
    const k = s.k;
    yield k.compute(s.m.config.params.syscallEntryExit + vfs);
    const cpu = s.cpuOf(task).id;
    yield k.irqDisable();
    yield* this.wqh.lock.lock(k, cpu);
    yield k.store(this.countAddr, (yield k.load(this.countAddr)) + n);
    yield* this.wqh.lock.unlock(k, cpu);
    yield k.irqEnable();
    yield* this.wqh.wakeUp(s, s.cpuOf(task));
  }

  /** eventfd_read() of a blocking eventfd: returns the counter it took. */
  *read(s: Scheduler, task: Task, vfs: number): Sim<number> {
    const k = s.k;
    yield k.compute(s.m.config.params.syscallEntryExit + vfs);
    yield* this.wqh.waitEvent(s, task, () => this.nonZero(s));
    const cpu = s.cpuOf(task).id;
    yield k.irqDisable();
    yield* this.wqh.lock.lock(k, cpu);
    const n = yield k.load(this.countAddr);
    yield k.store(this.countAddr, 0);
    yield* this.wqh.lock.unlock(k, cpu);
    yield k.irqEnable();
    return n;
  }

  private *nonZero(s: Scheduler): Sim<boolean> {
    return (yield s.k.load(this.countAddr)) !== 0;
  }
}
