import type { Sim } from '../lib/engine/ops';
import type { SimCall } from '../lib/engine/step-call';
import { SCHED_DEFAULTS, type SchedCore, type SchedOptions } from './sched-core';

export { SCHED_DEFAULTS, type SchedOptions } from './sched-core';
import type { Counter } from '../lib/stats/counter';
import type { Histogram } from '../lib/stats/histogram';
import type { StatGroup } from '../lib/stats/group';
import { ConfigError } from '../lib/errors';
import { ProbePoint, SimProbePoint } from '../lib/probe';
import type { Cpu } from './cpu';
import type { KernelOps } from './kernel-ops';
import type { CpuMachine } from './machine';
import { CpuSet } from './cpuset';
import type { LazyMmRef } from './lazy-mm';
import { AlwaysSwitch, type MmSwitch } from './mm-switch';
import { Runqueue } from './runqueue';
import { TASK_BLOCKED, TASK_DEAD, TASK_RUNNING, TIF_NEED_RESCHED, Task, type AddressSpace, type TaskBody, type TaskEnv } from './task';
import { TICK_TIMER, idleLoop, irqExit, timerInterrupt } from './sched-tick';
import { Timers } from './timers';
import { AlwaysHit, type Translation } from './translation';
import { VEC_LOCAL_TIMER, VEC_RESCHEDULE } from './vectors';
import { idleBalance, tryToWakeUp } from './wakeup';

/**
 * Per-CPU runqueues, tasks and `schedule()`, modelled on kernel/sched/core.c: the switch path
 * runs with interrupts off and the rq lock held, calls the mm hooks at context_switch()'s points,
 * and hands the CPU over with `switch_to`. Wake-ups from other CPUs take the target's rq lock and
 * send a reschedule IPI to an idle target; the tick preempts a task whose slice is used up.
 * Every lock, flag and counter the kernel touches lives in simulated memory, so the switch and
 * wake-up costs come out of the coherence model. `K` is the machine's operation set, which task
 * code and the mm hooks get as `k`.
 */
export class Scheduler<K extends KernelOps = KernelOps> implements SchedCore {
  readonly m: CpuMachine;
  readonly k: K;
  readonly rqs: Runqueue[];
  readonly tasks: Task[];
  readonly mmSwitch: MmSwitch<K>;
  readonly translation: Translation<K>;
  readonly timers: Timers;
  readonly tickCycles: number;
  readonly sliceCycles: number;
  readonly stats: StatGroup;
  readonly switches: Record<'count' | 'sameMm' | 'differentMm' | 'toKernelThread' | 'fromKernelThread' | 'toIdle' | 'fromIdle', Counter>;
  readonly switchCycles: Histogram;
  readonly wakeups: Counter;
  readonly wakeupIpis: Counter;
  readonly migrations: Counter;
  readonly preemptions: Counter;
  /** Cycles spent in the mm hooks of context_switch() (enter_lazy_tlb, switch_mm_irqs_off). */
  readonly switchMmCycles: Counter;
  /** Per CPU: inside the mm hooks of context_switch(). */
  readonly inMmSwitch: Uint8Array;
  /** A CPU has finished the mm hooks of a context switch: (cpu). The oracle listens. */
  readonly mmSwitched: ProbePoint<number>;
  /**
   * A CPU's active mm is now `mm` (after every context switch, and when execve() activates a new
   * mm): what holds an mm_count reference on an mm it may be lazy on. Fired even when unchanged.
   */
  readonly activeMmProbe: ProbePoint<number, AddressSpace>;
  /**
   * Poll points (simulated code, run with interrupts off): `schedulePoll` in __schedule() once
   * `next` is picked, before the prev != next test (so also when no switch happens), with the
   * rq lock held; `tickPoll` at the end of scheduler_tick(), after the rq lock is released.
   * LATR scans its saved flush states at both (tlb/strategies/latr.ts).
   */
  readonly schedulePoll: SimProbePoint<Cpu>;
  readonly tickPoll: SimProbePoint<Cpu>;
  /** mmgrab_lazy_tlb / mmdrop_lazy_tlb, when the lazy reference is modelled (cpu/lazy-mm.ts); null: free. */
  lazyRef: LazyMmRef<K> | null = null;
  /** The default affinity: every CPU (shared, never modified). */
  readonly allCpus: CpuSet;
  /** `rd->overload`: some runqueue has a task waiting (read by every CPU going idle). */
  readonly overloadAddr: number;
  /** The CPUs of each LLC, ascending (sd_llc's span): wake-up placement scans only its own. */
  readonly llcCpus: readonly Int32Array[];
  private overloaded: number;

  constructor(m: CpuMachine & { readonly k: K }, options: SchedOptions<K> = {}) {
    const hz = options.hz ?? SCHED_DEFAULTS.hz;
    const sliceUs = options.sliceUs ?? SCHED_DEFAULTS.sliceUs;
    if (!(hz >= 1 && hz <= 10_000)) throw new ConfigError(`sched hz = ${hz} is out of range: expected [1, 10000] ticks per second`);
    if (!(sliceUs > 0)) throw new ConfigError(`sched sliceUs = ${sliceUs} is out of range: expected a positive number of µs`);
    this.m = m;
    this.k = m.k;
    const p = m.config.params;
    this.tickCycles = Math.round((p.clockGhz * 1e9) / hz);
    this.sliceCycles = Math.round(p.clockGhz * 1e3 * sliceUs);
    this.mmSwitch = options.mmSwitch ?? new AlwaysSwitch(m.topology.nCpus, p.cr3Write);
    this.translation = options.translation ?? new AlwaysHit(p.l1Hit);
    this.stats = m.stats.group('sched');
    const sw = this.stats.group('contextSwitches');
    this.switches = {
      count: sw.counter('count', 'context switches'),
      sameMm: sw.counter('sameMm', 'between two threads of one mm'),
      differentMm: sw.counter('differentMm', 'between user tasks of different mms'),
      toKernelThread: sw.counter('toKernelThread', 'to a kernel thread (not idle)'),
      fromKernelThread: sw.counter('fromKernelThread', 'from a kernel thread (not idle)'),
      toIdle: sw.counter('toIdle', 'to the idle task'),
      fromIdle: sw.counter('fromIdle', 'from the idle task'),
    };
    this.switchCycles = this.stats.histogram('switchCycles', 'cycles from entering schedule() to handing the CPU over');
    const lockWaits = this.stats.histogram('rqLockWaitCycles', 'cycles to acquire an rq lock: the ticket XADD (with its line transfer) and any wait for the holder');
    this.wakeups = this.stats.counter('wakeups', 'tasks woken');
    this.wakeupIpis = this.stats.counter('wakeupIpis', 'reschedule IPIs sent by wake-ups');
    this.migrations = this.stats.counter('migrations', 'tasks moved to another CPU (wake-up placement or idle balance)');
    this.preemptions = this.stats.counter('preemptions', 'tasks preempted on return from an interrupt');
    this.switchMmCycles = this.stats.counter('switchMmCycles', 'cycles spent in enter_lazy_tlb and switch_mm_irqs_off');
    this.inMmSwitch = new Uint8Array(m.topology.nCpus);
    this.mmSwitched = new ProbePoint('sched.mmSwitched');
    this.activeMmProbe = new ProbePoint('sched.activeMm');
    this.schedulePoll = new SimProbePoint('sched.schedulePoll');
    this.tickPoll = new SimProbePoint('sched.tickPoll');
    this.tasks = [];
    this.rqs = [];
    this.allCpus = CpuSet.all(m.topology.nCpus);
    this.overloadAddr = m.memory.allocLines('rd.overload');
    this.llcCpus = Array.from({ length: m.topology.nCcx }, (_, x) => Int32Array.from(m.topology.cpusOfCcx(x)));
    this.overloaded = 0;
    const rqStats = this.stats.group('rq');
    for (let c = 0; c < m.topology.nCpus; c++) {
      const idle = this.newTask(`swapper/${c}`, null, c, true);
      this.rqs.push(new Runqueue(c, idle, m.memory, m.engine, rqStats.group(`rq${c}`), lockWaits));
    }
    const sys = m.cpu;
    this.timers = new Timers(m.engine, m.topology.nCpus, (cpu) => sys.raise(cpu, VEC_LOCAL_TIMER));
    const self = this;
    sys.handlers[VEC_RESCHEDULE] = function* (): Sim {
      // scheduler_ipi(): the waker already set need_resched; the work happens at irq exit.
    };
    sys.handlers[VEC_LOCAL_TIMER] = (cpu: Cpu) => timerInterrupt(self, cpu);
    sys.irqExitHook = (cpu: Cpu) => irqExit(self, cpu);
  }

  /**
   * A task in `mm` (null: a kernel thread), runnable on `cpu` from the start. `allowed` is its
   * affinity (`sched_setaffinity`; default every CPU) and must contain `cpu`. A `daemon` (a
   * kernel thread that may sleep for good, e.g. LATR's background thread) does not keep a run going.
   */
  createTask(name: string, mm: AddressSpace | null, cpu: number, body: TaskBody<Scheduler<K>, K>, allowed?: CpuSet, daemon = false): Task {
    const t = this.newTask(name, mm, cpu, false, allowed);
    t.process = this.m.engine.create(name, cpu, this.taskMain(t, body), daemon);
    t.onRq = true;
    t.queuedAt = this.m.engine.now;
    const rq = this.rqs[cpu];
    rq.queue.push(t);
    rq.nrRunning++;
    this.m.memory.poke(rq.nrRunningAddr, rq.nrRunning);
    this.m.memory.poke(t.onRqAddr, 1);
    if (rq.nrRunning === 2 && ++this.overloaded === 1) this.m.memory.poke(this.overloadAddr, 1);
    return t;
  }

  /**
   * Creates a task at run time from `parent`'s context (fork/clone + wake_up_new_task): it is
   * enqueued on `cpu`'s runqueue under its lock, and an idle target gets a reschedule IPI.
   */
  *spawnTask(parent: Task, name: string, mm: AddressSpace | null, cpu: number, body: TaskBody<Scheduler<K>, K>, allowed?: CpuSet): Sim<Task> {
    const t = this.newTask(name, mm, cpu, false, allowed);
    t.process = this.m.engine.create(name, cpu, this.taskMain(t, body));
    t.state = TASK_BLOCKED;
    this.m.memory.poke(t.stateAddr, TASK_BLOCKED);
    yield* tryToWakeUp(this, this.cpuOf(parent), t);
    return t;
  }

  /** Boots every CPU into its idle task; CPUs with queued tasks schedule at once. */
  start(): void {
    for (const rq of this.rqs) {
      const idle = rq.idle;
      idle.process = this.m.engine.create(idle.name, rq.cpu, idleLoop(this, this.m.cpu.cpus[rq.cpu], idle), true);
      idle.runningOn = rq.cpu;
      idle.onRq = true;
      this.m.memory.poke(idle.onCpuAddr, 1);
      if (rq.queue.length > 0) this.m.memory.poke(idle.flagsAddr, 1 << TIF_NEED_RESCHED);
      this.m.cpu.boot(rq.cpu, idle.process);
    }
  }

  env(task: Task): TaskEnv<Scheduler<K>, K> {
    return { k: this.k, task, sched: this };
  }

  cpuOf(task: Task): Cpu {
    return this.m.cpu.cpus[(task.process as { cpu: number }).cpu];
  }

  /** schedule(): pick the next task and switch to it. Returns whether the CPU was handed over. */
  *schedule(cpu: Cpu, preempt: boolean): Sim<boolean> {
    const k = this.k;
    const start = this.m.engine.now;
    const rq = this.rqs[cpu.id];
    if (!preempt) yield k.irqDisable();
    yield* rq.lock.lock(k, cpu.id);
    const prev = rq.curr;
    if (!preempt && prev.state !== TASK_RUNNING) {
      // deactivate_task(): it sleeps or exits.
      prev.onRq = false;
      yield k.store(prev.onRqAddr, 0);
      yield* this.setNrRunning(rq, rq.nrRunning - 1);
    } else if (!prev.isIdle) {
      prev.queuedAt = this.m.engine.now;
      rq.queue.push(prev); // put_prev_task: back to the tail
    }
    let next = rq.queue.shift() ?? null;
    if (next === null) next = yield* idleBalance(this, cpu, rq);
    if (next === null) next = rq.idle;
    yield k.lockBtr(prev.flagsAddr, TIF_NEED_RESCHED); // clear_tsk_need_resched(prev)
    if (this.schedulePoll.attached !== 0) yield* this.schedulePoll.run(cpu);
    if (next === prev) {
      yield* rq.lock.unlock(k, cpu.id);
      if (!preempt) yield k.irqEnable();
      return false;
    }
    rq.curr = next;
    yield k.store(rq.currAddr, next.pid);
    yield k.store(next.onCpuAddr, 1); // prepare_task_switch()
    yield* this.contextSwitch(cpu, prev, next);
    if (!next.isIdle && !rq.tickArmed) {
      rq.tickArmed = true;
      this.timers.arm(cpu.id, this.m.engine.now + this.tickCycles, TICK_TIMER);
    }
    yield* this.translation.kernelPass(k, cpu); // the scheduler's code and data through the TLB
    yield k.delay(this.m.config.params.contextSwitch); // switch_to and the rest the model does not itemize
    // finish_task_switch()'s unlock happens just before the hand-over here (same CPU, same cost);
    // interrupts come back on with the hand-over itself.
    yield* rq.lock.unlock(k, cpu.id);
    // smp_store_release(&prev->on_cpu, 0): until this store is visible, wakers and load
    // balancers leave prev alone; the hand-over below retires right after it, as one sequence.
    cpu.handingOver = true;
    yield k.store(prev.onCpuAddr, 0);
    this.handOverCheck(cpu, prev, next);
    this.switchCycles.record(this.m.engine.now - start);
    yield k.switchTo((next.process as { id: number }).id, prev.state === TASK_DEAD);
    return true;
  }

  /**
   * Updates rq->nr_running, and the root domain's overload word when this runqueue starts or
   * stops having a task waiting (add_nr_running / sub_nr_running set rd->overload).
   */
  *setNrRunning(rq: Runqueue, n: number): Sim {
    const wasOver = rq.nrRunning > 1;
    rq.nrRunning = n;
    yield this.k.store(rq.nrRunningAddr, n);
    const isOver = n > 1;
    if (wasOver === isOver) return;
    this.overloaded += isOver ? 1 : -1;
    if (this.overloaded === (isOver ? 1 : 0)) yield this.k.store(this.overloadAddr, isOver ? 1 : 0);
  }

  /** context_switch(): the mm part, then the bookkeeping the stats need. */
  private *contextSwitch(cpu: Cpu, prev: Task, next: Task): Sim {
    const k = this.k;
    const ref = this.lazyRef;
    const borrowed = prev.activeMm;
    if (next.mm === null) {
      next.activeMm = borrowed; // a kernel thread borrows the mm: lazy TLB
      yield* this.mmHook(cpu, this.mmSwitch.enterLazyTlb(k, cpu, borrowed, next), next.activeMm);
      // user -> kernel: mmgrab_lazy_tlb(prev->active_mm); kernel -> kernel hands the reference on.
      if (ref !== null && prev.mm !== null && borrowed !== null) yield* ref.grab(k, cpu, borrowed);
    } else {
      yield* this.mmHook(cpu, this.mmSwitch.switchMmIrqsOff(k, cpu, borrowed, next.mm, next), next.mm);
      // kernel -> user: rq->prev_mm, dropped by finish_task_switch() (mmdrop_lazy_tlb). Same CPU,
      // interrupts still off, so doing it here costs what it costs there.
      if (ref !== null && prev.mm === null && borrowed !== null) yield* ref.drop(k, cpu, borrowed);
    }
    if (prev.mm === null) prev.activeMm = null;
    const s = this.switches;
    s.count.value++;
    if (next.isIdle) s.toIdle.value++;
    else if (next.mm === null) s.toKernelThread.value++;
    if (prev.isIdle) s.fromIdle.value++;
    else if (prev.mm === null) s.fromKernelThread.value++;
    if (prev.mm !== null && next.mm !== null) (prev.mm === next.mm ? s.sameMm : s.differentMm).value++;
  }

  /**
   * Runs one of the strategy's mm hooks (interrupts off) with the bookkeeping every caller needs:
   * the cycles spent, the in-switch flag the oracle reads, the `mmSwitched` probe, and the active-mm
   * probe for the CPU's mm afterwards (`active`).
   */
  *mmHook(cpu: Cpu, hook: Sim, active: AddressSpace | null): Sim {
    const start = this.m.engine.now;
    this.inMmSwitch[cpu.id] = 1;
    yield* hook;
    this.switchMmCycles.value += this.m.engine.now - start;
    this.inMmSwitch[cpu.id] = 0;
    this.mmSwitched.notify(cpu.id);
    if (active !== null) this.activeMmProbe.notify(cpu.id, active);
  }

  /** The invariant checker: one running task per CPU, no task on two CPUs. */
  private handOverCheck(cpu: Cpu, prev: Task, next: Task): void {
    if (prev.runningOn !== cpu.id) throw new Error(`${prev.name} switched out of cpu${cpu.id} but runs on cpu${prev.runningOn}`);
    if (next.runningOn !== -1) throw new Error(`${next.name} switched in on cpu${cpu.id} while running on cpu${next.runningOn}`);
    prev.runningOn = -1;
    next.runningOn = cpu.id;
    next.sliceStart = this.m.engine.now;
    next.switchesIn++;
  }

  private *taskMain(task: Task, body: TaskBody<Scheduler<K>, K>): Sim {
    yield* body(this.env(task));
    yield* this.exit(task);
  }

  // --- services for task code ---

  /** Sleeps until another context wakes the task (set_current_state + schedule). */
  *block(task: Task): Sim {
    task.state = TASK_BLOCKED;
    yield this.k.xchg(task.stateAddr, TASK_BLOCKED); // smp_store_mb()
    yield* this.schedule(this.cpuOf(task), false);
  }

  /**
   * Sleeps until the word at `addr` equals `value`: prepare_to_wait(), check the condition, then
   * schedule(); a waker stores the value and then wakes the task, so no wake-up is lost.
   */
  *waitUntil(task: Task, addr: number, value: number): Sim {
    const k = this.k;
    for (;;) {
      task.state = TASK_BLOCKED;
      yield k.xchg(task.stateAddr, TASK_BLOCKED);
      if ((yield k.load(addr)) === value) {
        task.state = TASK_RUNNING;
        yield k.store(task.stateAddr, TASK_RUNNING);
        return;
      }
      yield* this.schedule(this.cpuOf(task), false);
    }
  }

  /** Wakes `target` from `task`'s context. (Hands back try_to_wake_up's own generator: one allocation less.) */
  wakeUp(task: Task, target: Task): Sim<boolean> {
    return tryToWakeUp(this, this.cpuOf(task), target);
  }

  /** Sleeps for `cycles`, woken by an hrtimer on the current CPU. */
  *sleepFor(task: Task, cycles: number): Sim {
    this.timers.arm(this.cpuOf(task).id, this.m.engine.now + cycles, task.pid);
    yield* this.block(task);
  }

  /**
   * sched_setaffinity(0, mask) from the task itself. If its CPU is no longer allowed it must
   * move: the kernel's stopper (migration_cpu_stop) takes it off this CPU and queues it on an
   * allowed one. Modelled as a wake-up raised on this CPU with interrupts off, so it is taken only
   * once the task is off the CPU: try_to_wake_up, which honours the mask, then places it
   * (select_fallback_rq when its CPU is not allowed).
   */
  *setAffinity(task: Task, allowed: CpuSet): Sim {
    if (allowed.size === 0) throw new ConfigError(`sched_setaffinity of ${task.name}: the CPU set is empty`);
    task.cpusAllowed = allowed;
    const cpu = this.cpuOf(task);
    if (allowed.has(cpu.id)) return;
    yield this.k.irqDisable();
    task.state = TASK_BLOCKED;
    yield this.k.xchg(task.stateAddr, TASK_BLOCKED);
    this.timers.arm(cpu.id, this.m.engine.now, task.pid);
    yield* this.schedule(cpu, false);
  }

  /** sched_yield(). */
  *yieldCpu(task: Task): Sim {
    yield* this.schedule(this.cpuOf(task), false);
  }

  /**
   * A user memory access, through the translation interface. Callers `yield*` it at once: it may
   * start when called (a TLB hit is a pooled step machine, lib/engine/step-call.ts).
   */
  touch(task: Task, vaddr: number, write: boolean): SimCall {
    return this.translation.access(this.k, this.cpuOf(task), task, vaddr, write);
  }

  /** `count` independent user accesses to consecutive pages from `vaddr`: their misses overlap. */
  touchRange(task: Task, vaddr: number, count: number, write: boolean): Sim {
    return this.translation.accessRange(this.k, this.m.cpu.cpus, task, vaddr, count, write);
  }

  /** do_exit(): the task's last schedule(); it never runs again. */
  *exit(task: Task): Sim {
    task.state = TASK_DEAD;
    yield this.k.store(task.stateAddr, TASK_DEAD);
    yield* this.schedule(this.cpuOf(task), false);
  }

  private newTask(name: string, mm: AddressSpace | null, cpu: number, isIdle: boolean, allowed?: CpuSet): Task {
    const n = this.m.topology.nCpus;
    if (!(Number.isInteger(cpu) && cpu >= 0 && cpu < n)) throw new ConfigError(`task ${name}: CPU ${cpu} is outside 0-${n - 1}`);
    const mask = allowed ?? (isIdle ? CpuSet.of(n, [cpu]) : this.allCpus);
    if (!mask.has(cpu)) throw new ConfigError(`task ${name}: CPU ${cpu} is not in its affinity ${mask.toString()}`);
    const t = new Task(this.tasks.length, name, mm, cpu, isIdle, this.m.memory, mask);
    this.tasks.push(t);
    return t;
  }
}
