import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { CpuMachine } from '../../cpu/machine';
import { Scheduler } from '../../cpu/sched';
import type { TaskEnv } from '../../cpu/task';

describe('timers beyond the engine horizon', () => {
  test('a sleep longer than the timer can be programmed for fires early, is reprogrammed, and wakes on time', () => {
    const m = new CpuMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }), seed: 1 });
    const s = new Scheduler(m);
    const long = 3 * 2 ** 36 + 12_345;
    let woke = -1;
    s.createTask('sleeper', null, 0, function* ({ task, sched }: TaskEnv<Scheduler>): Sim {
      yield* sched.sleepFor(task, long);
      woke = m.engine.now;
    });
    s.start();
    m.engine.run();
    expect(woke).toBeGreaterThanOrEqual(long);
    expect(woke - long).toBeLessThan(50_000); // the wake-up's own interrupt and switch costs
    expect((m.stats.dump() as { cpu0: { irqs: { localTimer: number } } }).cpu0.irqs.localTimer).toBeGreaterThanOrEqual(4);
  });
});
