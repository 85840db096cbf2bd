import { EXPLORE_DEFAULTS, explore } from '../explore';
import { loadWorkload } from '../workloads/index';
import { loadStrategy } from './load-strategy';
import { runConfig, type SimOptions } from './sim-options';

/**
 * `lazytlb explore`: many seeded executions with timing perturbation (delays before memory
 * operations, store-buffer drain jitter, transfer jitter, IPI delivery jitter). Prints each
 * distinct violation kind once with its reproducer; exit status 1 if any was found.
 */
export function exploreCommand(o: SimOptions & { strategy: string; seeds: number }, out: (s: string) => void): number {
  const base = Number.isSafeInteger(Number(o.seed)) ? Number(o.seed) : 1;
  const workload = loadWorkload(o.workload);
  const cfg = runConfig(o.strategy, { ...o, seed: String(base) }, workload, EXPLORE_DEFAULTS.ms, EXPLORE_DEFAULTS.warmupMs);
  const report = explore(cfg, loadStrategy(o.strategy), o.seeds, base, workload);
  if (o.json === true) {
    out(JSON.stringify({ strategy: o.strategy, workload: o.workload, seeds: report.runs, firstSeed: base, counts: report.counts, violations: report.first }, null, 2));
  } else {
    out(`${o.strategy}: ${report.runs} seeded runs of ${o.workload} (seeds ${base}..${base + report.runs - 1}) with timing perturbation`);
    if (report.first.length === 0) out('  no violation');
    for (const v of report.first) {
      out(`  ${v.kind}: first at seed ${v.seed}, cpu${v.cpu}, cycle ${v.cycle}, mm ${v.mm}${v.page >= 0 ? `, page ${v.page}` : ''} (${report.counts[v.kind]} violation${report.counts[v.kind] === 1 ? '' : 's'} in all)`);
      out(`    ${v.detail}`);
      out(`    reproduce: ${v.reproduce}`);
    }
  }
  return report.first.length > 0 ? 1 : 0;
}
