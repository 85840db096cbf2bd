import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import type { Scheduler } from '../../cpu/sched';
import type { TaskEnv } from '../../cpu/task';
import { TlbMachine } from '../../tlb/machine';
import type { Violation } from '../../tlb/check/oracle';
import type { Strategy } from '../../tlb/strategies/strategy';
import type { TlbOps } from '../../tlb/hw/tlb-ops';

/** Options of the randomized workload; the defaults are the workload the linux-4.13/4.14/4.20 tests used. */
export interface RandomRunOptions {
  /** Machine profile (4 CPUs of it are used): 'skylake-sp-2s' unless given, e.g. 'zen3-1s' for INVLPGB. */
  profile?: string;
  /** Called on the machine before it starts (e.g. to observe the oracle). */
  setup?: (m: TlbMachine) => void;
}

/**
 * The randomized workload: 4 CPUs, mm `a` of 1024 pages. Threads of `a` started on cpu0 and
 * cpu1 touch pages, then madvise(DONTNEED) a few pages or a range above the flush ceiling, or
 * mprotect; the first one also munmaps the second PTE page (freeing it when live). Only one
 * thread frees tables because the oracle keeps one `tablesFreedAt` per mm: a free during another
 * freed-tables flush would be charged to that earlier flush. Both sleep or compute between
 * operations. cpu2 and cpu3 alternate between a thread of `a`, a kernel thread (lazy on whatever
 * mm it borrows), a thread of `b` and idle. Memory timing is perturbed.
 */
export function randomRun(strategy: Strategy, seed: number, opts: RandomRunOptions = {}): TlbMachine {
  const m = new TlbMachine({
    config: resolveMachine(opts.profile ?? 'skylake-sp-2s', { sockets: 1, ccxPerSocket: 1, coresPerCcx: 4 }),
    seed,
    strategy,
    perturb: { transferMax: 100, drainMax: 500 },
  });
  const a = m.createMm('a', 1024);
  const b = m.createMm('b', 64);
  const rng = m.rng.stream('test.workload');
  const s = m.sched;
  type Env = TaskEnv<Scheduler>;
  for (const cpu of [0, 1]) {
    s.createTask(`a${cpu}`, a, cpu, function* ({ k: k0, task, sched }: Env): Sim {
      const k = k0 as TlbOps;
      for (let i = 0; i < 12; i++) {
        for (let j = 0; j < 6; j++) yield* sched.touch(task, rng.chance(0.2) ? 512 + rng.int(16) : rng.int(48), rng.chance(0.5));
        const lo = rng.int(40);
        const op = rng.int(cpu === 0 ? 4 : 3); // one thread frees tables: see the note above
        const c = sched.cpuOf(task);
        if (op === 0) yield* m.mapping.madviseDontneed(k, c, a, lo, lo + 1 + rng.int(8));
        else if (op === 1) yield* m.mapping.madviseDontneed(k, c, a, 0, 48); // above the ceiling: a full flush
        else if (op === 2) yield* m.mapping.mprotect(k, c, a, lo, lo + 4, rng.chance(0.5));
        else yield* m.mapping.munmap(k, c, a, 512, 1024); // frees the second PTE page if it is live
        if (rng.chance(0.5)) yield* sched.sleepFor(task, rng.range(2_000, 30_000));
        else yield k.compute(rng.range(1_000, 10_000));
      }
    });
  }
  for (const cpu of [2, 3]) {
    s.createTask(`a${cpu}`, a, cpu, function* ({ task, sched }: Env): Sim {
      for (let i = 0; i < 15; i++) {
        for (let j = 0; j < 4; j++) yield* sched.touch(task, rng.chance(0.2) ? 512 + rng.int(16) : rng.int(48), false);
        yield* sched.sleepFor(task, rng.range(1_000, 40_000));
      }
    });
    s.createTask(`kthread${cpu}`, null, cpu, function* ({ k, task, sched }: Env): Sim {
      for (let i = 0; i < 15; i++) {
        yield k.compute(rng.range(1_000, 20_000));
        yield* sched.sleepFor(task, rng.range(1_000, 40_000));
      }
    });
  }
  s.createTask('b3', b, 3, function* ({ task, sched }: Env): Sim {
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 4; j++) yield* sched.touch(task, rng.int(64), true);
      yield* sched.sleepFor(task, rng.range(5_000, 60_000));
    }
  });
  if (opts.setup !== undefined) opts.setup(m);
  s.start();
  m.engine.run({ maxCycles: 1e9 });
  return m;
}

export interface RandomizedOptions extends RandomRunOptions {
  /** Seeds 1..seeds (30 unless given). */
  seeds?: number;
  /** Called after each run, for checks of the strategy's own. */
  onRun?: (m: TlbMachine, seed: number, strategy: Strategy) => void;
  /** Violations the caller has shown to be oracle false positives (each is still counted in `excused`). */
  excuse?: (v: Violation) => boolean;
}

/**
 * `seeds` runs of the randomized workload: no violation of either kind may occur, unless
 * `excuse` accepts it. Returns the summed counts, so callers can check what was exercised.
 */
export function randomized(factory: () => Strategy, opts: RandomizedOptions = {}): { lazy: number; freedPageTables: number; flushes: number; excused: number } {
  let lazy = 0;
  let excused = 0;
  let freedPageTables = 0;
  let flushes = 0;
  for (let seed = 1; seed <= (opts.seeds ?? 30); seed++) {
    const s = factory();
    const m = randomRun(s, seed, opts);
    for (const v of m.oracle.violations) {
      if (opts.excuse !== undefined && opts.excuse(v)) {
        excused++;
        continue;
      }
      expect([seed, v.kind, v.cpu, v.cycle, v.detail]).toEqual([seed, 'none', -1, -1, '']);
    }
    lazy += m.flushStats.toLazyCpus.value + m.flushStats.avoidedLazy.value;
    freedPageTables += m.oracle.count('freed-page-table');
    flushes += m.flushStats.count.value;
    if (opts.onRun !== undefined) opts.onRun(m, seed, s);
  }
  expect(lazy).toBeGreaterThan(0); // flushes met lazy CPUs
  return { lazy, freedPageTables, flushes, excused };
}
