import type { Sim } from '../../../lib/engine/ops';
import { resolveMachine } from '../../../lib/machine/resolve';
import { TlbMachine } from '../../../tlb/machine';
import type { Strategy, StrategyOptions } from '../../../tlb/strategies/strategy';
import { Linux414, linux414, linux414Pcid } from '../../../tlb/strategies/linux-4.14';
import { ROLES, flushScenario } from '../scenario';
import { randomized } from '../random-workload';
import type { TlbTaskEnv } from '../../../tlb/task-env';

const { running, lazyKthread, lazyIdle } = ROLES;

describe('linux-4.14 (no PCID: is_lazy, one flush IPI per lazy period)', () => {
  test.each([false, true])('freedTables=%s: lazy CPUs stay in the mask, get the IPI and drop to init_mm', (freedTables) => {
    const { m, targets, cr3After, violations } = flushScenario(linux414(), { freedTables });
    // cpu2 and cpu3 kept their bits while lazy, so smp_call_function_many reaches them; their
    // handlers find is_lazy and switch_mm_irqs_off(NULL, &init_mm), clearing the bit. cpu5 left a
    // when it switched to b; cpu4 never ran a.
    expect(targets).toEqual([running, lazyKthread, lazyIdle]);
    expect(cr3After[lazyKthread]).toBe(0);
    expect(cr3After[lazyIdle]).toBe(0);
    expect(cr3After[running]).toBe(1);
    expect(m.stats.dump().strategy).toEqual({ lazyCatchUpFlushes: 0, lazyToInitMm: 2 });
    expect(violations).toEqual([]);
  });

  test('a lazy CPU gets one IPI per lazy period: the second flush finds it gone from the mask', () => {
    expect(twoFlushes(linux414())).toEqual({ targets: [[1], []], cr3AfterFirst: 0 });
  });

  test('cpu_tlbstate layout (v4.14): is_lazy on line 0 with loaded_mm, the ASIDs, cr4 and ctxs[0..1]', () => {
    const s = new Linux414(false);
    new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }), seed: 1, strategy: s });
    const t = s.tlbState.s;
    for (const f of ['loaded_mm', 'loaded_mm_asid', 'next_asid', 'is_lazy', 'cr4', 'ctxs[0].tlb_gen', 'ctxs[1].tlb_gen']) expect([f, t.lineOf(f)]).toEqual([f, 0]);
    // ctxs[] starts at byte 24, so ctxs[2] straddles the two lines, as in the kernel.
    expect([t.lineOf('ctxs[2].ctx_id'), t.lineOf('ctxs[2].tlb_gen'), t.lineOf('ctxs[5].tlb_gen')]).toEqual([0, 1, 1]);
    expect(t.size).toBe(128);
  });

  test('randomized: 30 seeds with perturbed timing and no violation (beyond the oracle\'s mid-switch window)', () => {
    randomized(linux414);
  });
});

describe('linux-4.14-pcid (lazy entry switches to init_mm at once)', () => {
  test.each([false, true])('freedTables=%s: only the running CPU gets an IPI; CPUs 2 and 3 are already on init_mm', (freedTables) => {
    const { m, targets, cr3After, violations } = flushScenario(linux414Pcid(), { freedTables });
    expect(targets).toEqual([running]);
    expect(cr3After[lazyKthread]).toBe(0);
    expect(cr3After[lazyIdle]).toBe(0);
    // Nobody was moved by a flush: they switched to init_mm when they went lazy.
    expect(m.stats.dump().strategy).toEqual({ lazyCatchUpFlushes: 0, lazyToInitMm: 0 });
    expect(violations).toEqual([]);
  });

  test('sleep and return: init_mm on PCID 0 meanwhile, then the mm\'s slot again with a NOFLUSH CR3 write', () => {
    // PCID 0 is init_mm's slot from boot; the mm got slot 1. Both switches keep the TLB: the
    // re-touches all hit.
    expect(sleepAndReturn(linux414Pcid())).toEqual({ cr3Asleep: [0, 0], cr3After: [1, 1], flushes: 0, retouchMisses: 0 });
  });

  test('without PCID the same kernel is lazy instead (tlb_defer_switch_to_init_mm)', () => {
    expect(sleepAndReturn(linux414Pcid(), { pcid: false })).toEqual({ cr3Asleep: [1, 0], cr3After: [1, 0], flushes: 0, retouchMisses: 0 });
    expect(sleepAndReturn(linux414())).toEqual({ cr3Asleep: [1, 0], cr3After: [1, 0], flushes: 0, retouchMisses: 0 });
    expect(twoFlushes(linux414Pcid())).toEqual({ targets: [[], []], cr3AfterFirst: 0 });
  });

  test('randomized: 30 seeds with perturbed timing and no violation (beyond the oracle\'s mid-switch window)', () => {
    randomized(linux414Pcid);
  });
});

/**
 * cpu0 runs a thread of `a` that flushes pages 0..3, then 4..7; cpu1 ran a thread of `a` and is
 * idle (lazy) during both. Returns the IPI targets of each flush and cpu1's CR3 after the first.
 */
function twoFlushes(strategy: Strategy) {
  const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 4 }), seed: 1, strategy });
  const a = m.createMm('a', 64);
  const targets: number[][] = [];
  let cr3AfterFirst = -1;
  let flushing = -1;
  m.cpu.apic.ipiSent.attach((from, to) => {
    if (flushing >= 0 && from === 0) targets[flushing].push(to);
  });
  m.sched.createTask('a0', a, 0, function* ({ k, task, sched }: TlbTaskEnv): Sim {
    for (let p = 0; p < 8; p++) yield* sched.touch(task, p, true);
    yield k.compute(200_000);
    for (const [i, lo] of [0, 4].entries()) {
      targets.push([]);
      flushing = i;
      yield* m.mapping.madviseDontneed(k, sched.cpuOf(task), a, lo, lo + 4);
      flushing = -1;
      if (i === 0) cr3AfterFirst = m.unit.cr3Mm[1];
      yield k.compute(50_000);
    }
  });
  m.sched.createTask('a1', a, 1, function* ({ task, sched }: TlbTaskEnv): Sim {
    for (let p = 0; p < 8; p++) yield* sched.touch(task, p, true);
    yield* sched.sleepFor(task, 600_000);
  });
  m.sched.start();
  m.engine.run({ maxCycles: 1e8 });
  expect(m.oracle.violations).toEqual([]);
  return { targets, cr3AfterFirst };
}

/**
 * A thread of `a` touches pages 0..7, sleeps (its CPU idles), and touches them again; nothing
 * changes `a` meanwhile. Returns its CPU's CR3 (mm, PCID) while it sleeps and after, the TLB
 * flushes on that CPU across the sleep, and the STLB misses of the second round.
 */
function sleepAndReturn(strategy: Strategy, options?: Partial<StrategyOptions>) {
  const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }), seed: 1, strategy, strategyOptions: options });
  const a = m.createMm('a', 64);
  const u = m.unit;
  const r = { cr3Asleep: [-1, -1], cr3After: [-1, -1], flushes: -1, retouchMisses: -1 };
  m.sched.createTask('a0', a, 0, function* ({ task, sched }: TlbTaskEnv): Sim {
    for (let p = 0; p < 8; p++) yield* sched.touch(task, p, true);
    const t = u.tlbs[sched.cpuOf(task).id];
    const flushes = () => t.asidFlushes.value + t.fullFlushes.value + t.invlpgs.value;
    const f0 = flushes();
    yield* sched.sleepFor(task, 1_000_000);
    r.flushes = flushes() - f0;
    const m0 = t.stlbMisses.value;
    for (let p = 0; p < 8; p++) yield* sched.touch(task, p, true);
    r.retouchMisses = t.stlbMisses.value - m0;
    const c = sched.cpuOf(task).id;
    r.cr3After = [u.cr3Mm[c], u.cr3Asid[c]];
  });
  m.sched.createTask('observer', null, 1, function* ({ k }: TlbTaskEnv): Sim {
    yield k.compute(500_000); // a0 is asleep by then (its 8 faults take ~30,000 cycles)
    r.cr3Asleep = [u.cr3Mm[0], u.cr3Asid[0]];
  });
  m.sched.start();
  m.engine.run({ maxCycles: 1e8 });
  expect(m.oracle.violations).toEqual([]);
  return r;
}
