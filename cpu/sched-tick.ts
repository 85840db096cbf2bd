import type { Sim } from '../lib/engine/ops';
import type { Cpu } from './cpu';
import type { SchedCore } from './sched-core';
import { TIF_NEED_RESCHED, type Task } from './task';
import { tryToWakeUp } from './wakeup';

/**
 * The scheduler's interrupt-side and idle paths (kernel/sched/core.c, kernel/sched/idle.c): the
 * LOCAL_TIMER handler with the tick, preemption at interrupt exit, and the idle loop.
 */

/** The timer payload of the scheduler tick (other payloads are task pids: hrtimer wake-ups). */
export const TICK_TIMER = -1;

/** irq_exit → preempt_schedule_irq(): preempt the interrupted task if it needs rescheduling. */
export function* irqExit(s: SchedCore, cpu: Cpu): Sim<boolean> {
  const curr = s.rqs[cpu.id].curr;
  if (curr.isIdle || cpu.preemptCount !== 0 || cpu.interrupted !== curr.process) return false;
  if ((((yield s.k.load(curr.flagsAddr)) >>> TIF_NEED_RESCHED) & 1) === 0) return false;
  s.preemptions.value++;
  return yield* s.schedule(cpu, true);
}

/** The LOCAL_TIMER handler: the scheduler tick and expired sleep timers. */
export function* timerInterrupt(s: SchedCore, cpu: Cpu): Sim {
  for (const payload of s.timers.expired(cpu.id)) {
    if (payload === TICK_TIMER) yield* tick(s, cpu);
    else yield* tryToWakeUp(s, cpu, s.tasks[payload]);
  }
}

/** scheduler_tick(): a task that used its slice while others wait gets need_resched. */
function* tick(s: SchedCore, cpu: Cpu): Sim {
  const rq = s.rqs[cpu.id];
  yield* rq.lock.lock(s.k, cpu.id);
  const curr = rq.curr;
  if (!curr.isIdle && rq.queue.length > 0 && s.m.engine.now - curr.sliceStart >= s.sliceCycles) {
    yield s.k.lockBts(curr.flagsAddr, TIF_NEED_RESCHED);
  }
  rq.tickArmed = !curr.isIdle; // NO_HZ_IDLE: an idle CPU stops its tick
  if (rq.tickArmed) s.timers.arm(cpu.id, s.m.engine.now + s.tickCycles, TICK_TIMER);
  yield* rq.lock.unlock(s.k, cpu.id);
  if (s.tickPoll.attached !== 0) yield* s.tickPoll.run(cpu); // after trigger_load_balance(), as LATR's hook
}

/** do_idle(): halt (or poll, when the mm code polls: cpu_idle_poll) until need_resched, then schedule. */
export function* idleLoop(s: SchedCore, cpu: Cpu, idle: Task): Sim {
  const k = s.k;
  for (;;) {
    yield k.irqDisable();
    if ((((yield k.load(idle.flagsAddr)) >>> TIF_NEED_RESCHED) & 1) === 0) {
      if (s.mmSwitch.idleEnter !== undefined) yield* s.mmSwitch.idleEnter(k, cpu);
      if (s.mmSwitch.idlePoll !== undefined) yield* s.mmSwitch.idlePoll(k, cpu, idle.flagsAddr);
      else yield k.halt();
    } else {
      yield k.irqEnable();
    }
    if ((((yield k.load(idle.flagsAddr)) >>> TIF_NEED_RESCHED) & 1) !== 0) yield* s.schedule(cpu, false);
  }
}
