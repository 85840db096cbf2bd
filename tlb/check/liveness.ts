import { OP_SPIN } from '../../lib/engine/ops';
import { PROC_BLOCKED, type Process } from '../../lib/engine/process';
import type { Cpu } from '../../cpu/cpu';
import { CSD_FLAGS, CSD_FUNC } from '../../cpu/smp';
import { VECTOR_NAMES } from '../../cpu/vectors';
import type { TlbMachine } from '../machine';
import type { LockupWatchdog } from './oracle';

/** Each liveness check's threshold, in simulated cycles. */
export type LockupThresholds = Record<LockupWatchdog, number>;

/** The liveness checks, in the order they report (the per-CPU ones first, most specific first). */
export const LOCKUP_WATCHDOGS: readonly LockupWatchdog[] = ['hard', 'soft', 'stall', 'csd', 'flush'];

/**
 * The liveness oracle, after Linux's own detectors, scaled to simulated time and run once, at
 * the end of a run: nothing is added per event, only a store per CLI (`Cpu.irqsOffSince`) and per
 * enqueue (`Task.queuedAt`). Each finding is a `lockup` violation with the CPU, what it waits on
 * in the watchdog's words, and the cycle. One report per stuck CPU (the first check that applies):
 * - `hard`: interrupts off past the threshold (kernel/watchdog_perf.c, "Watchdog detected hard
 *   LOCKUP on cpu N": the CPU stopped taking its timer interrupt);
 * - `soft`: the CPU's context spinning past it with interrupts on (kernel/watchdog.c, "BUG: soft
 *   lockup - CPU#N stuck for Ns!"); a spin in csd_lock_wait is left to `csd`, which says more;
 * - `stall`: a runnable task on the runqueue of a CPU that stays idle past it (the hung-task
 *   report's "INFO: task ... blocked for more than N seconds", for a task that is runnable: its
 *   wake-up, the reschedule IPI or need_resched, was lost). Behind a busy CPU a task waits for a
 *   preemption point, which the model has fewer of than the kernel (a tick that arrives during a
 *   user access does not preempt), so only a CPU stuck in the kernel is a lockup there: the
 *   hard or soft check's.
 * Then, per waiter:
 * - `csd`: a CPU spinning on a CSD's lock flag past the threshold (kernel/smp.c,
 *   CONFIG_CSD_LOCK_WAIT_DEBUG: "csd: Detected non-responsive CSD lock ... waiting N ns for CPU#M"),
 *   with what the target CPU is doing;
 * - `flush`: a flush still open past the threshold whose initiator waits that long (`Oracle.checkLockups`).
 * Under a host model (cpu/host.ts) the checks are steal-time aware: a wait does not count the
 * time its own vCPU was descheduled during it, nor the most any other one was (the one it waits
 * on: a lock holder, a CSD's target): a vCPU kept off its pCPU for milliseconds is not a lockup.
 */
export function checkLiveness(m: TlbMachine, t: LockupThresholds): void {
  const now = m.engine.now;
  const stuck: { cpu: number; f: NonNullable<Finding> }[] = [];
  for (const cpu of m.cpu.cpus) {
    const f = hardLockup(m, cpu, now, t.hard) ?? softLockup(m, cpu, now, t.soft) ?? stall(m, cpu, now, t.stall);
    if (f !== null) stuck.push({ cpu: cpu.id, f });
  }
  // The CPU stuck first comes first: usually the cause, the others waiting on it (a lock it holds).
  stuck.sort((a, b) => a.f[1] - b.f[1] || a.cpu - b.cpu);
  for (const { cpu, f } of stuck) m.oracle.recordLockup(f[0], cpu, now, activeMmName(m, cpu), f[2]);
  for (const p of m.engine.processes) {
    if (!spinning(m, p) || now - p.waitSince < t.csd) continue;
    const target = csdTarget(m, p);
    if (target < 0 || now - p.waitSince - excused(m, p.cpu, p.waitSince, now) < t.csd) continue;
    const func = m.smp.funcName(m.memory.peek(m.smp.csdAddr(p.cpu, target) + CSD_FUNC));
    m.oracle.recordLockup('csd', p.cpu, now, activeMmName(m, p.cpu),
      `csd: Detected non-responsive CSD lock on CPU#${p.cpu}, waiting ${now - p.waitSince} cycles (since cycle ${p.waitSince}) for CPU#${target} ${func}; cpu${target}: ${cpuState(m, m.cpu.cpus[target])}`);
  }
  m.oracle.checkLockups(now, t.flush, (cpu) => longestWait(m, cpu));
}

/** A stuck CPU: the check, the cycle it has been stuck since, and the report. */
type Finding = [LockupWatchdog, number, string] | null;

/** What host preemption explains of a wait on `cpu` within [from, now) (VcpuHost.excusedIn; 0 on bare metal). */
function excused(m: TlbMachine, cpu: number, from: number, now: number): number {
  return m.host === null ? 0 : m.host.excusedIn(cpu, from, now);
}

function hardLockup(m: TlbMachine, cpu: Cpu, now: number, threshold: number): Finding {
  if (cpu.irqsOffSince < 0 || now - cpu.irqsOffSince - excused(m, cpu.id, cpu.irqsOffSince, now) < threshold) return null;
  return ['hard', cpu.irqsOffSince, `watchdog: Watchdog detected hard LOCKUP on cpu${cpu.id}: ${cpuState(m, cpu)}`];
}

function softLockup(m: TlbMachine, cpu: Cpu, now: number, threshold: number): Finding {
  // The context the CPU returns to after each interrupt: while one runs, the one it interrupted.
  const p = cpu.inIrq ? cpu.interrupted : cpu.current;
  if (p === null || !spinning(m, p) || now - p.waitSince - excused(m, cpu.id, p.waitSince, now) < threshold || csdTarget(m, p) >= 0) return null;
  return ['soft', p.waitSince, `watchdog: BUG: soft lockup - CPU#${cpu.id} stuck for ${now - p.waitSince} cycles! [${p.name}]: ${m.engine.describeWait(p)} since cycle ${p.waitSince}`];
}

function stall(m: TlbMachine, cpu: Cpu, now: number, threshold: number): Finding {
  const rq = m.sched.rqs[cpu.id];
  if (!rq.curr.isIdle || rq.queue.length === 0) return null;
  let waiter = rq.queue[0];
  for (const task of rq.queue) if (task.queuedAt < waiter.queuedAt) waiter = task;
  if (now - waiter.queuedAt - excused(m, cpu.id, waiter.queuedAt, now) < threshold) return null;
  return ['stall', waiter.queuedAt, `INFO: task '${waiter.name}' runnable on cpu${cpu.id} for ${now - waiter.queuedAt} cycles (since cycle ${waiter.queuedAt}), never switched in: ` +
    `the CPU stays idle, its wake-up lost; ${cpuState(m, cpu)}`];
}

/** A process blocked in a spin-wait, on its CPU (running it, or interrupted in it). */
function spinning(m: TlbMachine, p: Process): boolean {
  if (p.state !== PROC_BLOCKED || p.op !== OP_SPIN) return false;
  const cpu = m.cpu.cpus[p.cpu];
  return cpu !== undefined && (cpu.current === p || cpu.interrupted === p);
}

/** The CPU whose CSD (of this CPU's cfd_data) `p` spins on, or -1. */
function csdTarget(m: TlbMachine, p: Process): number {
  const n = m.cpu.cpus.length;
  for (let t = 0; t < n; t++) if (m.smp.csdAddr(p.cpu, t) + CSD_FLAGS === p.a) return t;
  return -1;
}

/** Interrupts, pending vectors and the running context of a CPU, in words. */
function cpuState(m: TlbMachine, cpu: Cpu): string {
  const irqs = cpu.irqsOffSince >= 0
    ? `interrupts off for ${m.engine.now - cpu.irqsOffSince} cycles (since cycle ${cpu.irqsOffSince})`
    : cpu.irqsOn ? 'interrupts on' : 'interrupts held off by a user access';
  const pending = VECTOR_NAMES.filter((_, v) => (cpu.pending & (1 << v)) !== 0);
  const p = cpu.current;
  const doing = p === null
    ? 'no context'
    : `'${p.name}'${cpu.inIrq ? ' (interrupt context)' : ''} ${p.state === PROC_BLOCKED ? `${m.engine.describeWait(p)} since cycle ${p.waitSince}` : 'executing, not waiting on anything'}`;
  return `${irqs}, ${pending.length > 0 ? `pending ${pending.join(', ')}` : 'nothing pending'}, in ${doing}`;
}

/** The non-daemon process of `cpu` blocked longest, and on what (the watchdog's words), or null. */
function longestWait(m: TlbMachine, cpu: number): { since: number; what: string } | null {
  let best: Process | null = null;
  for (const p of m.engine.processes) {
    if (p.cpu === cpu && !p.daemon && p.state === PROC_BLOCKED && (best === null || p.waitSince < best.waitSince)) best = p;
  }
  if (best === null) return null;
  // Steal-time aware: the wait starts later by what host preemption explains of it.
  return { since: best.waitSince + excused(m, cpu, best.waitSince, m.engine.now), what: `cpu${cpu}: '${best.name}': ${m.engine.describeWait(best)} since cycle ${best.waitSince}` };
}

/** The name of the mm a CPU's CR3 points at. */
function activeMmName(m: TlbMachine, cpu: number): string {
  return m.mms[m.unit.cr3Mm[cpu]]?.name ?? '-';
}
