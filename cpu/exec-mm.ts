import type { Sim } from '../lib/engine/ops';
import type { Scheduler } from './sched';
import type { AddressSpace, Task } from './task';

/**
 * The two places outside context_switch() where a running task's mm changes, as fs/exec.c and
 * kernel/exit.c do them: both run the strategy's hooks with interrupts off.
 */

/**
 * exec_mmap()'s activate_mm(): the running task takes `mm` as its own and its CPU switches to it
 * through switch_mm_irqs_off. (The caller mmput()s the task's own old mm, if it had one.)
 */
export function* activateMm(s: Scheduler, task: Task, mm: AddressSpace): Sim {
  const k = s.k;
  const cpu = s.cpuOf(task);
  const old = task.activeMm;
  const hadMm = task.mm !== null;
  yield k.irqDisable();
  task.mm = mm;
  task.activeMm = mm;
  yield* s.mmHook(cpu, s.mmSwitch.switchMmIrqsOff(k, cpu, old, mm, task), mm);
  yield k.irqEnable();
  // exec_mmap(): a task without an mm of its own only borrowed `old`: mmdrop_lazy_tlb(active_mm).
  if (!hadMm && old !== null && s.lazyRef !== null) yield* s.lazyRef.drop(k, cpu, old);
}

/**
 * exit_mm(): `current->mm = NULL`, then enter_lazy_tlb(mm, current), with interrupts off. The
 * task keeps the mm as its active mm, lazily, until its last switch. Returns the mm (the caller
 * mmput()s it), or null for a task without one.
 */
export function* exitMm(s: Scheduler, task: Task): Sim<AddressSpace | null> {
  const mm = task.mm;
  if (mm === null) return null;
  const k = s.k;
  const cpu = s.cpuOf(task);
  // mmgrab_lazy_tlb(mm) before current->mm = NULL: the task now holds mm as a lazy user (kernel/exit.c).
  if (s.lazyRef !== null) yield* s.lazyRef.grab(k, cpu, mm);
  yield k.irqDisable();
  task.mm = null;
  yield* s.mmHook(cpu, s.mmSwitch.enterLazyTlb(k, cpu, mm, task), mm);
  yield k.irqEnable();
  return mm;
}
