import type { Sim } from '../../lib/engine/ops';
import type { Rng } from '../../lib/rng';
import type { Scheduler } from '../../cpu/sched';
import type { Task, TaskEnv } from '../../cpu/task';
import type { TlbMachine } from '../../tlb/machine';
import type { TlbOps } from '../../tlb/tlb-ops';
import type { Workload } from './workload';

const PAGES = 256;

/**
 * The default mix. One multi-threaded process ("app", 256 pages) runs a worker thread on every
 * other CPU; each worker touches random pages and now and then drops a random range with
 * madvise(MADV_DONTNEED), which flushes. On the remaining CPUs a thread of the same process
 * alternates with a kernel thread and with sleep, so those CPUs keep going lazy on the app's mm
 * and coming back: the situation every lazy-TLB strategy is about. A kcompactd-like kernel thread
 * migrates an app page now and then, so some flushes come from a CPU with no mm of its own.
 */
export const madviseMix: Workload = {
  name: 'madvise-mix',
  description: 'app workers touch pages and madvise(DONTNEED) ranges; other CPUs alternate app thread / kernel thread / idle',
  setup(m: TlbMachine, rng: Rng): void {
    const app = m.createMm('app', PAGES);
    const s = m.sched;
    const n = m.topology.nCpus;
    for (let c = 0; c < n; c++) {
      if (c % 2 === 0) {
        s.createTask(`worker${c}`, app, c, function* ({ k, task, sched }: TaskEnv<Scheduler>): Sim {
          for (;;) {
            for (let i = 0; i < 16; i++) yield* sched.touch(task, rng.int(PAGES), rng.chance(0.5));
            yield k.compute(rng.range(2_000, 20_000));
            if (rng.chance(0.3)) {
              const start = rng.int(PAGES - 8);
              const len = rng.chance(0.8) ? rng.range(1, 4) : rng.range(34, 64); // small ranges, sometimes above the ceiling
              yield* m.mapping.madviseDontneed(k as TlbOps, sched.cpuOf(task), app, start, Math.min(PAGES, start + len));
            }
          }
        });
      } else {
        s.createTask(`reader${c}`, app, c, lazyAlternator(rng, PAGES));
        s.createTask(`kworker/${c}`, null, c, kernelThread(rng));
      }
    }
    s.createTask('kcompactd0', null, (n - 1) % n, function* ({ k, task, sched }: TaskEnv<Scheduler>): Sim {
      for (;;) {
        yield* sched.sleepFor(task, rng.range(40_000, 160_000));
        yield* m.mapping.migratePage(k as TlbOps, sched.cpuOf(task), app, rng.int(PAGES));
      }
    });
  },
};

/** A thread of the app that works in bursts and sleeps, so its CPU alternates with idle and kernel threads. */
export function lazyAlternator(rng: Rng, pages: number) {
  return function* ({ k, task, sched }: TaskEnv<Scheduler>): Sim {
    for (;;) {
      for (let i = 0; i < 8; i++) yield* sched.touch(task, rng.int(pages), false);
      yield k.compute(rng.range(1_000, 10_000));
      yield* sched.sleepFor(task, rng.range(5_000, 60_000));
    }
  };
}

/** A kernel thread (mm = NULL): short bursts, then sleep. */
export function kernelThread(rng: Rng) {
  return function* ({ k, task, sched }: TaskEnv<Scheduler>): Sim {
    for (;;) {
      yield k.compute(rng.range(2_000, 15_000));
      yield* sched.sleepFor(task as Task, rng.range(10_000, 80_000));
    }
  };
}
