import type { Sim } from '../../lib/engine/ops';
import type { Counter } from '../../lib/stats/counter';
import type { StatGroup } from '../../lib/stats/group';
import type { CpuSet } from '../../cpu/cpuset';
import { activateMm, exitMm } from '../../cpu/exec-mm';
import { spinlockStats, type SpinlockStats } from '../../cpu/spinlock';
import { TASK_DEAD, type Task } from '../../cpu/task';
import { WaitQueue } from '../../cpu/waitqueue';
import type { Engine } from '../../lib/engine/engine';
import type { SimMemory } from '../../mem/memory';
import type { TlbOps } from '../hw/tlb-ops';
import type { Mapping } from './mapping';
import type { MmLifecycle } from './mm-lifecycle';
import type { Mm } from './mm';
import type { TlbScheduler, TlbTaskBody, TlbTaskEnv } from '../task-env';

/**
 * How a child shares its parent's address space: `fork` copies it (dup_mmap: COW, and a flush of
 * the parent), `vfork` borrows it until the child execs or exits (CLONE_VM | CLONE_VFORK: the
 * parent sleeps meanwhile), `thread` shares it for good (CLONE_VM).
 */
export type CloneKind = 'fork' | 'vfork' | 'thread';

export interface CloneOptions {
  /** The CPU whose runqueue placement starts from (wake_up_new_task); default the parent's. */
  cpu?: number;
  /** The child's affinity; default every CPU. */
  allowed?: CpuSet;
}

/** A wait queue and its word: `struct completion vfork` on the parent's stack, or `wait_chldexit`. */
interface VforkDone {
  readonly doneAddr: number;
  readonly wq: WaitQueue;
}

/**
 * The process lifecycle as it acts on address spaces (kernel/fork.c, fs/exec.c, kernel/exit.c):
 * clone in its three kinds, execve (a new mm, switched to with activate_mm, the old one put),
 * and exit (exit_mm: lazy on the old mm until the last switch, then mmput, which runs exit_mmap
 * for the last user). Every step is simulated code on the caller's CPU; the strategy sees the
 * switches and flushes they cause like any other.
 */
/** What the process lifecycle uses of the machine (`TlbMachine` is one). */
export interface ProcessHost {
  readonly k: TlbOps;
  readonly engine: Engine;
  readonly memory: SimMemory;
  readonly sched: TlbScheduler;
  readonly mapping: Mapping;
  readonly mmLifecycle: MmLifecycle;
  createMm(name: string, nPages: number): Mm;
}

export class Processes {
  private readonly m: ProcessHost;
  private readonly s: TlbScheduler;
  /** Per vfork child: its parent's completion. */
  private readonly vforkOf: Map<Task, VforkDone>;
  /** Per parent: its completion, reused across its vforks. */
  private readonly completions: Map<Task, VforkDone>;
  /** Per child: its parent. */
  private readonly parentOf: Map<Task, Task>;
  /** Per parent: `signal->wait_chldexit`, where wait4() sleeps. */
  private readonly childExit: Map<Task, WaitQueue>;
  private readonly lockStats: SpinlockStats;
  readonly forks: Counter;
  readonly vforks: Counter;
  readonly threads: Counter;
  readonly execs: Counter;
  readonly exits: Counter;

  constructor(m: ProcessHost, stats: StatGroup) {
    this.m = m;
    this.s = m.sched;
    this.vforkOf = new Map();
    this.completions = new Map();
    this.parentOf = new Map();
    this.childExit = new Map();
    this.lockStats = spinlockStats(stats.group('waitLocks'), 'vfork completion and wait_chldexit wait-queue locks');
    this.forks = stats.counter('forks', 'fork(): new mm, copied COW');
    this.vforks = stats.counter('vforks', 'vfork(): the child borrows the mm until exec or exit');
    this.threads = stats.counter('threads', 'clone(CLONE_VM): threads sharing the mm');
    this.execs = stats.counter('execs', 'execve(): a new mm');
    this.exits = stats.counter('exits', 'tasks exited');
  }

  /**
   * copy_process() + wake_up_new_task() from `parent`'s context: the child runs `body` in its
   * own, new or shared, address space, and exits when the body returns. A vfork parent returns
   * once the child has exec'd or exited.
   */
  *clone(parent: Task, kind: CloneKind, name: string, body: TlbTaskBody, options: CloneOptions = {}): Sim<Task> {
    const k = this.m.k;
    const cpu = this.s.cpuOf(parent);
    const parentMm = parent.mm as Mm | null;
    if (parentMm === null) throw new Error(`${parent.name}: a kernel thread cannot clone a user address space`);
    let mm: Mm;
    if (kind === 'fork') {
      this.forks.value++;
      mm = this.m.createMm(name, parentMm.nPages);
      yield* this.m.mapping.forkCopy(k, cpu, parentMm, mm);
    } else {
      (kind === 'vfork' ? this.vforks : this.threads).value++;
      mm = parentMm;
      yield* this.m.mmLifecycle.mmget(k, mm);
    }
    let done: VforkDone | null = null;
    if (kind === 'vfork') {
      done = this.completionOf(parent);
      yield k.store(done.doneAddr, 0); // init_completion(&vfork)
    }
    const self = this;
    const child = yield* this.s.spawnTask(parent, name, mm, options.cpu ?? cpu.id, function* (env: TlbTaskEnv): Sim {
      if (done !== null) self.vforkOf.set(env.task, done);
      yield* body(env);
      yield* self.exit(env.task); // returning from the body is exit(0)
    }, options.allowed);
    this.parentOf.set(child, parent);
    if (done !== null) {
      const d = done;
      yield* d.wq.waitEvent(this.s, parent, function* (): Sim<boolean> {
        return (yield k.load(d.doneAddr)) === 1;
      });
    }
    return child;
  }

  /**
   * execve(): a new mm of `nPages` (bprm_mm_init), exec_mmap() — release a vfork parent, switch
   * to the new mm with activate_mm — then mmput() of the old one. The new image's pages fault in
   * as the program touches them.
   */
  *exec(task: Task, name: string, nPages: number): Sim<Mm> {
    const k = this.m.k;
    this.execs.value++;
    const mm = this.m.createMm(name, nPages);
    yield* this.completeVfork(task);
    const own = task.mm as Mm | null; // a kernel thread that execs only borrowed its active mm
    yield* activateMm(this.s, task, mm);
    if (own !== null) yield* this.m.mmLifecycle.mmput(k, this.s.cpuOf(task), own, this.m.mapping);
    return mm;
  }

  /**
   * do_exit(): exit_mm() — release a vfork parent, run lazily on the mm (enter_lazy_tlb), mmput()
   * it (exit_mmap for the last user) — then the last schedule(). Never returns.
   */
  *exit(task: Task): Sim {
    const k = this.m.k;
    this.exits.value++;
    yield* this.completeVfork(task);
    const mm = (yield* exitMm(this.s, task)) as Mm | null;
    if (mm !== null) yield* this.m.mmLifecycle.mmput(k, this.s.cpuOf(task), mm, this.m.mapping);
    // exit_notify(): the exit state is set, then do_notify_parent() wakes a parent in wait4().
    const parent = this.parentOf.get(task);
    if (parent !== undefined) {
      this.parentOf.delete(task);
      yield k.store(task.stateAddr, TASK_DEAD);
      const wq = this.childExit.get(parent);
      if (wq !== undefined) yield* wq.wakeUp(this.s, this.s.cpuOf(task), true);
    }
    yield* this.s.exit(task);
  }

  /** wait4(child): sleeps on the parent's wait_chldexit until the child has exited. */
  *waitFor(parent: Task, child: Task): Sim {
    let wq = this.childExit.get(parent);
    if (wq === undefined) {
      wq = new WaitQueue(`${parent.name}.wait_chldexit`, this.m.memory, this.m.engine, this.lockStats);
      this.childExit.set(parent, wq);
    }
    const k = this.m.k;
    yield* wq.waitEvent(this.s, parent, function* (): Sim<boolean> {
      return (yield k.load(child.stateAddr)) === TASK_DEAD;
    });
  }

  /** mm_release() → complete_vfork_done(): wake the vfork parent, once. */
  private *completeVfork(task: Task): Sim {
    const done = this.vforkOf.get(task);
    if (done === undefined) return;
    this.vforkOf.delete(task);
    yield this.m.k.store(done.doneAddr, 1);
    yield* done.wq.wakeUp(this.s, this.s.cpuOf(task));
  }

  private completionOf(parent: Task): VforkDone {
    let c = this.completions.get(parent);
    if (c === undefined) {
      const base = this.m.memory.allocLines(`${parent.name}.vfork`);
      c = { doneAddr: base + 16, wq: new WaitQueue(`${parent.name}.vfork`, this.m.memory, this.m.engine, this.lockStats, base) };
      this.completions.set(parent, c);
    }
    return c;
  }
}
