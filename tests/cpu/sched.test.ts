import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { RngStreams } from '../../lib/rng';
import { CpuMachine } from '../../cpu/machine';
import { Scheduler } from '../../cpu/sched';
import type { AddressSpace, Task, TaskEnv } from '../../cpu/task';

const ITER = 25;

/**
 * 16 CPUs (2 CCX x 8), 58 tasks: ping-pong pairs across CPUs, sleepers woken by timers, CPU hogs
 * outnumbering the CPUs (so the tick must preempt them), yielders and kernel threads. Checks the
 * scheduler's invariants all along and that every task finished all its work.
 */
function workload(seed: number) {
  const m = new CpuMachine({ config: resolveMachine('zen3-1s', { ccxPerSocket: 2 }), seed });
  const s = new Scheduler(m);
  const rng = new RngStreams(seed).stream('test.sched');
  const mms: AddressSpace[] = [1, 2, 3, 4].map((id) => ({ id, name: `mm${id}` }));
  const progress = new Map<Task, number>();
  const done = (t: Task) => progress.set(t, (progress.get(t) ?? 0) + 1);
  const n = m.topology.nCpus;

  // Ping-pong pairs: a turn word each; the partner sits on another CPU (often another CCX).
  for (let i = 0; i < 8; i++) {
    const turn = m.memory.allocLines(`turn${i}`);
    const tasks: Task[] = [];
    const body = (me: number) =>
      function* ({ k, task, sched }: TaskEnv<Scheduler>): Sim {
        for (let j = 0; j < ITER; j++) {
          yield* sched.waitUntil(task, turn, me);
          yield k.compute(rng.range(1_000, 20_000));
          done(task);
          yield k.store(turn, 1 - me);
          yield* sched.wakeUp(task, tasks[1 - me]);
        }
      };
    tasks.push(s.createTask(`ping${i}`, mms[i % 4], rng.int(n), body(0)));
    tasks.push(s.createTask(`pong${i}`, mms[(i + 1) % 4], rng.int(n), body(1)));
  }
  // Sleepers, woken by hrtimers.
  for (let i = 0; i < 8; i++) {
    s.createTask(`sleeper${i}`, mms[i % 4], rng.int(n), function* ({ k, task, sched }) {
      for (let j = 0; j < ITER; j++) {
        yield k.compute(rng.range(500, 5_000));
        yield* sched.sleepFor(task, rng.range(10_000, 400_000));
        done(task);
      }
    });
  }
  // More hogs than CPUs: some must share one, and only the tick's slice preemption lets them take turns.
  for (let i = 0; i < 24; i++) {
    s.createTask(`hog${i}`, mms[0], i % n, function* ({ k, task }) {
      for (let j = 0; j < 4; j++) {
        yield k.compute(2_000_000);
        done(task);
      }
    });
  }
  // Yielders and kernel threads.
  for (let i = 0; i < 10; i++) {
    s.createTask(i < 5 ? `yielder${i}` : `kworker${i}`, i < 5 ? mms[2] : null, rng.int(n), function* ({ k, task, sched }) {
      for (let j = 0; j < ITER; j++) {
        yield k.compute(rng.range(1_000, 50_000));
        yield* sched.yieldCpu(task);
        if (j % 5 === 0) yield* sched.sleepFor(task, rng.range(1_000, 100_000));
        done(task);
      }
    });
  }

  // Invariant: at every sample, every CPU runs exactly one task, and no task runs on two CPUs.
  let samples = 0;
  m.engine.hooks.on('sample', () => {
    samples++;
    const running = new Array<number>(n).fill(0);
    for (const t of s.tasks) if (t.runningOn !== -1) running[t.runningOn]++;
    running.forEach((count, cpu) => {
      if (count !== 1) throw new Error(`cpu${cpu} runs ${count} tasks at cycle ${m.engine.now}`);
    });
  });
  s.start();
  const summary = m.engine.run({ maxCycles: 2e9, sampleEvery: 5_000 });
  return { m, s, progress, samples, summary };
}

describe('scheduler', () => {
  test.each([1, 2, 3])('seed %i: many tasks, every one finishes all its work, invariants hold', (seed) => {
    const { m, s, progress, samples, summary } = workload(seed);
    expect(summary.stoppedBy).toBe('idle');
    expect(samples).toBeGreaterThan(100);
    for (const t of s.tasks) {
      if (t.isIdle) continue;
      expect([t.name, t.process?.state]).toEqual([t.name, 2]); // PROC_DONE: no task lost
      expect([t.name, progress.get(t)]).toEqual([t.name, t.name.startsWith('hog') ? 4 : ITER]);
    }
    const sched = (m.stats.dump() as any).sched;
    const cs = sched.contextSwitches;
    expect(cs.count).toBeGreaterThan(500);
    expect(cs.sameMm + cs.differentMm).toBeGreaterThan(0);
    expect(cs.toKernelThread).toBeGreaterThan(0);
    expect(cs.fromIdle).toBeGreaterThan(0);
    expect(sched.preemptions).toBeGreaterThan(0); // the hogs shared a CPU
    expect(sched.migrations).toBeGreaterThan(0); // idle CPUs pulled waiting hogs
    expect(sched.wakeups).toBeGreaterThanOrEqual(8 * 2 * ITER - 16 + 8 * ITER);
    expect(sched.wakeupIpis).toBeGreaterThan(0);
    expect(sched.switchCycles.count).toBe(cs.count);
    expect(sched.rqLockWaitCycles.count).toBeGreaterThan(cs.count);
  });

  test('the same seed gives identical stats; another seed differs', () => {
    const a = JSON.stringify(workload(7).m.stats.dump());
    const b = JSON.stringify(workload(7).m.stats.dump());
    const c = JSON.stringify(workload(8).m.stats.dump());
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  test('a task that waits for a wake-up nobody sends is reported by the watchdog', () => {
    const m = new CpuMachine({ config: resolveMachine('zen3-1s', { ccxPerSocket: 1 }), seed: 1 });
    const s = new Scheduler(m);
    const never = m.memory.allocLines('never');
    s.createTask('waiter', { id: 1, name: 'mm1' }, 3, function* ({ task, sched }) {
      yield* sched.waitUntil(task, never, 1);
    });
    s.start();
    expect(() => m.engine.run()).toThrow(/deadlock[\s\S]*'waiter': switched out/);
  });
});
