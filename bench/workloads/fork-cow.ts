import type { Sim } from '../../lib/engine/ops';
import { kernelThread, lazyAlternator } from './common';
import { wparam } from './params';
import { defineWorkload } from './workload';
import type { TlbTaskEnv } from '../../tlb/task-env';

/**
 * A process that forks repeatedly (like a shell or a pre-fork server). Each fork write-protects
 * the parent's pages and flushes its whole mm; the child touches and writes a few pages (COW
 * breaks in the child) and exits (exit_mmap: page tables freed, a freed-tables flush); the
 * parent then writes its pages again, breaking COW one page and one flush at a time. A reader
 * thread of the parent context-switches with a kernel thread meanwhile, so it is often lazy
 * when those flushes come.
 */
export const forkCow = defineWorkload({
  name: 'fork-cow',
  description: 'a process forks repeatedly: COW breaks flush while a reader thread context-switches; children exit and free their page tables',
  sources: ['synthetic: the shape of a shell or a pre-fork server (dup_mmap write-protects and flushes the parent; COW breaks flush page by page)'],
  params: {
    pages: wparam.pages(128, 16, 4096, "The parent's mapped pages (all touched before the first fork)."),
    readers: wparam.count(3, 0, 64, 'Reader threads of the parent, each on its own CPU (1, 2, ...) beside a kernel thread.'),
  },
  stats: {},
  setup({ m, params, rng }): void {
    const PAGES = params.pages;
    const parent = m.createMm('parent', PAGES);
    const s = m.sched;
    const n = m.topology.nCpus;
    let forks = 0;
    s.createTask('forker', parent, 0, function* ({ k, task, sched }: TlbTaskEnv): Sim {
      for (let p = 0; p < PAGES; p++) yield* sched.touch(task, p, true);
      for (;;) {
        // fork(): dup_mmap write-protects the parent and flushes it; the child exits through
        // do_exit, whose mmput runs exit_mmap (freed tables), and its mm_struct is reused.
        const child = yield* m.procs.clone(task, 'fork', `child${forks++}`, function* (env: TlbTaskEnv): Sim {
          for (let i = 0; i < 8; i++) yield* env.sched.touch(env.task, rng.int(PAGES), rng.chance(0.5));
          yield env.k.compute(rng.range(2_000, 10_000));
        }, { cpu: 1 + rng.int(Math.max(1, n - 1)) });
        for (let i = 0; i < 12; i++) yield* sched.touch(task, rng.int(PAGES), true); // COW breaks
        yield* m.procs.waitFor(task, child);
        yield k.compute(rng.range(5_000, 20_000));
      }
    });
    for (let c = 1; c < Math.min(n, params.readers + 1); c++) {
      s.createTask(`reader${c}`, parent, c, lazyAlternator(rng, PAGES));
      s.createTask(`kworker/${c}`, null, c, kernelThread(rng));
    }
  },
});
