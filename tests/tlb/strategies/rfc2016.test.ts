import { resolveMachine } from '../../../lib/machine/resolve';
import type { Sim } from '../../../lib/engine/ops';
import type { Cpu } from '../../../cpu/cpu';
import { TASK_DEAD } from '../../../cpu/task';
import { TlbMachine } from '../../../tlb/machine';
import type { Mm } from '../../../tlb/mm/mm';
import type { TlbOps } from '../../../tlb/hw/tlb-ops';
import {
  Rfc2016Naive, Rfc2016Rqlock, Rfc2016Xchg, TLBSTATE_FLUSH, TLBSTATE_OK, rfc2016Naive, rfc2016Rqlock, rfc2016Xchg,
} from '../../../tlb/strategies/rfc2016';
import { ROLES, flushScenario } from '../scenario';
import type { TlbTaskEnv } from '../../../tlb/task-env';

const VARIANTS: Array<[string, () => Rfc2016Naive]> = [
  ['rfc2016-naive', () => new Rfc2016Naive()],
  ['rfc2016-xchg', () => new Rfc2016Xchg()],
  ['rfc2016-rqlock', () => new Rfc2016Rqlock()],
];

/** Runs the scripted scenario, recording every CPU's state word right after cpu0's flush returns. */
function scenarioWithStates(s: Rfc2016Naive, freedTables = false) {
  const states: number[][] = [];
  const flush = s.flushTlbMmRange.bind(s);
  s.flushTlbMmRange = function* (k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, ft?: boolean): Sim {
    yield* flush(k, cpu, mm, start, end, ft);
    if (cpu.id === ROLES.initiator) states.push(Array.from({ length: 8 }, (_, c) => s.peekState(c)));
  };
  const r = flushScenario(s, { freedTables });
  return { ...r, states, strategyStats: (r.m.stats.dump() as Record<string, any>).strategy };
}

describe.each(VARIANTS)('%s, scripted scenario', (name, make) => {
  test('factory, name, no PCID', () => {
    const factory = { 'rfc2016-naive': rfc2016Naive, 'rfc2016-xchg': rfc2016Xchg, 'rfc2016-rqlock': rfc2016Rqlock }[name];
    const s = (factory as () => Rfc2016Naive)();
    expect(s.name).toBe(name);
    expect(s.supportsPcid).toBe(false);
  });

  test('PTE-only flush: only the non-lazy CPU gets an IPI; the lazy ones are marked FLUSH', () => {
    const { targets, states, strategyStats } = scenarioWithStates(make());
    expect(targets).toEqual([ROLES.running]);
    expect(states).toHaveLength(1);
    const [st] = states;
    expect(st[ROLES.lazyKthread]).toBe(TLBSTATE_FLUSH);
    expect(st[ROLES.lazyIdle]).toBe(TLBSTATE_FLUSH);
    expect(st[ROLES.running]).toBe(TLBSTATE_OK);
    expect(st[ROLES.switchedAway]).toBe(TLBSTATE_OK); // running b: not in a's mask, not touched
    expect(strategyStats.lazyIpisSkipped).toBe(2);
  });

  test('the lazy CPUs stay on a until their thread returns, then reload CR3: no stale translation', () => {
    const { cr3After, violations, strategyStats } = scenarioWithStates(make());
    expect(cr3After[ROLES.lazyKthread]).toBe(1);
    expect(cr3After[ROLES.lazyIdle]).toBe(1);
    // a2 and a3 came back to cpu2 and cpu3 and touched the unmapped pages 0..7, whose entries
    // they still held: without the CR3 reload at that switch these would be stale hits.
    expect(strategyStats.flushOnSwitch).toBe(2);
    expect(violations).toEqual([]);
  });

  test('freed page tables: lazy CPUs are skipped anyway and keep CR3 on the freed tables', () => {
    const { targets, violations, cr3After } = scenarioWithStates(make(), true);
    expect(targets).toEqual([ROLES.running]);
    expect(cr3After[ROLES.lazyKthread]).toBe(1);
    expect(violations.map((v) => [v.kind, v.cpu, v.mm])).toEqual([
      ['freed-page-table', ROLES.lazyKthread, 'a'],
      ['freed-page-table', ROLES.lazyIdle, 'a'],
    ]);
  });
});

/**
 * The lost-flush workload, on 4 CPUs of one socket. cpu0: a thread of mm `a` that computes a
 * random 200..3000 cycles and then madvise(DONTNEED)s pages 0..3, forever. cpu1..3: each a thread
 * of `a` that touches pages 0..3 and yields, and a kernel thread that computes 100..1000 cycles
 * and yields: the CPU goes lazy on `a` and comes back to it every few thousand cycles, and every
 * flush of cpu0 does a cmpxchg on its state word. Runs 1M cycles.
 */
function raceRun(strategy: Rfc2016Naive, seed: number, perturb: boolean) {
  const m = new TlbMachine({
    config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 4 }),
    seed,
    strategy,
    perturb: perturb ? { transferMax: 200, drainMax: 1_000, opDelayMax: 2_000 } : undefined,
  });
  const a = m.createMm('a', 64);
  const rng = m.rng.stream('workload');
  const s = m.sched;
  s.createTask('flusher', a, 0, function* ({ k, task, sched }: TlbTaskEnv): Sim {
    for (;;) {
      yield k.compute(rng.range(200, 3_000));
      yield* m.mapping.madviseDontneed(k, sched.cpuOf(task), a, 0, 4);
    }
  });
  for (let c = 1; c <= 3; c++) {
    s.createTask(`user${c}`, a, c, function* ({ task, sched }: TlbTaskEnv): Sim {
      for (;;) {
        for (let p = 0; p < 4; p++) yield* sched.touch(task, p, false);
        yield* sched.yieldCpu(task);
      }
    });
    s.createTask(`kthread${c}`, null, c, function* ({ k, task, sched }: TlbTaskEnv): Sim {
      for (;;) {
        yield k.compute(rng.range(100, 1_000));
        yield* sched.yieldCpu(task);
      }
    });
  }
  s.start();
  m.engine.run({ until: 1_000_000 });
  const d = m.stats.dump() as Record<string, any>;
  return {
    stale: m.oracle.count('stale-translation'),
    freed: m.oracle.count('freed-page-table'),
    violations: m.oracle.violations,
    skipped: d.strategy.lazyIpisSkipped as number,
    sameMmReturns: d.sched.contextSwitches.fromKernelThread as number,
  };
}

describe('the lost-flush race (read LAZY, flusher cmpxchg LAZY→FLUSH, store OK)', () => {
  test('unperturbed: rfc2016-naive loses a flush on an early seed; xchg and rqlock never on the same seeds', () => {
    let first = -1;
    for (let seed = 1; seed <= 100 && first < 0; seed++) {
      const r = raceRun(new Rfc2016Naive(), seed, false);
      expect(r.freed).toBe(0);
      if (r.stale > 0) {
        first = seed;
        // A lazy CPU's user thread used a translation that a returned flush of cpu0 covered.
        const v = r.violations[0];
        expect(v.kind).toBe('stale-translation');
        expect([1, 2, 3]).toContain(v.cpu);
        expect(v.flush?.initiator).toBe(0);
        expect(v.cycle).toBeGreaterThan(v.flush?.returnCycle as number);
      }
    }
    expect(first).toBeGreaterThan(0); // seed 7 with the present cost model
    for (let seed = 1; seed <= first; seed++) {
      for (const make of [() => new Rfc2016Xchg(), () => new Rfc2016Rqlock()]) {
        const r = raceRun(make(), seed, false);
        expect(r.stale).toBe(0);
        expect(r.skipped).toBeGreaterThan(0); // the race was there to lose: lazy CPUs were skipped
      }
    }
  });

  test('perturbed timing: naive loses flushes on most seeds, xchg and rqlock on none', () => {
    const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
    const naive = seeds.filter((seed) => raceRun(new Rfc2016Naive(), seed, true).stale > 0);
    expect(naive.length).toBeGreaterThanOrEqual(10); // 20 of 20 with the present cost model
    for (const seed of seeds) {
      const x = raceRun(new Rfc2016Xchg(), seed, true);
      const q = raceRun(new Rfc2016Rqlock(), seed, true);
      expect([seed, x.stale, q.stale]).toEqual([seed, 0, 0]);
      expect(x.sameMmReturns).toBeGreaterThan(50);
    }
  });
});

/** rfc2016-rqlock with a probe: every switch_mm must run under the switching CPU's own rq lock. */
class ProbedRqlock extends Rfc2016Rqlock {
  switches = 0;
  notUnderOwnLock = 0;
  lockBusyAtEntry = 0;

  override *switchMmIrqsOff(k: TlbOps, cpu: Cpu, prev: Mm | null, next: Mm): Sim {
    this.switches++;
    if (this.ctx.sched.rqs[cpu.id].lock.holder !== cpu.id || cpu.irqsOn) this.notUnderOwnLock++;
    yield* super.switchMmIrqsOff(k, cpu, prev, next);
  }

  protected override *checkAndSkip(k: TlbOps, cpu: Cpu, target: number): Sim<boolean> {
    if (this.ctx.sched.rqs[target].lock.holder !== -1) this.lockBusyAtEntry++;
    return yield* super.checkAndSkip(k, cpu, target);
  }
}

describe('rfc2016-rqlock under contention', () => {
  test.each([1, 2, 3])('seed %i: two flushers, lazy togglers, sleepers woken from interrupts: completes, no stale translation', (seed) => {
    const strategy = new ProbedRqlock();
    const m = new TlbMachine({
      config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 8 }),
      seed,
      strategy,
      perturb: { transferMax: 200, drainMax: 1_000, opDelayMax: 2_000 },
      ipiJitterMax: 2_000,
    });
    const a = m.createMm('a', 64);
    const rng = m.rng.stream('workload');
    const s = m.sched;
    const ROUNDS = 120;
    for (const c of [0, 1]) {
      // Nappers queued before the flusher: each sleeps at once with its hrtimer on this CPU, so
      // their wake-ups run in timer interrupts on the flushing CPU and pick an idle CPU's rq lock
      // (select_idle_sibling): the interrupt that could deadlock against a flusher holding that
      // rq lock with interrupts enabled. Such a hit is rare; the lockdep-style check below
      // catches that mistake on every acquisition.
      for (let n = 0; n < 16; n++) {
        s.createTask(`napper${c}.${n}`, a, c, function* ({ task, sched }: TlbTaskEnv): Sim {
          yield* sched.sleepFor(task, rng.range(2_000, 300_000));
          yield* sched.touch(task, rng.int(16), false);
        });
      }
      s.createTask(`flusher${c}`, a, c, function* ({ k, task, sched }: TlbTaskEnv): Sim {
        for (let i = 0; i < ROUNDS; i++) {
          for (let p = 0; p < 4; p++) yield* sched.touch(task, rng.int(16), true);
          yield k.compute(rng.range(200, 2_000));
          const start = rng.int(12);
          const end = rng.chance(0.9) ? start + rng.range(1, 4) : 64; // sometimes above the ceiling
          yield* m.mapping.madviseDontneed(k, sched.cpuOf(task), a, start, end);
        }
      });
    }
    for (let c = 2; c < 6; c++) {
      s.createTask(`user${c}`, a, c, function* ({ task, sched }: TlbTaskEnv): Sim {
        for (let i = 0; i < ROUNDS; i++) {
          for (let p = 0; p < 4; p++) yield* sched.touch(task, rng.int(16), false);
          if (rng.chance(0.3)) yield* sched.sleepFor(task, rng.range(500, 5_000));
          else yield* sched.yieldCpu(task);
        }
      });
      s.createTask(`kthread${c}`, null, c, function* ({ k, task, sched }: TlbTaskEnv): Sim {
        for (let i = 0; i < ROUNDS; i++) {
          yield k.compute(rng.range(100, 1_000));
          if (rng.chance(0.3)) yield* sched.sleepFor(task, rng.range(500, 5_000));
          else yield* sched.yieldCpu(task);
        }
      });
    }
    for (const c of [6, 7]) {
      // Idle most of the time (lazy on a), woken by its hrtimer: try_to_wake_up takes the rq lock
      // from the timer interrupt.
      s.createTask(`sleeper${c}`, a, c, function* ({ task, sched }: TlbTaskEnv): Sim {
        for (let i = 0; i < ROUNDS; i++) {
          yield* sched.touch(task, rng.int(16), false);
          yield* sched.sleepFor(task, rng.range(1_000, 8_000));
        }
      });
    }
    // lockdep's rule for a lock also taken in interrupt context: every acquisition of an rq lock,
    // by the scheduler or by a flusher, happens with interrupts disabled.
    let rqLocksWithIrqsOn = 0;
    for (const rq of s.rqs) {
      const lock = rq.lock.lock.bind(rq.lock);
      rq.lock.lock = function* (k, cpu) {
        if (m.cpu.cpus[cpu].irqsOn) rqLocksWithIrqsOn++;
        yield* lock(k, cpu);
      };
    }
    s.start();
    // A deadlock empties the event queue with tasks blocked (WatchdogError) or runs into the budget.
    m.engine.run({ maxCycles: 200_000_000 });
    for (const t of s.tasks) if (!t.isIdle) expect([t.name, t.state]).toEqual([t.name, TASK_DEAD]);
    const d = m.stats.dump() as Record<string, any>;
    expect(d.flushes.count).toBeGreaterThanOrEqual(2 * ROUNDS);
    expect(strategy.switches).toBeGreaterThan(300); // ~430: returns from kthreads and idle
    expect(strategy.notUnderOwnLock).toBe(0);
    expect(rqLocksWithIrqsOn).toBe(0);
    expect(d.strategy.remoteRqLocks).toBeGreaterThan(800); // ~1,200
    expect(strategy.lockBusyAtEntry).toBeGreaterThan(10); // ~70: flushers did meet held rq locks
    expect(m.oracle.count('stale-translation')).toBe(0);
  });
});
