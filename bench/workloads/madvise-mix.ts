import type { Sim } from '../../lib/engine/ops';
import { kernelThread, lazyAlternator } from './common';
import { wparam } from './params';
import { defineWorkload } from './workload';
import type { TlbTaskEnv } from '../../tlb/task-env';

/**
 * The original synthetic mix. One multi-threaded process ("app") runs a worker thread on every
 * other CPU; each worker touches random pages and now and then drops a random range with
 * madvise(MADV_DONTNEED), which flushes. On the remaining CPUs a thread of the same process
 * alternates with a kernel thread and with sleep, so those CPUs keep going lazy on the app's mm
 * and coming back: the situation every lazy-TLB strategy is about. A kcompactd-like kernel thread
 * migrates an app page now and then, so some flushes come from a CPU with no mm of its own.
 */
export const madviseMix = defineWorkload({
  name: 'madvise-mix',
  description: 'app workers touch pages and madvise(DONTNEED) ranges; other CPUs alternate app thread / kernel thread / idle',
  sources: ['synthetic: no published workload has this shape; it concentrates the lazy-TLB situations (lazy CPUs of a flushed mm)'],
  params: {
    pages: wparam.pages(256, 16, 4096, "The app's mapped pages."),
    madviseChance: wparam.fraction(0.3, 'Chance that a worker drops a range after each burst of 16 touches.'),
    bigRangeChance: wparam.fraction(0.2, 'Chance that a dropped range is 34..64 pages (above the default flush ceiling) rather than 1..4.'),
  },
  stats: {},
  setup({ m, params, rng }): void {
    const PAGES = params.pages;
    const app = m.createMm('app', PAGES);
    const s = m.sched;
    const n = m.topology.nCpus;
    for (let c = 0; c < n; c++) {
      if (c % 2 === 0) {
        s.createTask(`worker${c}`, app, c, function* ({ k, task, sched }: TlbTaskEnv): Sim {
          for (;;) {
            for (let i = 0; i < 16; i++) yield* sched.touch(task, rng.int(PAGES), rng.chance(0.5));
            yield k.compute(rng.range(2_000, 20_000));
            if (rng.chance(params.madviseChance)) {
              const start = rng.int(PAGES - 8);
              const len = rng.chance(1 - params.bigRangeChance) ? rng.range(1, 4) : rng.range(34, 64);
              yield* m.mapping.madviseDontneed(k, sched.cpuOf(task), app, start, Math.min(PAGES, start + len));
            }
          }
        });
      } else {
        s.createTask(`reader${c}`, app, c, lazyAlternator(rng, PAGES));
        s.createTask(`kworker/${c}`, null, c, kernelThread(rng));
      }
    }
    s.createTask('kcompactd0', null, (n - 1) % n, function* ({ k, task, sched }: TlbTaskEnv): Sim {
      for (;;) {
        yield* sched.sleepFor(task, rng.range(40_000, 160_000));
        yield* m.mapping.migratePage(k, sched.cpuOf(task), app, rng.int(PAGES));
      }
    });
  },
});
