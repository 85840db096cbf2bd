import type { Sim } from '../../../lib/engine/ops';
import { resolveMachine } from '../../../lib/machine/resolve';
import type { Cpu } from '../../../cpu/cpu';
import type { KernelOps } from '../../../cpu/kernel-ops';
import { TlbMachine } from '../../../tlb/machine';
import type { Mm } from '../../../tlb/mm/mm';
import type { Strategy } from '../../../tlb/strategies/strategy';
import type { TlbOps } from '../../../tlb/hw/tlb-ops';
import { LOADED_MM_SWITCHING } from '../../../tlb/strategies/gen-common';
import { linux513 } from '../../../tlb/strategies/linux-5.13';
import { Linux615, linux615 } from '../../../tlb/strategies/linux-6.15';
import { randomized } from '../random-workload';
import { ROLES, flushScenario } from '../scenario';
import type { TlbTaskEnv } from '../../../tlb/task-env';

const { initiator, running, lazyKthread, lazyIdle, otherMm, switchedAway } = ROLES;
type Env = TlbTaskEnv;

/** linux-6.15 that records the CPUs should_flush_tlb() was asked about, and mm_cpumask(a) as each flush returns. */
class Probed extends Linux615 {
  condReads: number[] = [];
  maskAfter: number[] = [];
  protected override *shouldFlushTlb(k: KernelOps, target: number, f: number): Sim<boolean> {
    this.condReads.push(target);
    return yield* super.shouldFlushTlb(k, target, f);
  }
  override *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, freed: boolean): Sim {
    yield* super.flushTlbMmRange(k, cpu, mm, start, end, freed);
    this.maskAfter = mm.cpumask.toArray();
  }
}

/** linux-6.15 with should_flush_tlb() and the flush info callable from a test. */
class Decide extends Linux615 {
  infoOf(c: number) {
    const addr = this.info.addr(c);
    return { addr, trim: this.info.field(addr, 'trim_cpumask') };
  }
  decide(k: KernelOps, target: number, f: number): Sim<boolean> {
    return this.shouldFlushTlb(k, target, f);
  }
}

/** A broken linux-6.15 (a control): no smp_mb() where the kernel has one instead of the LOCK BTS. */
/** Without the cpumask step's `else smp_mb()` (its own hook: the lazy-return `smpMb` stays). */
class NoBarrier extends Linux615 {
  protected override *cpumaskMb(): Sim {}
}

const strategyStats = (o: Partial<Record<string, number>>) => ({
  lazyCatchUpFlushes: 0, lazyToInitMm: 0, tlbGenReadsSkipped: 0, wrongMmClears: 0, cpumaskTrims: 0, ...o,
});

describe('linux-6.15', () => {
  test('PTE-only flush: should_flush_tlb IPIs the running CPU only; the CPU that switched to b keeps its stale bit', () => {
    const s = new Probed();
    const { m, targets, cr3After, violations } = flushScenario(s);
    // Reference §6 E3: no bit is cleared at switch time, so mm_cpumask(a) = {0, 1, 2, 3, 5}.
    // should_flush_tlb: cpu2, cpu3 lazy → no; cpu5 has b loaded and no trim is due (the first
    // trim comes a second after the mm was created) → no; cpu1 has a loaded, not lazy → yes.
    expect(s.condReads).toEqual([initiator, running, lazyKthread, lazyIdle, switchedAway]);
    expect(targets).toEqual([running]);
    expect(s.maskAfter).toEqual([initiator, running, lazyKthread, lazyIdle, switchedAway]);
    expect([cr3After[lazyKthread], cr3After[lazyIdle], cr3After[otherMm], cr3After[switchedAway]]).toEqual([1, 1, 2, 2]);
    expect(m.stats.dump().strategy).toEqual(strategyStats({ lazyCatchUpFlushes: 2 }));
    expect(violations).toEqual([]);
  });

  test('freed page tables: the whole mask (stale cpu5 too); lazy CPUs go to init_mm keeping their bits, cpu5 clears its own', () => {
    const s = new Probed();
    const { m, targets, cr3After, violations } = flushScenario(s, { freedTables: true });
    // native_flush_tlb_multi: freed_tables → on_each_cpu_mask(mm_cpumask). cpu5's handler finds b
    // loaded: the wrong-mm path clears its bit. cpu2/cpu3 are lazy: switch_mm to init_mm, which
    // no longer clears a's bit (lazy mm_cpumask).
    expect(targets).toEqual([running, lazyKthread, lazyIdle, switchedAway]);
    expect(s.maskAfter).toEqual([initiator, running, lazyKthread, lazyIdle]);
    expect([cr3After[running], cr3After[lazyKthread], cr3After[lazyIdle], cr3After[switchedAway]]).toEqual([1, 0, 0, 2]);
    expect(m.stats.dump().strategy).toEqual(strategyStats({ lazyToInitMm: 2, wrongMmClears: 1 }));
    expect(violations).toEqual([]);
  });

  test('idle leave_mm (idleLeaveMm): the idle CPU is on init_mm at flush time, keeps a stale bit, and clears it on the next IPI', () => {
    const pte = flushScenario(new Probed(), { options: { idleLeaveMm: true } });
    expect(pte.targets).toEqual([running]);
    expect(pte.cr3After[lazyIdle]).toBe(0);
    const freed = new Probed();
    const r = flushScenario(freed, { freedTables: true, options: { idleLeaveMm: true } });
    expect(r.targets).toEqual([running, lazyKthread, lazyIdle, switchedAway]);
    expect(freed.maskAfter).toEqual([initiator, running, lazyKthread]);
    expect(r.m.stats.dump().strategy).toEqual(strategyStats({ lazyToInitMm: 1, wrongMmClears: 2 }));
    expect([pte.violations, r.violations]).toEqual([[], []]);
  });

  test('trim once a second: a stale CPU gets an IPI only from the first flush after next_trim_cpumask', () => {
    expect(trimScenario(linux615())).toEqual({
      // seconds: 0.1 → cpu2 runs a; 1.1 → trim: stale cpu1 too, clears its bit; 1.3 → cpu2 moved
      // to b (stale), no trim due; 2.2 → trim: cpu2 clears its bit.
      targets: [[2], [1, 2], [], [2]],
      masks: [[0, 1, 2], [0, 2], [0, 2], [0]],
      trims: 2,
      clears: 2,
    });
    // Control: v5.13 clears bits at switch time, so nothing is ever stale.
    expect(trimScenario(linux513()).targets).toEqual([[2], [2], [], []]);
  });

  test('switch path: the mm_cpumask bit is set only when clear and never cleared (v5.13: a LOCK BTS and BTR per switch)', () => {
    expect(pingPong(linux615())).toEqual({ bts: 2, btr: 0 });
    const old = pingPong(linux513());
    expect(old.bts).toBeGreaterThanOrEqual(20);
    expect(old.btr).toBeGreaterThanOrEqual(19);
  });

  test('should_flush_tlb(): lazy → no; LOADED_MM_SWITCHING or the flushed mm loaded → yes; another mm → only when trimming', () => {
    const s = new Decide();
    const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }), seed: 1, strategy: s });
    const a = m.createMm('a', 16);
    const b = m.createMm('b', 16);
    const cases: Array<[number, number, number, boolean]> = [
      // [target's loaded_mm, its is_lazy, info->trim_cpumask, expected]
      [a.id, 0, 0, true], [a.id, 1, 0, false], [LOADED_MM_SWITCHING, 0, 0, true], [LOADED_MM_SWITCHING, 1, 1, false],
      [b.id, 0, 0, false], [b.id, 0, 1, true], [b.id, 1, 1, false], [m.initMm.id, 0, 1, true],
    ];
    const got: boolean[] = [];
    m.sched.createTask('t', a, 0, function* ({ k }: Env): Sim {
      for (const [loaded, lazy, trim] of cases) {
        m.memory.poke(s.tlbState.loadedMm(1), loaded);
        m.memory.poke(s.tlbState.isLazy(1), lazy);
        const f = s.infoOf(0);
        m.memory.poke(f.addr, a.id);
        m.memory.poke(f.trim, trim);
        got.push(yield* s.decide(k, 1, f.addr));
      }
    });
    m.sched.start();
    m.engine.run({ maxCycles: 1e7 });
    expect(got).toEqual(cases.map((c) => c[3]));
  });

  test('switch ordering: with the bit already set, the smp_mb() after loaded_mm = LOADED_MM_SWITCHING is what keeps flushes from being lost', () => {
    // cpu1 alternates between threads of a and b (sched_yield), so its bit in mm_cpumask(a) stays
    // set and every switch to a takes the smp_mb() branch; cpu0 keeps flushing page 0 of a; store
    // drains are delayed up to 5000 cycles. Without the barrier the SWITCHING store can sit in
    // the store buffer while the switcher reads the old tlb_gen and reuses its ASID unflushed,
    // while the flusher reads loaded_mm = b and skips it.
    let withBarrier = 0;
    let without = 0;
    for (let seed = 1; seed <= 10; seed++) {
      withBarrier += switchRace(new Linux615(), seed).oracle.count('stale-translation');
      const m = switchRace(new NoBarrier(), seed);
      without += m.oracle.count('stale-translation');
      expect(m.sched.switches.fromIdle.value).toBe(2); // only the boot: no return from lazy mode, whose smp_mb() is the other one
    }
    expect(withBarrier).toBe(0);
    expect(without).toBeGreaterThan(0);
  });

  test('randomized: 30 seeds with perturbed timing and no violation', () => {
    let clears = 0;
    randomized(linux615, { onRun: (m) => { clears += (m.stats.dump().strategy as { wrongMmClears: number }).wrongMmClears; } });
    expect(clears).toBeGreaterThan(0); // stale bits met flush IPIs
  });
});

/**
 * skylake-sp-2s, 4 CPUs, 2.5e9 cycles a second. cpu0 (a thread of `a`) flushes page 0 at 0.1,
 * 1.1, 1.3 and 2.2 s. cpu1: a thread of `a` touches pages and hands over to a thread of `b`.
 * cpu2: a thread of `a` runs until 1.2 s, then a thread of `b`; cpu3 a thread of `c`. Returns each flush's IPI targets,
 * mm_cpumask(a) after each flush, and the trim and wrong-mm counts.
 */
function trimScenario(strategy: Strategy) {
  const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 4 }), seed: 1, strategy });
  const a = m.createMm('a', 64);
  const b = m.createMm('b', 64);
  const sec = m.config.params.clockGhz * 1e9;
  const targets: number[][] = [];
  const masks: number[][] = [];
  let flushing = false;
  m.cpu.apic.ipiSent.attach((from, to) => {
    if (flushing && from === 0) targets[targets.length - 1].push(to);
  });
  const now = () => m.engine.now;
  m.sched.createTask('a0', a, 0, function* ({ k, task, sched }: Env): Sim {
    yield* sched.touch(task, 0, true);
    for (const t of [0.1, 1.1, 1.3, 2.2]) {
      yield k.compute(Math.round(t * sec) - now());
      targets.push([]);
      flushing = true;
      yield* m.mapping.madviseDontneed(k, sched.cpuOf(task), a, 0, 1);
      flushing = false;
      masks.push(a.cpumask.toArray());
      yield* sched.touch(task, 0, true);
    }
  });
  const compute = (until: number) => function* ({ k, task, sched }: Env): Sim {
    yield* sched.touch(task, 0, true);
    yield k.compute(Math.round(until * sec) - now());
  };
  // cpu1: a1 touches and exits; b1, queued behind it, takes over. No CPU is ever idle (cpu3 runs
  // a thread of `c`), so no wake-up or idle balance moves a task.
  m.sched.createTask('a1', a, 1, function* ({ task, sched }: Env): Sim {
    for (let p = 0; p < 4; p++) yield* sched.touch(task, p, true);
  });
  m.sched.createTask('b1', b, 1, compute(2.5));
  // cpu2: a2 runs until 1.2 s, then forks b2 onto its own CPU and exits.
  m.sched.createTask('a2', a, 2, function* (env: Env): Sim {
    yield* compute(1.2)(env);
    yield* env.sched.spawnTask(env.task, 'b2', b, 2, compute(2.5));
  });
  m.sched.createTask('c3', m.createMm('c', 16), 3, compute(2.5));
  m.sched.start();
  m.engine.run({ maxCycles: 3 * sec });
  expect(m.oracle.violations).toEqual([]);
  const st = m.stats.dump().strategy as Record<string, number>;
  return { targets: targets.map((t) => t.sort()), masks, trims: st.cpumaskTrims, clears: st.wrongMmClears };
}

/** cpu0 flushes page 0 of `a` 300 times; cpu1 alternates threads of `a` and `b` (sched_yield); timing perturbed. */
function switchRace(strategy: Strategy, seed: number): TlbMachine {
  const m = new TlbMachine({
    config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }),
    seed,
    strategy,
    perturb: { transferMax: 300, drainMax: 5000 },
  });
  const a = m.createMm('a', 64);
  const b = m.createMm('b', 64);
  const rng = m.rng.stream('test.race');
  m.sched.createTask('flusher', a, 0, function* ({ k, task, sched }: Env): Sim {
    for (let i = 0; i < 300; i++) {
      for (let p = 0; p < 4; p++) yield* sched.touch(task, p, true);
      yield k.compute(rng.range(0, 2000));
      yield* m.mapping.madviseDontneed(k, sched.cpuOf(task), a, 0, 1);
    }
  });
  for (const mm of [a, b]) {
    m.sched.createTask(`${mm.name}1`, mm, 1, function* ({ k, task, sched }: Env): Sim {
      for (let i = 0; i < 300; i++) {
        for (let p = 0; p < 4; p++) yield* sched.touch(task, p, false);
        yield k.compute(rng.range(0, 500));
        yield* sched.yieldCpu(task);
      }
    });
  }
  m.sched.start();
  m.engine.run({ maxCycles: 1e9 });
  return m;
}

/** Threads of `a` and `b` take turns on cpu0 (sched_yield, 10 times each): the locked RMWs on their mm_cpumask words. */
function pingPong(strategy: Strategy) {
  const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }), seed: 1, strategy });
  const mms = [m.createMm('a', 16), m.createMm('b', 16)];
  const words = new Set(mms.map((x) => x.cpumask.wordAddr(0)));
  const r = { bts: 0, btr: 0 };
  const bts = m.k.lockBts.bind(m.k);
  const btr = m.k.lockBtr.bind(m.k);
  m.k.lockBts = (addr: number, bit: number) => { if (words.has(addr)) r.bts++; return bts(addr, bit); };
  m.k.lockBtr = (addr: number, bit: number) => { if (words.has(addr)) r.btr++; return btr(addr, bit); };
  for (const mm of mms) {
    m.sched.createTask(mm.name, mm, 0, function* ({ task, sched }: Env): Sim {
      for (let i = 0; i < 10; i++) {
        yield* sched.touch(task, i, true);
        yield* sched.yieldCpu(task);
      }
    });
  }
  m.sched.start();
  m.engine.run({ maxCycles: 1e8 });
  expect(m.sched.switches.differentMm.value).toBeGreaterThanOrEqual(19);
  return r;
}
