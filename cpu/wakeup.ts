import type { Sim } from '../lib/engine/ops';
import type { Cpu } from './cpu';
import type { Runqueue } from './runqueue';
import type { SchedCore } from './sched-core';
import { TASK_BLOCKED, TASK_RUNNING, TIF_NEED_RESCHED, type Task } from './task';
import { VEC_RESCHEDULE } from './vectors';

/**
 * try_to_wake_up() (kernel/sched/core.c), simplified to what costs: read the task's state, and
 * if it sleeps, pick a CPU, take that CPU's rq lock, enqueue it, and if the CPU is idle set
 * need_resched on its current task and send it a reschedule IPI. A task still on its CPU on the
 * way into schedule() is just marked running again (ttwu_runnable).
 */
export function* tryToWakeUp(s: SchedCore, cpu: Cpu, p: Task): Sim<boolean> {
  const k = s.k;
  if ((yield k.load(p.stateAddr)) !== TASK_BLOCKED) return false;
  const irqsWereOn = cpu.irqsOn;
  if (irqsWereOn) yield k.irqDisable();
  let woken = false;
  if (p.onRq) {
    const rq = s.rqs[p.cpu];
    yield* rq.lock.lock(k, cpu.id);
    if (p.onRq && p.state === TASK_BLOCKED) {
      p.state = TASK_RUNNING;
      yield k.store(p.stateAddr, TASK_RUNNING);
      woken = true;
    }
    yield* rq.lock.unlock(k, cpu.id);
  }
  if (!woken && !p.onRq) {
    // The task may still be switching out on its old CPU: wait until it is off it (p->on_cpu).
    yield k.spinUntilEq(p.onCpuAddr, 0);
    const target = yield* selectTaskRq(s, p);
    const rq = s.rqs[target];
    yield* rq.lock.lock(k, cpu.id);
    if (p.state === TASK_BLOCKED && !p.onRq) {
      if (p.cpu !== target) {
        s.migrations.value++;
        p.cpu = target;
      }
      p.state = TASK_RUNNING;
      yield k.store(p.stateAddr, TASK_RUNNING);
      p.onRq = true;
      yield k.store(p.onRqAddr, 1);
      p.queuedAt = s.m.engine.now;
      rq.queue.push(p);
      yield* s.setNrRunning(rq, rq.nrRunning + 1);
      woken = true;
      // check_preempt_curr(): wake-ups preempt only the idle task here.
      if (rq.curr.isIdle) {
        yield k.lockBts(rq.curr.flagsAddr, TIF_NEED_RESCHED);
        if (target !== cpu.id) {
          yield k.sendIpi(target, VEC_RESCHEDULE);
          s.wakeupIpis.value++;
        }
      }
    }
    yield* rq.lock.unlock(k, cpu.id);
  }
  if (irqsWereOn) yield k.irqEnable();
  if (woken) s.wakeups.value++;
  return woken;
}

/**
 * select_task_rq_fair() reduced to select_idle_sibling(): the task's previous CPU if it is
 * allowed and idle, else an idle allowed CPU sharing its LLC (reading each candidate's
 * rq->nr_running, a remote load), else the previous CPU. When the previous CPU is not allowed
 * (its affinity changed), select_fallback_rq() picks the nearest allowed CPU first.
 */
function* selectTaskRq(s: SchedCore, p: Task): Sim<number> {
  const allowed = p.cpusAllowed;
  const prev = allowed.has(p.cpu) ? p.cpu : fallbackCpu(s, p);
  if ((yield s.k.load(s.rqs[prev].nrRunningAddr)) === 0) return prev;
  // The LLC's CPUs in the order prev+1, prev+2, ... (wrapping): those above prev, then those below.
  const llc = s.llcCpus[s.m.topology.ccxOf(prev)];
  let start = 0;
  while (start < llc.length && llc[start] <= prev) start++;
  for (let j = 0; j < llc.length; j++) {
    const c = llc[(start + j) % llc.length];
    if (c === prev || !allowed.has(c)) continue;
    if ((yield s.k.load(s.rqs[c].nrRunningAddr)) === 0) return c;
  }
  return prev;
}

/** select_fallback_rq(): the allowed CPU nearest to the task's previous one (lowest id on ties). */
function fallbackCpu(s: SchedCore, p: Task): number {
  const topo = s.m.topology;
  let best = -1;
  let bestDist = Infinity;
  for (let c = 0; c < topo.nCpus; c++) {
    if (!p.cpusAllowed.has(c)) continue;
    const d = topo.distance(p.cpu, c);
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

/**
 * newidle_balance(), simplified: a CPU about to go idle drops its rq lock and, if the root
 * domain says some runqueue is overloaded (`rd->overload`, one shared word), looks for the
 * busiest runqueue with a task waiting, in its LLC first and beyond it at most once per tick (as
 * the kernel rate-limits wider balancing). It pulls one task from it, taking both rq locks in CPU
 * order as double_rq_lock() does, and returns with its own rq lock held again.
 */
export function* idleBalance(s: SchedCore, cpu: Cpu, rq: Runqueue): Sim<Task | null> {
  const k = s.k;
  if ((yield k.load(s.overloadAddr)) === 0) return null;
  yield* rq.lock.unlock(k, cpu.id);
  let busiest = yield* findBusiest(s, cpu.id, true);
  if (busiest === -1 && s.m.engine.now >= rq.nextWideBalance) {
    rq.nextWideBalance = s.m.engine.now + s.tickCycles;
    busiest = yield* findBusiest(s, cpu.id, false);
  }
  if (busiest === -1) {
    yield* rq.lock.lock(k, cpu.id);
    return rq.queue.shift() ?? null; // someone may have queued a task on us meanwhile
  }
  const src = s.rqs[busiest];
  const [first, second] = busiest < cpu.id ? [src, rq] : [rq, src];
  yield* first.lock.lock(k, cpu.id);
  yield* second.lock.lock(k, cpu.id);
  let pulled: Task | null = null;
  if (rq.queue.length > 0) {
    pulled = rq.queue.shift() as Task;
  } else if ((pulled = yield* detachable(s, src, cpu.id)) !== null) {
    src.queue.splice(src.queue.indexOf(pulled), 1);
    yield* s.setNrRunning(src, src.nrRunning - 1);
    pulled.cpu = cpu.id;
    s.migrations.value++;
    yield* s.setNrRunning(rq, rq.nrRunning + 1);
  }
  yield* src.lock.unlock(k, cpu.id);
  return pulled;
}

/**
 * can_migrate_task(): the newest queued task that may run on `dst` (its affinity) and is not
 * still on its CPU (`p->on_cpu`: a task just preempted stays on its CPU until that CPU's switch
 * completes).
 */
function* detachable(s: SchedCore, src: Runqueue, dst: number): Sim<Task | null> {
  for (let i = src.queue.length - 1; i >= 0; i--) {
    const t = src.queue[i];
    if (!t.cpusAllowed.has(dst)) continue;
    if ((yield s.k.load(t.onCpuAddr)) === 0) return t;
  }
  return null;
}

/** The CPU whose rq->nr_running (a remote read each) is highest and above 1, in or outside the LLC. */
function* findBusiest(s: SchedCore, self: number, inLlc: boolean): Sim<number> {
  const topo = s.m.topology;
  const llc = topo.ccxOf(self);
  let busiest = -1;
  let most = 1;
  for (let c = 0; c < topo.nCpus; c++) {
    if (c === self || (topo.ccxOf(c) === llc) !== inLlc) continue;
    const nr = yield s.k.load(s.rqs[c].nrRunningAddr);
    if (nr > most) {
      most = nr;
      busiest = c;
    }
  }
  return busiest;
}
