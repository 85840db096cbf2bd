import type { Scheduler } from '../cpu/sched';
import type { TaskBody, TaskEnv } from '../cpu/task';
import type { TlbOps } from './hw/tlb-ops';

/**
 * The scheduler and the task environment of a whole machine (`TlbMachine`): task code stages
 * the TLB layer's operations as well as the CPU's, so a workload calls `m.mapping.munmap(k, ...)`
 * with its own `k`, no cast needed.
 */
export type TlbScheduler = Scheduler<TlbOps>;
export type TlbTaskEnv = TaskEnv<TlbScheduler, TlbOps>;
export type TlbTaskBody = TaskBody<TlbScheduler, TlbOps>;
