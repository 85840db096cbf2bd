import type { Sim } from '../lib/engine/ops';
import type { Process } from '../lib/engine/process';
import type { SimMemory } from '../mem/memory';
import type { CpuSet } from './cpuset';
import type { KernelOps } from './kernel-ops';

/** An address space as the CPU layer sees it; the TLB layer's `Mm` implements it. */
export interface AddressSpace {
  readonly id: number;
  readonly name: string;
}

export const TASK_RUNNING = 0; // on a CPU or queued (Linux: TASK_RUNNING with on_rq)
export const TASK_BLOCKED = 1; // TASK_UNINTERRUPTIBLE
export const TASK_DEAD = 2;
/** TIF_NEED_RESCHED's bit in thread_info.flags (arch/x86/include/asm/thread_info.h). */
export const TIF_NEED_RESCHED = 3;

/**
 * What a task's code gets: the operations, itself, and the kernel services it may call. `K` is
 * the machine's operation set (the TLB layer's `TlbOps` on a whole machine), so task code can
 * stage every operation the machine has without a cast.
 */
export interface TaskEnv<S = unknown, K extends KernelOps = KernelOps> {
  readonly k: K;
  readonly task: Task;
  readonly sched: S;
}

/**
 * A schedulable task: a user thread (with an mm) or a kernel thread (mm = null, borrowing the
 * previous task's `activeMm`, which is lazy TLB). Its `thread_info.flags`, `state` and `on_rq`
 * live on its own line of simulated memory, because wakers on other CPUs read and write them.
 */
export class Task {
  readonly pid: number;
  readonly name: string;
  /** Its own mm: null for a kernel thread, and for a user task once exit_mm() has run. execve() replaces it. */
  mm: AddressSpace | null;
  /** The mm whose page tables the task runs on: its own, or the one it borrowed. */
  activeMm: AddressSpace | null;
  readonly isIdle: boolean;
  process: Process | null;
  /** The CPU whose runqueue the task belongs to. */
  cpu: number;
  /** `p->cpus_mask`: where the task may run (sched_setaffinity). Wake-up placement, idle
   *  balancing and migration honour it. */
  cpusAllowed: CpuSet;
  state: number;
  onRq: boolean;
  /** The CPU it runs on right now, or -1: checked so that no task ever runs on two CPUs. */
  runningOn: number;
  sliceStart: number;
  /** When it was last put on a runqueue to wait for its CPU (woken, created, preempted): the
   *  stall check reads it at the end of a run. */
  queuedAt: number;
  readonly flagsAddr: number;
  readonly stateAddr: number;
  readonly onRqAddr: number;
  /** `p->on_cpu`: set while the task is on a CPU, cleared after its CPU has switched away. */
  readonly onCpuAddr: number;
  switchesIn: number;

  constructor(pid: number, name: string, mm: AddressSpace | null, cpu: number, isIdle: boolean, memory: SimMemory, cpusAllowed: CpuSet) {
    this.pid = pid;
    this.name = name;
    this.mm = mm;
    this.activeMm = mm;
    this.isIdle = isIdle;
    this.process = null;
    this.cpu = cpu;
    this.cpusAllowed = cpusAllowed;
    this.state = TASK_RUNNING;
    this.onRq = false;
    this.runningOn = -1;
    this.sliceStart = 0;
    this.queuedAt = 0;
    const base = memory.allocLines(`task${pid}(${name})`);
    this.flagsAddr = base; // thread_info.flags is the first field of task_struct on x86
    this.stateAddr = base + 8;
    this.onRqAddr = base + 16;
    this.onCpuAddr = base + 24;
    this.switchesIn = 0;
  }

  get isKernelThread(): boolean {
    return this.mm === null;
  }
}

/** The body of a task: simulated code run in its own context. */
export type TaskBody<S, K extends KernelOps = KernelOps> = (env: TaskEnv<S, K>) => Sim;
