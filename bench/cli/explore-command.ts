import type { Violation } from '../../tlb/oracle';
import { runSimulation } from '../runner';
import { loadStrategy } from './load-strategy';
import { runConfig, type SimOptions } from './sim-options';

export const EXPLORE_DEFAULT_MS = 0.4;

/**
 * `lazytlb explore`: many seeded executions with timing perturbation (delays before memory
 * operations, store-buffer drain jitter, transfer jitter, IPI delivery jitter). Prints each
 * distinct violation kind once with its reproducer; exit status 1 if any was found.
 */
export function exploreCommand(o: SimOptions & { strategy: string; seeds: number }, out: (s: string) => void): number {
  const factory = loadStrategy(o.strategy);
  const first = new Map<string, { seed: string; violation: Violation }>();
  const counts = new Map<string, number>();
  let runs = 0;
  const base = Number.isSafeInteger(Number(o.seed)) ? Number(o.seed) : 1;
  for (let i = 0; i < o.seeds; i++) {
    const seed = String(base + i);
    const r = runSimulation(runConfig(o.strategy, { ...o, seed, perturb: true }, EXPLORE_DEFAULT_MS), factory);
    runs++;
    for (const v of r.violations) {
      counts.set(v.kind, (counts.get(v.kind) ?? 0) + 1);
      if (!first.has(v.kind)) first.set(v.kind, { seed, violation: v });
    }
  }
  const violations = [...first.values()].map(({ seed, violation }) => ({ ...violation, seed, runsWithKind: counts.get(violation.kind) }));
  if (o.json === true) {
    out(JSON.stringify({ strategy: o.strategy, workload: o.workload, seeds: runs, firstSeed: base, violations }, null, 2));
  } else {
    out(`${o.strategy}: ${runs} seeded runs of ${o.workload} (seeds ${base}..${base + runs - 1}) with timing perturbation`);
    if (violations.length === 0) out('  no violation');
    for (const v of violations) {
      out(`  ${v.kind}: first at seed ${v.seed}, cpu${v.cpu}, cycle ${v.cycle}, mm ${v.mm}${v.page >= 0 ? `, page ${v.page}` : ''} (${v.runsWithKind} violations in all)`);
      out(`    ${v.detail}`);
      out(`    reproduce: ${v.reproduce}`);
    }
  }
  return violations.length > 0 ? 1 : 0;
}
