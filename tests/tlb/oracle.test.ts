import type { Sim } from '../../lib/engine/ops';
import type { Cpu } from '../../cpu/cpu';
import type { Mm } from '../../tlb/mm/mm';
import { Linux48 } from '../../tlb/strategies/linux-4.8';
import { flushTlbLocalRange } from '../../tlb/strategies/common';
import type { TlbOps } from '../../tlb/hw/tlb-ops';
import { ROLES, flushScenario } from './scenario';

/** A deliberately broken strategy: v4.8 that only ever flushes the initiating CPU. */
class LocalOnly extends Linux48 {
  override readonly name = 'local-only';
  override *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number): Sim {
    if (this.current(cpu.id).mm === mm) yield* flushTlbLocalRange(this.ctx, k, cpu, start, end);
  }
}

describe('oracle', () => {
  test('catches a strategy that never flushes remote CPUs', () => {
    const { violations, targets } = flushScenario(new LocalOnly());
    expect(targets).toEqual([]);
    const stale = violations.filter((v) => v.kind === 'stale-translation');
    expect(stale.length).toBeGreaterThan(0);
    // cpu1 kept running mm a with the unmapped pages in its TLB and touched them again.
    const v = stale.find((x) => x.cpu === ROLES.running);
    expect(v).toBeDefined();
    expect(v?.mm).toBe('a');
    expect(v?.page).toBeGreaterThanOrEqual(0);
    expect(v?.page).toBeLessThan(8);
    expect(v?.flush?.initiator).toBe(ROLES.initiator);
    expect(v?.flush?.returnCycle).toBeLessThanOrEqual(v?.cycle ?? 0);
    expect(v?.detail).toMatch(/flush \d+ covered the change/);
  });

  test('catches freed page tables left reachable from a lazy CPU', () => {
    const { violations } = flushScenario(new LocalOnly(), { freedTables: true });
    const freed = violations.filter((v) => v.kind === 'freed-page-table');
    expect(freed.map((v) => v.cpu).sort()).toEqual(expect.arrayContaining([ROLES.lazyKthread, ROLES.lazyIdle]));
  });

  test('a correct strategy on the same scenario is clean', () => {
    expect(flushScenario(new Linux48()).violations).toEqual([]);
    expect(flushScenario(new Linux48(), { freedTables: true }).violations).toEqual([]);
  });
});
