import type { Sim } from '../lib/engine/ops';
import type { SimProbePoint } from '../lib/probe';
import type { Counter } from '../lib/stats/counter';
import type { Cpu } from './cpu';
import type { KernelOps } from './kernel-ops';
import type { CpuMachine } from './machine';
import type { MmSwitch } from './mm-switch';
import type { Runqueue } from './runqueue';
import type { Task } from './task';
import type { Timers } from './timers';
import type { Translation } from './translation';

export interface SchedOptions<K extends KernelOps = KernelOps> {
  /** CONFIG_HZ: scheduler ticks per second on a busy CPU. */
  hz?: number;
  /** Time slice before a tick preempts a task that has company on its runqueue, in µs. */
  sliceUs?: number;
  mmSwitch?: MmSwitch<K>;
  translation?: Translation<K>;
}

/** CONFIG_HZ=1000; sysctl_sched_base_slice = 0.75 ms (kernel/sched/fair.c, Linux 6.6 EEVDF). */
export const SCHED_DEFAULTS = { hz: 1000, sliceUs: 750 } as const;

/**
 * What the scheduler's other parts use of it: try_to_wake_up() and idle balancing (wakeup.ts),
 * the tick and the idle loop (sched-tick.ts). `Scheduler` (sched.ts) implements it, and they
 * depend on this, not on sched.ts, which calls them: kernel/sched/core.c and fair.c share
 * kernel/sched/sched.h the same way.
 */
export interface SchedCore {
  readonly m: CpuMachine;
  readonly k: KernelOps;
  readonly rqs: Runqueue[];
  readonly tasks: Task[];
  readonly mmSwitch: MmSwitch<KernelOps>;
  readonly timers: Timers;
  /** Cycles per tick (CONFIG_HZ) and per time slice. */
  readonly tickCycles: number;
  readonly sliceCycles: number;
  readonly wakeups: Counter;
  readonly wakeupIpis: Counter;
  readonly migrations: Counter;
  readonly preemptions: Counter;
  /** The poll point at the end of scheduler_tick(). */
  readonly tickPoll: SimProbePoint<Cpu>;
  /** rd->overload: some runqueue has a task waiting. */
  readonly overloadAddr: number;
  /** The CPUs of each LLC (CCX), for wake-up placement and balancing. */
  readonly llcCpus: readonly Int32Array[];
  /** schedule(): pick the next task and switch to it; whether the CPU was handed over. */
  schedule(cpu: Cpu, preempt: boolean): Sim<boolean>;
  /** Updates rq->nr_running and rd->overload. */
  setNrRunning(rq: Runqueue, n: number): Sim;
}
