import type { Sim } from '../../lib/engine/ops';
import { ConfigError } from '../../lib/errors';
import { PTRS_PER_PTE } from '../../tlb/mm/mm';
import { kernelThread } from './common';
import { defineWorkload } from './workload';
import { wparam } from './params';
import type { TlbTaskEnv } from '../../tlb/task-env';

/**
 * The exploration workload: short, dense in the two hazards. On CPU 0 a thread of mm A flushes
 * small ranges it and others use (switch-versus-flush), and every few rounds unmaps a whole PTE
 * page that another thread walked (page-table freeing). On CPU 1 a thread of A and a kernel
 * thread take turns quickly, so CPU 1 enters and leaves lazy mode on A all the time; on CPU 2 a
 * thread of A touches the pages in the freed range and sleeps (lazy idle with A loaded); the
 * other CPUs run an unrelated mm and kernel threads. With `spread` above 3, CPUs 3 .. spread-1
 * run readers of A instead, so that A runs on 4 or more CPUs and earns a global ASID under
 * invlpgb and intel-rar (mm_active_cpus_exceeds(mm, 3)).
 */
export const exploreMix = defineWorkload({
  name: 'explore-mix',
  description: 'flusher vs. fast lazy/non-lazy alternation, plus munmap of whole page-table pages while another CPU sits lazy on them',
  sources: ['synthetic: built to make the two hazards (switch-versus-flush, freed page tables) dense for exploration'],
  params: {
    spread: wparam.count(3, 3, 4096, 'CPUs running threads of mm A (the flusher, the toggler, the walker, then readers of its hot pages); the rest run mm B.'),
  },
  stats: {},
  warmupMs: 0,
  setup({ m, rng, params }): void {
    const a = m.createMm('A', 2 * PTRS_PER_PTE);
    const b = m.createMm('B', 64);
    const s = m.sched;
    const n = m.topology.nCpus;
    if (params.spread > Math.max(3, n)) throw new ConfigError(`workload explore-mix: parameter 'spread' = ${params.spread}: expected at most the machine's ${n} CPUs`);
    const hot = 16;
    const freedBase = PTRS_PER_PTE;
    s.createTask('flusher', a, 0, function* ({ k, task, sched }: TlbTaskEnv): Sim {
      for (let round = 0; ; round++) {
        for (let p = 0; p < hot; p++) yield* sched.touch(task, p, true);
        const start = rng.int(hot - 4);
        yield* m.mapping.madviseDontneed(k, sched.cpuOf(task), a, start, start + rng.range(1, 4));
        yield k.compute(rng.range(500, 4_000));
        if (round % 4 === 3) {
          for (let p = 0; p < 4; p++) yield* sched.touch(task, freedBase + p, true);
          yield k.compute(rng.range(2_000, 8_000));
          yield* m.mapping.munmap(k, sched.cpuOf(task), a, freedBase, freedBase + PTRS_PER_PTE);
        }
      }
    });
    s.createTask('toggler', a, 1 % n, function* ({ k, task, sched }: TlbTaskEnv): Sim {
      for (;;) {
        for (let p = 0; p < hot; p++) yield* sched.touch(task, p, false);
        yield k.compute(rng.range(200, 2_000));
        yield* sched.sleepFor(task, rng.range(500, 6_000));
      }
    });
    s.createTask('kworker/1', null, 1 % n, function* ({ k, task, sched }: TlbTaskEnv): Sim {
      for (;;) {
        yield k.compute(rng.range(300, 3_000));
        yield* sched.sleepFor(task, rng.range(500, 6_000));
      }
    });
    s.createTask('walker', a, 2 % n, function* ({ k, task, sched }: TlbTaskEnv): Sim {
      for (;;) {
        for (let p = 0; p < 4; p++) yield* sched.touch(task, freedBase + p, false);
        yield k.compute(rng.range(500, 3_000));
        yield* sched.sleepFor(task, rng.range(5_000, 40_000));
      }
    });
    for (let c = 3; c < params.spread; c++) {
      s.createTask(`reader${c}`, a, c, function* ({ k, task, sched }: TlbTaskEnv): Sim {
        for (;;) {
          for (let p = 0; p < hot; p++) yield* sched.touch(task, p, false);
          yield k.compute(rng.range(500, 3_000));
          yield* sched.sleepFor(task, rng.range(1_000, 10_000));
        }
      });
    }
    for (let c = Math.max(3, params.spread); c < n; c++) {
      s.createTask(`other${c}`, b, c, function* ({ k, task, sched }: TlbTaskEnv): Sim {
        for (;;) {
          for (let p = 0; p < 8; p++) yield* sched.touch(task, p, true);
          yield k.compute(rng.range(1_000, 5_000));
          yield* sched.sleepFor(task, rng.range(2_000, 20_000));
        }
      });
      s.createTask(`kworker/${c}`, null, c, kernelThread(rng));
    }
  },
});
