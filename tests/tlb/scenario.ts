import { resolveMachine } from '../../lib/machine/resolve';
import type { Sim } from '../../lib/engine/ops';
import type { Task } from '../../cpu/task';
import type { Scheduler } from '../../cpu/sched';
import { TlbMachine } from '../../tlb/machine';
import type { Strategy, StrategyOptions } from '../../tlb/strategies/strategy';
import type { TlbTaskEnv } from '../../tlb/task-env';

/**
 * A scripted scenario for checking which CPUs a strategy IPIs. On an 8-CPU machine (one socket,
 * one LLC) with mm `a` (64 pages):
 * - cpu0: the initiator, a thread of `a`; at cycle FLUSH_AT it unmaps pages 0..7, or, with
 *   `freedTables`, unmaps a whole PTE page (pages 0..511 of a 1024-page mm) so tables are freed;
 * - cpu1: a thread of `a` in a long user compute burst (running `a`, not lazy);
 * - cpu2: a thread of `a` ran, then a kernel thread runs (lazy on `a`);
 * - cpu3: a thread of `a` ran and went to sleep: the CPU is idle (lazy on `a`);
 * - cpu4: a thread of another mm `b` only (never touched `a`);
 * - cpu5: a thread of `a` ran, then a thread of `b` (switched away from `a`);
 * - cpu6, cpu7: idle from the start.
 * Returns the CPUs that got a flush IPI, each CPU's CR3 right after the flush, the violations,
 * and the machine.
 */
export const FLUSH_AT = 400_000;
export const ROLES = { initiator: 0, running: 1, lazyKthread: 2, lazyIdle: 3, otherMm: 4, switchedAway: 5 } as const;

export function flushScenario(strategy: Strategy, opts: { freedTables?: boolean; profile?: string; options?: Partial<StrategyOptions> } = {}) {
  const m = new TlbMachine({
    config: resolveMachine(opts.profile ?? 'skylake-sp-2s', { sockets: 1, coresPerCcx: 8 }),
    seed: 1,
    strategy,
    strategyOptions: opts.options,
  });
  const pages = opts.freedTables ? 1024 : 64;
  const a = m.createMm('a', pages);
  const b = m.createMm('b', 64);
  const s = m.sched;
  const targets = new Set<number>();
  let cr3After: number[] = [];
  let flushing = false;
  m.cpu.apic.ipiSent.attach((from, to) => {
    if (flushing && from === 0) targets.add(to);
  });
  const touchAll = function* (task: Task, sched: Scheduler): Sim {
    for (let p = 0; p < 8; p++) yield* sched.touch(task, p, true);
  };
  type Body = (env: TlbTaskEnv) => Sim;
  const user = (name: string, mm: typeof a, cpu: number, body: Body) => s.createTask(name, mm, cpu, body);
  user('a0', a, 0, function* ({ task, sched, k }) {
    yield* touchAll(task, sched);
    yield k.compute(FLUSH_AT);
    flushing = true;
    const end = opts.freedTables ? 512 : 8;
    yield* m.mapping.munmap(k, sched.cpuOf(task), a, 0, end);
    flushing = false;
    cr3After = Array.from(m.unit.cr3Mm);
    yield* touchAll(task, sched);
  });
  user('a1', a, 1, function* ({ task, sched, k }) {
    yield* touchAll(task, sched);
    yield k.compute(2 * FLUSH_AT);
    yield* touchAll(task, sched);
  });
  user('a2', a, 2, function* ({ task, sched }) {
    yield* touchAll(task, sched);
    yield* sched.sleepFor(task, 3 * FLUSH_AT);
    yield* touchAll(task, sched);
  });
  s.createTask('kworker/2', null, 2, function* ({ k }) {
    yield k.compute(2 * FLUSH_AT);
  });
  user('a3', a, 3, function* ({ task, sched }) {
    yield* touchAll(task, sched);
    yield* sched.sleepFor(task, 2 * FLUSH_AT);
    yield* touchAll(task, sched);
  });
  user('b4', b, 4, function* ({ task, sched, k }) {
    yield* touchAll(task, sched);
    yield k.compute(2 * FLUSH_AT);
  });
  user('a5', a, 5, function* ({ task, sched }) {
    yield* touchAll(task, sched);
    yield* sched.sleepFor(task, 3 * FLUSH_AT);
  });
  s.createTask('b5', b, 5, function* ({ task, sched, k }) {
    yield* touchAll(task, sched);
    yield k.compute(2 * FLUSH_AT);
  });
  s.start();
  m.engine.run({ maxCycles: 1e9 });
  // cr3After: each CPU's CR3 (mm id; 0 = init_mm, a = 1, b = 2) right after the flush returned.
  return { m, targets: [...targets].sort((x, y) => x - y), violations: m.oracle.violations, cr3After };
}
