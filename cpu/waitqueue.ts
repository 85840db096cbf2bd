import type { Engine } from '../lib/engine/engine';
import type { Sim } from '../lib/engine/ops';
import type { SimMemory } from '../mem/memory';
import type { Cpu } from './cpu';
import type { Scheduler } from './sched';
import { Spinlock, type SpinlockStats } from './spinlock';
import { TASK_BLOCKED, TASK_RUNNING, type Task } from './task';
import { tryToWakeUp } from './wakeup';

/**
 * `wait_queue_head_t` (include/linux/wait.h, kernel/sched/wait.c): a spinlock and a list of
 * waiting tasks on one line of simulated memory. Waiting follows `wait_event()`:
 * prepare_to_wait_exclusive() (queue the task and set it sleeping, under the lock), test the
 * condition, schedule(); a waker makes the condition true, then `wake_up()` takes the lock and
 * runs try_to_wake_up() on the first exclusive waiter (autoremove_wake_function takes it off the
 * list). Because the sleeper sets its state before testing, and the waker changes the condition
 * before waking, no wake-up is lost. The list itself is kept by the model; its line is the lock's.
 */
export class WaitQueue {
  readonly name: string;
  readonly lock: Spinlock;
  private readonly waiters: Task[];

  constructor(name: string, memory: SimMemory, engine: Engine, lockStats: SpinlockStats, addr?: number) {
    this.name = name;
    this.lock = new Spinlock(`${name}.lock`, memory, engine, lockStats, undefined, addr);
    this.waiters = [];
  }

  /**
   * wait_event_interruptible_exclusive(wq, cond): returns once `cond` (simulated code, e.g. loads
   * of a pipe's head and tail) holds; sleeps meanwhile. Interrupts are off while the lock is held
   * (spin_lock_irqsave), as in prepare_to_wait.
   */
  *waitEvent(s: Scheduler, task: Task, cond: () => Sim<boolean>): Sim {
    const k = s.k;
    if (yield* cond()) return;
    for (;;) {
      const cpu = s.cpuOf(task);
      yield k.irqDisable();
      yield* this.lock.lock(k, cpu.id);
      if (!this.waiters.includes(task)) this.waiters.push(task);
      task.state = TASK_BLOCKED;
      yield k.store(task.stateAddr, TASK_BLOCKED); // set_current_state() inside the lock
      yield* this.lock.unlock(k, cpu.id);
      yield k.irqEnable();
      if (yield* cond()) break;
      yield* s.schedule(s.cpuOf(task), false);
    }
    // finish_wait(): running again, and off the list if no waker took it off.
    task.state = TASK_RUNNING;
    yield k.store(task.stateAddr, TASK_RUNNING);
    const i = this.waiters.indexOf(task);
    if (i >= 0) {
      const cpu = s.cpuOf(task);
      yield k.irqDisable();
      yield* this.lock.lock(k, cpu.id);
      // A waker may have taken it off while this CPU waited for the lock: look again under it
      // (splice(-1, 1) would drop another waiter, a lost wake-up).
      const j = this.waiters.indexOf(task);
      if (j >= 0) this.waiters.splice(j, 1);
      yield* this.lock.unlock(k, cpu.id);
      yield k.irqEnable();
    }
  }

  /**
   * wake_up() (nr_exclusive = 1) or wake_up_all() from `cpu` (task or interrupt context): under
   * the lock, try_to_wake_up() on waiters in order until one is woken (or all, with `all`).
   * Returns how many were woken.
   */
  *wakeUp(s: Scheduler, cpu: Cpu, all = false): Sim<number> {
    // __wake_up() takes the lock even when nobody waits: its LOCK XADD is the barrier that makes
    // the waker's condition store visible before it looks at the list (a lockless
    // waitqueue_active() check would need an smp_mb() first, as wq_has_sleeper() has).
    const k = s.k;
    const irqsWereOn = cpu.irqsOn;
    if (irqsWereOn) yield k.irqDisable();
    yield* this.lock.lock(k, cpu.id);
    let woken = 0;
    while (this.waiters.length > 0) {
      const t = this.waiters.shift() as Task; // autoremove_wake_function
      if (yield* tryToWakeUp(s, cpu, t)) woken++;
      if (woken > 0 && !all) break;
    }
    yield* this.lock.unlock(k, cpu.id);
    if (irqsWereOn) yield k.irqEnable();
    return woken;
  }
}
