import type { Sim } from '../../lib/engine/ops';
import type { Rng } from '../../lib/rng';
import type { Scheduler } from '../../cpu/sched';
import type { Task } from '../../cpu/task';
import type { Mm } from '../../tlb/mm/mm';
import type { TlbOps } from '../../tlb/hw/tlb-ops';
import { wparam } from './params';
import { defineWorkload } from './workload';
import type { TlbTaskEnv } from '../../tlb/task-env';

/**
 * Sizes of flush_tlb_mm_range() calls during a kernel compile (Dave Hansen, "x86: mm: set TLB
 * flush tunable to sane value", LKML 2014-02-18): 1 page 56.9%, 2: 13.8%, 3: 8.3%, 4: 7.4%,
 * 33 (the ceiling) 3.1%, full 2.2%. The remaining 8.3% had sizes 5..32 without a share each; they
 * are spread evenly here [D]. A full flush is a range above the ceiling.
 */
const HANSEN_2014: ReadonlyArray<readonly [pages: number, share: number]> = [
  [1, 0.569], [2, 0.138], [3, 0.083], [4, 0.074],
  ...Array.from({ length: 28 }, (_, i) => [5 + i, 0.083 / 28] as const),
  [33, 0.031], [64, 0.022],
];

/** Draws a flush size from Hansen's 2014 distribution. */
function flushPages(rng: Rng): number {
  let x = rng.next();
  for (const [pages, share] of HANSEN_2014) {
    if (x < share) return pages;
    x -= share;
  }
  return 1;
}

/** What each program of the chain maps and does. */
interface Program {
  readonly name: string;
  readonly pages: number;
  readonly runMs: number;
}

/**
 * The shape of `make -jN` building C files, the workload of Hansen's 2014 and 2017 flush-size
 * measurements. make runs N jobs at once (here one make thread per job slot: real make is one
 * process that waits for any child); each job is a chain of short-lived processes: make vforks
 * and execs `gcc`; the driver vforks and execs `cc1`, waits for it, then `as`, waits, and exits.
 * Every exec builds a new address space; ld.so's start-up changes a few mappings (mprotect of the
 * RELRO segments and the like: `startupFlushes` flushes, the x86 trace's average), the program
 * touches its pages (faults), cc1 compiles in bursts and returns memory now and then
 * (madvise), and exit frees the page tables (exit_mmap with freed_tables). Flush sizes follow
 * Hansen 2014. Most flushes are local: a single-threaded process rarely has another CPU in its
 * mask, except the one its vfork parent ran on, or one it ran on before and left lazily.
 *
 * Steady state from the start: each slot's first cc1 runs for a uniformly drawn part of a
 * compile (the residual life of a job in progress), so completions are spread over time.
 */
export const kbuild = defineWorkload({
  name: 'kbuild',
  description: 'make -jN: chains of short-lived processes (vfork, exec, exit) compile files; flush sizes as measured during kernel builds',
  sources: [
    'Dave Hansen, "x86: mm: set TLB flush tunable to sane value" (LKML, 2014-02-18, 20140218193017.ECDF1089@viggo.jf.intel.com): flush sizes during a kernel compile',
    'Dave Hansen, linux-mm 2017 (kernel compile, make -j8 on a 4-core Skylake): 91-92% of flushes single-page, about 1.5-2k flushes/s, mostly local',
    'our x86 trace (bench/data/traces/x86-kvm-fork-exec-exit.txt): 7,148 local-mm flushes for 368 execs, about 19 per short program',
  ],
  warmupMs: 3,
  params: {
    jobs: wparam.count(0, 0, 4096, 'make -jN: jobs at once; 0 for one per CPU.'),
    compileMs: wparam.millis(250, 0.1, 10_000, 'cc1 run time of one file (mean; uniform in ±50%) [D: with 3 execs per file and 16 start-up flushes each, 250 ms puts a CPU at about 200 flushes/s, Hansen 2017\'s rate; kernel files take 20 ms to 1 s].'),
    assembleMs: wparam.millis(3, 0.01, 1_000, 'as run time (mean; uniform in ±50%) [E].'),
    driverMs: wparam.millis(0.5, 0.01, 1_000, 'gcc driver work before and after its children [E].'),
    startupFlushes: wparam.count(16, 0, 1_000, 'Flushes of ld.so start-up per exec (mprotect of RELRO and friends) [S: the x86 trace].'),
    compileFlushesPerSecond: wparam.perSecond(30, 0, 1e6, "cc1's own flushes per second of compiling (memory its allocator returns) [E: the part of Hansen 2017's ~200/s per CPU that start-ups leave]."),
    cc1Pages: wparam.pages(1024, 64, 4096, "cc1's mapped pages (its working set; touched as it compiles)."),
    toolPages: wparam.pages(256, 64, 4096, 'Mapped pages of gcc and as.'),
    touchesPerMs: wparam.count(400, 0, 1e6, 'Page touches per ms of a program running (one in three a write).'),
  },
  stats: { files: 'counter', jobs: 'counter', programFlushes: 'counter' },
  setup({ m, params, rng, stats }): void {
    const n = m.topology.nCpus;
    const jobs = params.jobs === 0 ? n : params.jobs;
    const ms = m.config.params.clockGhz * 1e6;
    const files = stats.counter('files', 'files compiled (cc1 finished)');
    const chains = stats.counter('jobs', 'jobs started by make');
    const flushOps = stats.counter('programFlushes', 'flushes issued by the programs (start-up and cc1)');
    const cc1: Program = { name: 'cc1', pages: params.cc1Pages, runMs: params.compileMs };
    const as: Program = { name: 'as', pages: params.toolPages, runMs: params.assembleMs };
    const gcc: Program = { name: 'gcc', pages: params.toolPages, runMs: params.driverMs };

    /** A flush of Hansen's size: mprotect at start-up, madvise(DONTNEED) while running. */
    function* flushSome(k: TlbOps, task: Task, sched: Scheduler, mm: Mm, startup: boolean): Sim {
      const pages = Math.min(flushPages(rng), mm.nPages);
      const start = rng.int(mm.nPages - pages + 1);
      if (startup) yield* m.mapping.mprotect(k, sched.cpuOf(task), mm, start, start + pages, rng.chance(0.5));
      else yield* m.mapping.madviseDontneed(k, sched.cpuOf(task), mm, start, start + pages);
      flushOps.value++;
    }

    /** execve(prog), ld.so start-up, then `runMs × scale` of work with touches and flushes. */
    function* run(env: TlbTaskEnv, prog: Program, scale: number, flushesPerMs: number): Sim {
      const { k, task, sched } = env;
      const mm = yield* m.procs.exec(task, prog.name, prog.pages);
      for (let i = 0; i < params.startupFlushes; i++) {
        yield* sched.touch(task, rng.int(prog.pages), true);
        yield* flushSome(k, task, sched, mm, true);
      }
      const total = Math.round(prog.runMs * scale * ms);
      const slice = Math.round(ms / 10); // work in 0.1-ms slices
      for (let done = 0; done < total; done += slice) {
        const touches = Math.round(params.touchesPerMs / 10);
        for (let i = 0; i < touches; i++) yield* sched.touch(task, rng.int(prog.pages), rng.chance(1 / 3));
        yield k.compute(Math.min(slice, total - done));
        if (flushesPerMs > 0 && rng.chance(flushesPerMs / 10)) yield* flushSome(k, task, sched, mm, false);
      }
    }

    const jitter = () => 0.5 + rng.next(); // uniform in ±50% of the mean
    const procs = m.procs;
    const cc1FlushesPerMs = params.compileFlushesPerSecond / 1000;
    const make = m.createMm('make', params.toolPages);
    make.populate(m.memory, 0, params.toolPages);
    for (let j = 0; j < jobs; j++) {
      m.sched.createTask(`make/${j}`, make, j % n, function* (env: TlbTaskEnv): Sim {
        for (let first = true; ; first = false) {
          chains.value++;
          const residual = first ? rng.next() : 1; // a job already in progress at the start
          const driver = yield* procs.clone(env.task, 'vfork', `gcc/${j}`, function* (g: TlbTaskEnv): Sim {
            yield* run(g, gcc, jitter(), 0);
            const c = yield* procs.clone(g.task, 'vfork', `cc1/${j}`, function* (c1: TlbTaskEnv): Sim {
              yield* run(c1, cc1, jitter() * residual, cc1FlushesPerMs);
              files.value++;
            });
            yield* procs.waitFor(g.task, c);
            const a = yield* procs.clone(g.task, 'vfork', `as/${j}`, function* (a1: TlbTaskEnv): Sim {
              yield* run(a1, as, jitter(), 0);
            });
            yield* procs.waitFor(g.task, a);
          });
          yield* procs.waitFor(env.task, driver);
        }
      });
    }
  },
});
