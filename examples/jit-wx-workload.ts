import { ConfigError, CpuSet, defineWorkload, wparam, type Sim, type TlbTaskEnv } from 'lazytlb';

/**
 * A user workload: a JIT that keeps its code pages W^X. One compiler thread writes code into a
 * few pages and flips them from writable to executable with mprotect (each flip is a flush of
 * the whole process), while the process's other threads run the code on their CPUs, touching
 * the code pages. Every flip interrupts every CPU running a thread of the process: the pattern
 * of V8, the JVM and other W^X JITs.
 */
export default defineWorkload({
  name: 'jit-wx',
  description: 'a JIT flips code pages between writable and executable while mutator threads run the code',
  sources: ['W^X JIT code pages: mprotect(PROT_READ|PROT_WRITE) to patch, mprotect(PROT_READ|PROT_EXEC) to run'],
  params: {
    mutators: wparam.count(7, 1, 4096, 'Threads running the compiled code, one per CPU from CPU 1.'),
    codePages: wparam.pages(64, 8, 512, 'The code cache.'),
    flipPages: wparam.pages(4, 1, 64, 'Pages patched per compilation (one mprotect to RW, one back to RX).'),
    compileUs: wparam.micros(50, 1, 100_000, 'Compiler work per compilation.'),
  },
  // What setup registers: the run checks it, and `simulate({ workload: this })` types its result by it.
  stats: { compilations: 'counter' },
  setup({ m, params, rng, stats }): void {
    const n = m.topology.nCpus;
    if (params.mutators + 1 > n) throw new ConfigError(`jit-wx: ${params.mutators} mutators and a compiler need ${params.mutators + 1} CPUs; the machine has ${n}`);
    const code = m.createMm('jit', params.codePages);
    code.populate(m.memory, 0, params.codePages);
    const compiles = stats.counter('compilations', 'code patches (two flushes each)');
    const compileCycles = Math.round(params.compileUs * m.config.params.clockGhz * 1e3);
    m.sched.createTask('compiler', code, 0, function* ({ k, task, sched }: TlbTaskEnv): Sim {
      for (;;) {
        yield k.compute(compileCycles);
        const start = rng.int(params.codePages - params.flipPages + 1);
        const cpu = sched.cpuOf(task);
        yield* m.mapping.mprotect(k, cpu, code, start, start + params.flipPages, true);
        for (let p = start; p < start + params.flipPages; p++) yield* sched.touch(task, p, true);
        yield* m.mapping.mprotect(k, cpu, code, start, start + params.flipPages, false);
        compiles.value++;
      }
    }, CpuSet.of(n, [0]));
    for (let i = 1; i <= params.mutators; i++) {
      m.sched.createTask(`mutator${i}`, code, i, function* ({ k, task, sched }: TlbTaskEnv): Sim {
        for (;;) {
          for (let j = 0; j < 8; j++) yield* sched.touch(task, rng.int(params.codePages), false);
          yield k.compute(rng.range(2_000, 10_000));
        }
      }, CpuSet.of(n, [i]));
    }
  },
});
