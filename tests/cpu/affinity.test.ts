import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { RngStreams } from '../../lib/rng';
import { CpuMachine } from '../../cpu/machine';
import { CpuSet } from '../../cpu/cpuset';
import { Scheduler } from '../../cpu/sched';
import type { Task, TaskEnv } from '../../cpu/task';

/** Records, for every task, each CPU it was switched in on. */
function watchPlacement(s: Scheduler, m: CpuMachine): Map<string, Set<number>> {
  const seen = new Map<string, Set<number>>();
  m.engine.hooks.on('trace', () => {
    for (const rq of s.rqs) {
      const t = rq.curr;
      if (t.isIdle) continue;
      if (!seen.has(t.name)) seen.set(t.name, new Set());
      (seen.get(t.name) as Set<number>).add(rq.cpu);
    }
  });
  return seen;
}

describe('CPU affinity (sched_setaffinity)', () => {
  test('pinned tasks run only on their CPUs under wake-ups, sleeps and idle balancing', () => {
    const m = new CpuMachine({ config: resolveMachine('zen3-1s', { ccxPerSocket: 2 }), seed: 3 });
    const s = new Scheduler(m);
    const n = m.topology.nCpus; // 16
    const rng = new RngStreams(3).stream('test.affinity');
    const seen = watchPlacement(s, m);
    const mm = { id: 1, name: 'mm' };
    // Six sleepers pinned to CPUs 2-3, more than two CPUs can run at once, plus hogs pinned to CPU 2.
    const pinned = CpuSet.parse('2-3', n, 'test');
    for (let i = 0; i < 6; i++) {
      s.createTask(`pinned${i}`, mm, 2 + (i % 2), function* ({ k, task, sched }: TaskEnv<Scheduler>): Sim {
        for (let j = 0; j < 20; j++) {
          yield k.compute(rng.range(5_000, 40_000));
          yield* sched.sleepFor(task, rng.range(1_000, 20_000));
        }
      }, pinned);
    }
    for (let i = 0; i < 3; i++) {
      s.createTask(`hog${i}`, mm, 2, function* ({ k }: TaskEnv<Scheduler>): Sim {
        yield k.compute(3_000_000);
      }, CpuSet.of(n, [2]));
    }
    // Free tasks, so other CPUs go idle and try to balance.
    for (let i = 0; i < 4; i++) {
      s.createTask(`free${i}`, mm, i, function* ({ k, task, sched }: TaskEnv<Scheduler>): Sim {
        for (let j = 0; j < 20; j++) {
          yield k.compute(rng.range(5_000, 40_000));
          yield* sched.sleepFor(task, rng.range(1_000, 20_000));
        }
      });
    }
    s.start();
    m.engine.run();
    for (let i = 0; i < 6; i++) expect([...(seen.get(`pinned${i}`) as Set<number>)].every((c) => c === 2 || c === 3)).toBe(true);
    for (let i = 0; i < 3; i++) expect([...(seen.get(`hog${i}`) as Set<number>)]).toEqual([2]);
    // The free tasks were balanced: some ran on a CPU other than the one they started on.
    expect(s.migrations.value).toBeGreaterThan(0);
  });

  test('a task that removes its own CPU from its affinity moves, and stays within the new set', () => {
    const m = new CpuMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 8 }), seed: 1 });
    const s = new Scheduler(m);
    const n = m.topology.nCpus;
    const log: Array<[string, number]> = [];
    let me: Task | null = null;
    me = s.createTask('mover', { id: 1, name: 'mm' }, 0, function* ({ k, task, sched }: TaskEnv<Scheduler>): Sim {
      yield k.compute(10_000);
      log.push(['before', sched.cpuOf(task).id]);
      yield* sched.setAffinity(task, CpuSet.parse('5-6', n, 'test'));
      log.push(['after', sched.cpuOf(task).id]);
      yield k.compute(10_000);
      yield* sched.sleepFor(task, 5_000);
      log.push(['woken', sched.cpuOf(task).id]);
    });
    s.start();
    m.engine.run();
    expect(log[0]).toEqual(['before', 0]);
    expect([5, 6]).toContain(log[1][1]);
    expect([5, 6]).toContain(log[2][1]);
    expect(me.cpusAllowed.toString()).toBe('5-6');
  });

  test('affinity errors name the task', () => {
    const m = new CpuMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 4 }), seed: 1 });
    const s = new Scheduler(m);
    expect(() => s.createTask('t', null, 1, function* (): Sim {}, CpuSet.of(4, [2, 3]))).toThrow('task t: CPU 1 is not in its affinity 2-3');
    expect(() => s.createTask('u', null, 9, function* (): Sim {})).toThrow('task u: CPU 9 is outside 0-3');
    expect(() => CpuSet.parse('0-9', 4, '--wparam cpus')).toThrow("--wparam cpus = '0-9': CPUs must lie in 0-3, in increasing ranges");
  });
});
