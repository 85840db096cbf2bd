import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { RngStreams } from '../../lib/rng';
import { CpuMachine } from '../../cpu/machine';
import { Pipe } from '../../cpu/pipe';
import { Scheduler } from '../../cpu/sched';
import { spinlockStats } from '../../cpu/spinlock';
import type { TaskEnv } from '../../cpu/task';

const COSTS = { vfs: 500, copyPerByte: 0.25 };

describe('pipes and wait queues', () => {
  test('many writers and one reader per pipe: every byte arrives, nobody sleeps for ever', () => {
    const m = new CpuMachine({ config: resolveMachine('zen3-1s', { ccxPerSocket: 2 }), seed: 5 });
    const s = new Scheduler(m);
    const rng = new RngStreams(5).stream('test.pipe');
    const stats = spinlockStats(m.stats.group('pipes'), 'pipe locks');
    const n = m.topology.nCpus;
    const MSG = 2000; // two to a page: with 2 buffers the pipe holds 4 messages, so writers must wait
    const MSGS = 60;
    const pipes = [0, 1, 2].map((i) => new Pipe(`pipe${i}`, m.memory, m.engine, stats, 2));
    const received = [0, 0, 0];
    const mm = { id: 1, name: 'hackbench' };
    pipes.forEach((pipe, i) => {
      s.createTask(`reader${i}`, mm, rng.int(n), function* ({ task, sched }: TaskEnv<Scheduler>): Sim {
        for (let j = 0; j < 4 * MSGS; j++) {
          yield* pipe.read(sched, task, MSG, COSTS);
          received[i]++;
        }
      });
      for (let w = 0; w < 4; w++) {
        s.createTask(`writer${i}.${w}`, mm, rng.int(n), function* ({ k, task, sched }: TaskEnv<Scheduler>): Sim {
          for (let j = 0; j < MSGS; j++) {
            yield* pipe.write(sched, task, MSG, COSTS);
            yield k.compute(rng.range(100, 3_000));
          }
        });
      }
    });
    s.start();
    m.engine.run(); // a lost wake-up leaves a task asleep: the watchdog would throw
    expect(received).toEqual([4 * MSGS, 4 * MSGS, 4 * MSGS]);
    for (const p of pipes) expect(m.memory.peek(p.headAddr)).toBe(m.memory.peek(p.tailAddr)); // drained
    // Both sides slept: readers on empty pipes, writers on full ones.
    expect(s.wakeups.value).toBeGreaterThan(100);
    const d = m.stats.dump() as { pipes: { contended: number } };
    expect(d.pipes.contended).toBeGreaterThan(0);
  });

  test('a write larger than a page is refused', () => {
    const m = new CpuMachine({ config: resolveMachine('zen3-1s', { ccxPerSocket: 1, coresPerCcx: 2 }), seed: 1 });
    const s = new Scheduler(m);
    const pipe = new Pipe('p', m.memory, m.engine, spinlockStats(m.stats.group('p'), 'p'));
    let error = '';
    s.createTask('w', null, 0, function* ({ task, sched }: TaskEnv<Scheduler>): Sim {
      try {
        yield* pipe.write(sched, task, 4097, COSTS);
      } catch (e) {
        error = (e as Error).message;
      }
    });
    s.start();
    m.engine.run();
    expect(error).toBe('p: a write of 4097 bytes: expected 1..4096');
  });
});
