import type { Sim } from '../../../lib/engine/ops';
import { resolveMachine } from '../../../lib/machine/resolve';
import type { Cpu } from '../../../cpu/cpu';
import type { KernelOps } from '../../../cpu/kernel-ops';
import { TlbMachine } from '../../../tlb/machine';
import type { Mm } from '../../../tlb/mm/mm';
import type { Strategy } from '../../../tlb/strategies/strategy';
import type { TlbOps } from '../../../tlb/hw/tlb-ops';
import { Linux420, linux420 } from '../../../tlb/strategies/linux-4.20';
import { ROLES, flushScenario } from '../scenario';
import { randomized } from '../random-workload';
import type { TlbTaskEnv } from '../../../tlb/task-env';

const { initiator, running, lazyKthread, lazyIdle } = ROLES;
const PAGES = [0, 1, 2, 3, 4, 5, 6, 7];

/** linux-4.20 that records the CPUs whose is_lazy the flusher read, and cpu2's TLB as each flush returns. */
class Probed extends Linux420 {
  condReads: number[] = [];
  heldAfterFlush: number[] = [];
  asidFlushesAtFlush = -1;
  override *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, freed: boolean): Sim {
    yield* super.flushTlbMmRange(k, cpu, mm, start, end, freed);
    const u = this.ctx.unit;
    this.heldAfterFlush = PAGES.filter((p) => u.tlbs[lazyKthread].stlb.lookup(u.cr3Asid[lazyKthread], p));
    this.asidFlushesAtFlush = u.tlbs[lazyKthread].asidFlushes.value;
  }
  protected override *isNotLazy(k: KernelOps, target: number): Sim<boolean> {
    this.condReads.push(target);
    return yield* super.isNotLazy(k, target);
  }
}

/** A broken linux-4.20 (a control): back from lazy mode, the CPU believes its ASID is current. */
class NoCatchUp extends Linux420 {
  override *switchMmIrqsOff(k: TlbOps, cpu: Cpu, prev: Mm | null, next: Mm): Sim {
    const mem = this.ctx.memory;
    const asid = mem.peek(this.ts.s.addr(cpu.id, 'loaded_mm_asid')) % 65536;
    if (mem.peek(this.ts.loadedMm(cpu.id)) === next.id) mem.poke(this.ts.ctxTlbGen(cpu.id, asid), mem.peek(next.tlbGenAddr));
    yield* super.switchMmIrqsOff(k, cpu, prev, next);
  }
}

/** A broken linux-4.20 (a control): freed_tables is ignored, so lazy CPUs are skipped then too. */
class IgnoresFreedTables extends Linux420 {
  protected override *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, f: number): Sim {
    yield* super.flushTlbOthers(k, cpu, mm, f, false);
  }
}

/** A broken linux-4.20 (a control): no smp_mb() between is_lazy = false and the tlb_gen read. */
class NoBarrier extends Linux420 {
  protected override *smpMb(): Sim {}
}

describe('linux-4.20', () => {
  test('PTE-only flush: the flusher reads every candidate\'s is_lazy and IPIs only the running CPU', () => {
    const s = new Probed();
    const { m, targets, cr3After, violations } = flushScenario(s);
    // mm_cpumask(a) = {0, 1, 2, 3}: lazy CPUs stay in it. on_each_cpu_cond_mask reads is_lazy
    // of each (its own included); cpu2 and cpu3 are lazy and keep CR3 on a, unflushed.
    expect(s.condReads).toEqual([initiator, running, lazyKthread, lazyIdle]);
    expect(targets).toEqual([running]);
    expect(cr3After[lazyKthread]).toBe(1);
    expect(cr3After[lazyIdle]).toBe(1);
    // Both come back to a later and flush then (tlb_gen moved while they were lazy).
    expect(m.stats.dump().strategy).toEqual({ lazyCatchUpFlushes: 2, lazyToInitMm: 0 });
    expect(violations).toEqual([]);
  });

  test('freed page tables: the whole mask gets the IPI and the lazy CPUs leave for init_mm', () => {
    const { m, targets, cr3After, violations } = flushScenario(linux420(), { freedTables: true });
    expect(targets).toEqual([running, lazyKthread, lazyIdle]);
    expect(cr3After[lazyKthread]).toBe(0);
    expect(cr3After[lazyIdle]).toBe(0);
    expect(cr3After[running]).toBe(1);
    expect(m.stats.dump().strategy).toEqual({ lazyCatchUpFlushes: 0, lazyToInitMm: 2 });
    expect(violations).toEqual([]);
  });

  test('control: ignoring freed_tables leaves the lazy CPUs on the freed tables', () => {
    const { violations } = flushScenario(new IgnoresFreedTables(), { freedTables: true });
    expect(violations.map((v) => `${v.kind}@${v.cpu}`).sort()).toEqual(['freed-page-table@2', 'freed-page-table@3']);
  });

  test('a lazy CPU that skipped the flush: smp_mb, tlb_gen compare, flush of the same ASID on return', () => {
    const s = new Probed();
    const { m, violations } = flushScenario(s);
    // When the flush returned, cpu2's TLB still held every unmapped page...
    expect(s.heldAfterFlush).toEqual(PAGES);
    // ...and the return to a flushed its ASID once (CR3 without NOFLUSH, same PCID),
    expect(m.unit.tlbs[lazyKthread].asidFlushes.value - s.asidFlushesAtFlush).toBe(1);
    // so a2's touches of pages 0..7 walked the page tables: no stale translation.
    expect(violations).toEqual([]);
  });

  test('control: without the catch-up, the returning CPUs use the stale entries and the oracle says so', () => {
    const { violations } = flushScenario(new NoCatchUp());
    const cpus = new Set(violations.filter((v) => v.kind === 'stale-translation').map((v) => v.cpu));
    expect([...cpus].sort()).toEqual([lazyKthread, lazyIdle]);
  });

  test('mid-switch race: the smp_mb() on the way back from lazy mode is what keeps flushes from being lost', () => {
    // cpu1 keeps going idle (lazy) and coming back while cpu0 keeps flushing page 0, with store
    // drains delayed up to 5000 cycles. Without the barrier the returning CPU's is_lazy = false
    // can sit in its store buffer while it reads the old tlb_gen, and the flusher, reading
    // is_lazy = true, skips it: both miss the flush.
    let withBarrier = 0;
    let without = 0;
    for (let seed = 1; seed <= 30; seed++) {
      withBarrier += lazyReturnRace(new Linux420(), seed).oracle.count('stale-translation');
      without += lazyReturnRace(new NoBarrier(), seed).oracle.count('stale-translation');
    }
    expect(withBarrier).toBe(0);
    expect(without).toBeGreaterThan(0);
  });

  test('honours the flush ceiling and the PCID option', () => {
    const tlb = (r: ReturnType<typeof flushScenario>) => r.m.unit.tlbs[running];
    // 8 pages: within the ceiling the running CPU INVLPGs each page; with a ceiling of 4 it flushes its ASID.
    const partial = flushScenario(linux420());
    const full = flushScenario(linux420(), { options: { flushCeiling: 4 } });
    expect(tlb(partial).invlpgs.value).toBe(8);
    expect([tlb(full).invlpgs.value, tlb(full).asidFlushes.value - tlb(partial).asidFlushes.value]).toEqual([0, 1]);
    // Without PCID: every CR3 write flushes everything, all on PCID 0; the IPIs are the same.
    const noPcid = flushScenario(linux420(), { options: { pcid: false } });
    expect(noPcid.targets).toEqual([running]);
    expect(Array.from(noPcid.m.unit.cr3Asid)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(noPcid.m.unit.tlbs.every((t) => t.asidFlushes.value === 0)).toBe(true);
    expect(noPcid.violations).toEqual([]);
  });

  test('cpu_tlbstate layout (v4.20): is_lazy shares line 0 with loaded_mm, the ASIDs, cr4 and ctxs[0..1]', () => {
    const s = new Linux420();
    new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }), seed: 1, strategy: s });
    const t = s.tlbState.s;
    for (const f of ['loaded_mm', 'loaded_mm_asid', 'is_lazy', 'cr4', 'ctxs[0].ctx_id', 'ctxs[1].tlb_gen']) expect([f, t.lineOf(f)]).toEqual([f, 0]);
    for (const f of ['ctxs[2].ctx_id', 'ctxs[5].tlb_gen']) expect([f, t.lineOf(f)]).toEqual([f, 1]);
    expect(t.size).toBe(128);
  });

  test('randomized: 30 seeds with perturbed timing and no violation (beyond the oracle\'s mid-switch window)', () => {
    randomized(linux420);
  });
});

/** cpu0 flushes page 0 of `a` over and over; cpu1 runs a thread of `a` that touches and naps. */
function lazyReturnRace(strategy: Strategy, seed: number): TlbMachine {
  const m = new TlbMachine({
    config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }),
    seed,
    strategy,
    perturb: { transferMax: 100, drainMax: 5000 },
  });
  const a = m.createMm('a', 64);
  const rng = m.rng.stream('test.race');
  m.sched.createTask('flusher', a, 0, function* ({ k, task, sched }: TlbTaskEnv): Sim {
    for (let i = 0; i < 300; i++) {
      for (let p = 0; p < 4; p++) yield* sched.touch(task, p, true);
      yield k.compute(rng.range(0, 3000));
      yield* m.mapping.madviseDontneed(k, sched.cpuOf(task), a, 0, 1);
    }
  });
  m.sched.createTask('returner', a, 1, function* ({ task, sched }: TlbTaskEnv): Sim {
    for (let i = 0; i < 300; i++) {
      for (let p = 0; p < 4; p++) yield* sched.touch(task, p, false);
      yield* sched.sleepFor(task, rng.range(500, 4000));
    }
  });
  m.sched.start();
  m.engine.run({ maxCycles: 1e9 });
  return m;
}
