import { resolveMachine } from '../../lib/machine/resolve';
import type { Sim } from '../../lib/engine/ops';
import { checkLiveness, type LockupThresholds } from '../../tlb/check/liveness';
import { TlbMachine } from '../../tlb/machine';
import { Linux420 } from '../../tlb/strategies/linux-4.20';

const RUN = 2_000_000;
const T = 500_000;
const ALL = (t: number): LockupThresholds => ({ hard: t, soft: t, stall: t, csd: t, flush: t });

/**
 * Four CPUs running Linux 4.20, each stuck its own way:
 * - cpu1: a thread of mm a turns interrupts off and loops (a hard lockup);
 * - cpu0: a thread of a unmaps a page: its flush IPIs cpu1 and waits in csd_lock_wait for ever;
 * - cpu2: a kernel thread queues a task on idle cpu3's runqueue at cycle 100,000, as a wake-up that
 *   forgets the reschedule IPI and need_resched would (Scheduler.createTask, once the machine
 *   runs), then another spins, interrupts on, on a word nobody writes (a soft lockup).
 * With `healthy`, none of it: every task finishes its work.
 */
function scenario(healthy: boolean): TlbMachine {
  const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 4 }), seed: 1, strategy: new Linux420() });
  const a = m.createMm('a', 64);
  const never = m.memory.allocLines('never_written');
  const s = m.sched;
  s.createTask('a1', a, 1, function* ({ task, sched, k }): Sim {
    yield* sched.touch(task, 0, true);
    yield k.irqDisable();
    if (healthy) yield k.compute(1000);
    else for (;;) yield k.delay(100);
    yield k.irqEnable();
  });
  s.createTask('a0', a, 0, function* ({ task, sched, k }): Sim {
    yield* sched.touch(task, 0, true);
    yield k.compute(50_000);
    yield* m.mapping.munmap(k, sched.cpuOf(task), a, 0, 1);
  });
  s.createTask('waker', null, 2, function* ({ k }): Sim {
    yield k.compute(100_000);
    if (!healthy) s.createTask('lost', null, 3, function* (): Sim {});
  });
  s.createTask('spinner', null, 2, function* ({ k }): Sim {
    if (!healthy) yield k.spinUntilEq(never, 1);
  });
  s.start();
  m.engine.run({ until: RUN, maxEvents: 1e8 });
  return m;
}

describe('the liveness checks (tlb/check/liveness.ts)', () => {
  const m = scenario(false);
  checkLiveness(m, ALL(T));
  const found = (w: string) => m.oracle.violations.filter((v) => v.watchdog === w);

  test('interrupts off past the threshold: a hard lockup on that CPU, in the watchdog\'s words', () => {
    expect(found('hard').map((v) => v.cpu)).toEqual([1]);
    expect(found('hard')[0].detail).toMatch(/^watchdog: Watchdog detected hard LOCKUP on cpu1: interrupts off for \d+ cycles \(since cycle \d+\), pending callFunction.*, in 'a1' executing, not waiting on anything$/);
  });

  test('a spin with interrupts on past the threshold: a soft lockup naming what it spins on', () => {
    expect(found('soft').map((v) => v.cpu)).toEqual([2]);
    expect(found('soft')[0].detail).toMatch(/^watchdog: BUG: soft lockup - CPU#2 stuck for \d+ cycles! \[spinner\]: spinning on \[never_written\] until == 1 \(now 0\) since cycle \d+$/);
  });

  test('a runnable task on a CPU that stays idle: a stall', () => {
    expect(found('stall').map((v) => v.cpu)).toEqual([3]);
    expect(found('stall')[0].detail).toMatch(/^INFO: task 'lost' runnable on cpu3 for \d+ cycles \(since cycle 10\d{4}\), never switched in: the CPU stays idle, its wake-up lost; interrupts on, nothing pending, in 'swapper\/3' halted/);
  });

  test('a CSD not released: reported at the waiter, naming the target and what it does; the flush too', () => {
    expect(found('csd').map((v) => v.cpu)).toEqual([0]);
    expect(found('csd')[0].detail).toMatch(/^csd: Detected non-responsive CSD lock on CPU#0, waiting \d+ cycles \(since cycle \d+\) for CPU#1 flush_tlb_func\w*; cpu1: interrupts off/);
    expect(found('flush').map((v) => v.cpu)).toEqual([0]);
    expect(found('flush')[0].flush?.initiator).toBe(0);
  });

  test('every finding is a lockup at the end of the run, counted, and the CPU stuck first comes first', () => {
    expect(m.oracle.violations.every((v) => v.kind === 'lockup' && v.cycle === RUN)).toBe(true);
    expect(m.oracle.count('lockup')).toBe(5);
    // cpu1 turned interrupts off first; the lost task was queued just before the spinner began.
    expect(m.oracle.violations.slice(0, 3).map((v) => v.watchdog)).toEqual(['hard', 'stall', 'soft']);
  });

  test('a threshold longer than the wait: nothing; a healthy run: nothing', () => {
    const again = scenario(false);
    checkLiveness(again, ALL(RUN));
    expect(again.oracle.count('lockup')).toBe(0);
    const ok = scenario(true);
    checkLiveness(ok, ALL(1000));
    expect(ok.oracle.violations).toEqual([]);
  });
});
