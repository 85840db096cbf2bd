import * as path from 'path';
import type { Sim } from '../lib/engine/ops';
import type { Cpu } from '../cpu/cpu';
import type { Mm } from '../tlb/mm/mm';
import type { TlbOps } from '../tlb/hw/tlb-ops';
import type { ViolationKind } from '../tlb/check/oracle';
import type { StrategyFactory } from '../tlb/strategies/strategy';
import { flushTlbLocalRange } from '../tlb/strategies/common';
import { STRATEGIES } from '../tlb/strategies/index';
import { IntelRar } from '../tlb/strategies/intel-rar';
import { Invlpgb } from '../tlb/strategies/invlpgb';
import { Linux413 } from '../tlb/strategies/linux-4.13';
import { Linux420 } from '../tlb/strategies/linux-4.20';
import { Linux48 } from '../tlb/strategies/linux-4.8';
import { Linux615 } from '../tlb/strategies/linux-6.15';
import { loadStrategy } from './cli/load-strategy';

/**
 * Every bug example the search is measured on (issue #11): the README's no-mb example, the
 * shipped strategies exploration must catch, and the broken controls of the tests, rebuilt here
 * with the same overrides (each names the test it comes from) so the bench can explore them.
 */
export interface BugExample {
  /** The strategy's label in the tables (and in its reproducers). */
  name: string;
  /** The violation kind that counts as found (a lockup by any watchdog). */
  kind: ViolationKind;
  /** Where the bug comes from. */
  source: string;
  factory: () => StrategyFactory;
  /** The shipped strategy whose exploration machine it runs on (EXPLORE_MACHINES), if not the default. */
  exploresAs?: string;
}

/** tests/tlb/oracle.test.ts: v4.8 that only ever flushes the initiating CPU. */
class LocalOnly extends Linux48 {
  override readonly name = 'local-only';
  override *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number): Sim {
    if (this.current(cpu.id).mm === mm) yield* flushTlbLocalRange(this.ctx, k, cpu, start, end);
  }
}

/** tests/tlb/strategies/linux-4.13.test.ts: back from lazy mode, the CPU believes its TLB is current. */
class Linux413NoCatchUp extends Linux413 {
  override readonly name = 'linux-4.13-no-catch-up';
  override *switchMmIrqsOff(k: TlbOps, cpu: Cpu, prev: Mm | null, next: Mm): Sim {
    this.ctx.memory.poke(this.ts.ctxTlbGen(cpu.id, 0), this.ctx.memory.peek(next.tlbGenAddr));
    yield* super.switchMmIrqsOff(k, cpu, prev, next);
  }
}

/** tests/tlb/strategies/linux-4.20.test.ts: back from lazy mode, the CPU believes its ASID is current. */
class Linux420NoCatchUp extends Linux420 {
  override readonly name = 'linux-4.20-no-catch-up';
  override *switchMmIrqsOff(k: TlbOps, cpu: Cpu, prev: Mm | null, next: Mm): Sim {
    const mem = this.ctx.memory;
    const asid = mem.peek(this.ts.s.addr(cpu.id, 'loaded_mm_asid')) % 65536;
    if (mem.peek(this.ts.loadedMm(cpu.id)) === next.id) mem.poke(this.ts.ctxTlbGen(cpu.id, asid), mem.peek(next.tlbGenAddr));
    yield* super.switchMmIrqsOff(k, cpu, prev, next);
  }
}

/** tests/tlb/strategies/linux-4.20.test.ts: freed_tables ignored, so lazy CPUs are skipped then too. */
class Linux420IgnoresFreedTables extends Linux420 {
  override readonly name = 'linux-4.20-ignores-freed-tables';
  protected override *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, f: number): Sim {
    yield* super.flushTlbOthers(k, cpu, mm, f, false);
  }
}

/** tests/bench/lockup.test.ts (smp-mb-strategy.ts): an smp_mb() that never finishes. */
class Linux420SpinMb extends Linux420 {
  override readonly name = 'linux-4.20-spin-mb';
  protected override *smpMb(k: TlbOps): Sim {
    for (;;) yield k.delay(10);
  }
}

/** tests/tlb/strategies/linux-6.15.test.ts: no smp_mb() where 6.15 has one instead of the LOCK BTS. */
class Linux615NoCpumaskMb extends Linux615 {
  override readonly name = 'linux-6.15-no-cpumask-mb';
  protected override *cpumaskMb(): Sim {}
}

/** tests/tlb/strategies/invlpgb.test.ts: the ASID transition never finishes (sampling every flush, as that test's runs do). */
class InvlpgbNoTransition extends Invlpgb {
  override readonly name = 'invlpgb-no-transition';
  protected override sampled(_cpu: Cpu): boolean {
    return true;
  }
  protected override *finishAsidTransition(): Sim {}
}

/** tests/tlb/strategies/intel-rar.test.ts: the initiator returns before its targets report completion. */
class IntelRarNoWait extends IntelRar {
  override readonly name = 'intel-rar-no-wait';
  protected override sampled(_cpu: Cpu): boolean {
    return true;
  }
  protected override *waitForCompletion(): Sim {}
}

const of = (make: StrategyFactory): (() => StrategyFactory) => () => make;

/** The README's example, loaded as `--strategy examples/linux-4.20-no-mb.ts` loads it. */
export const NO_MB_EXAMPLE = path.join('examples', 'linux-4.20-no-mb.ts');

export const BUG_EXAMPLES: readonly BugExample[] = [
  { name: NO_MB_EXAMPLE, kind: 'stale-translation', source: 'README: smp_mb() removed from 4.20\'s lazy return', factory: () => loadStrategy(NO_MB_EXAMPLE) },
  { name: 'rfc2016-naive', kind: 'stale-translation', source: 'shipped: the 2016 RFC\'s naive race', factory: () => STRATEGIES['rfc2016-naive'] },
  ...(['rfc2016-naive', 'rfc2016-xchg', 'rfc2016-rqlock', 'linux-4.13'] as const).map((s): BugExample => (
    { name: s, kind: 'freed-page-table', source: 'shipped: lazy CPUs left on freed page tables', factory: () => STRATEGIES[s] })),
  { name: 'local-only', kind: 'stale-translation', source: 'tests/tlb/oracle.test.ts', factory: of(() => new LocalOnly()) },
  { name: 'linux-4.13-no-catch-up', kind: 'stale-translation', source: 'tests/tlb/strategies/linux-4.13.test.ts', factory: of(() => new Linux413NoCatchUp()) },
  { name: 'linux-4.20-no-catch-up', kind: 'stale-translation', source: 'tests/tlb/strategies/linux-4.20.test.ts', factory: of(() => new Linux420NoCatchUp()) },
  { name: 'linux-4.20-ignores-freed-tables', kind: 'freed-page-table', source: 'tests/tlb/strategies/linux-4.20.test.ts', factory: of(() => new Linux420IgnoresFreedTables()) },
  { name: 'linux-4.20-spin-mb', kind: 'lockup', source: 'tests/bench/lockup.test.ts', factory: of(() => new Linux420SpinMb()) },
  { name: 'linux-6.15-no-cpumask-mb', kind: 'stale-translation', source: 'tests/tlb/strategies/linux-6.15.test.ts', factory: of(() => new Linux615NoCpumaskMb()) },
  { name: 'invlpgb-no-transition', kind: 'stale-translation', source: 'tests/tlb/strategies/invlpgb.test.ts', factory: of(() => new InvlpgbNoTransition()), exploresAs: 'invlpgb' },
  { name: 'intel-rar-no-wait', kind: 'stale-translation', source: 'tests/tlb/strategies/intel-rar.test.ts', factory: of(() => new IntelRarNoWait()), exploresAs: 'intel-rar' },
];
