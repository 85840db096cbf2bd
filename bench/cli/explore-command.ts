import { ConfigError } from '../../lib/errors';
import { describeSearch, type SearchConfig } from '../search';
import { EXPLORE_DEFAULTS, exploreOnWorkers, type ExploreReport } from '../explore';
import { loadWorkload } from '../workloads/index';
import { loadStrategy } from './load-strategy';
import { progressBar } from './progress-bar';
import { runConfig, type SimOptions } from './sim-options';

/**
 * `lazytlb explore`: many seeded executions with timing perturbation (delays before memory
 * operations, store-buffer drain jitter, transfer jitter, IPI delivery jitter). Prints each
 * distinct violation kind once (a lockup once per watchdog) with its reproducer, and each seed
 * stopped at its host time budget as a `host-timeout`; exit status 1 if any was found.
 */
export function exploreCommand(o: SimOptions & { strategy: string; seeds: number; jobs: number; hostTimeout?: number }, out: (s: string) => void): number | Promise<number> {
  // Exploration walks consecutive seeds from --seed: it must be a whole number.
  if (!/^\d+$/.test(o.seed)) throw new ConfigError(`--seed '${o.seed}': explore counts seeds up from it, so it must be a whole number`);
  const base = Number(o.seed);
  const workload = loadWorkload(o.workload);
  loadStrategy(o.strategy); // a bad name or file fails here, in one line
  const cfg = runConfig(o.strategy, { ...o, seed: String(base) }, workload, EXPLORE_DEFAULTS.ms, EXPLORE_DEFAULTS.warmupMs);
  const bar = progressBar(o.seeds);
  const done = (report: ExploreReport): number => {
    bar.stop();
    return print(o, base, report, out, cfg.search);
  };
  const report = exploreOnWorkers(cfg, o.seeds, base, o.jobs, bar.progress, o.hostTimeout);
  return report instanceof Promise ? report.then(done, (err: unknown) => {
    bar.stop();
    throw err;
  }) : done(report);
}

function print(o: SimOptions & { strategy: string }, base: number, report: ExploreReport, out: (s: string) => void, search?: SearchConfig): number {
  if (o.json === true) {
    out(JSON.stringify({ strategy: o.strategy, workload: o.workload, seeds: report.runs, firstSeed: base, ...(search !== undefined ? { search } : {}), counts: report.counts, violations: report.first }, null, 2));
  } else {
    out(`${o.strategy}: ${report.runs} seeded runs of ${o.workload} (seeds ${base}..${base + report.runs - 1}) with timing perturbation${describeSearch(search)}`);
    if (report.first.length === 0) out('  no violation');
    for (const v of report.first) {
      if (v.kind === 'host-timeout') out(`  host-timeout: first at seed ${v.seed} (${v.count} seed${v.count === 1 ? '' : 's'} in all)`);
      else {
        const kind = v.watchdog === undefined ? v.kind : `${v.kind} (${v.watchdog})`;
        out(`  ${kind}: first at seed ${v.seed}, cpu${v.cpu}, cycle ${v.cycle}, mm ${v.mm}${v.page >= 0 ? `, page ${v.page}` : ''} (${v.count} violation${v.count === 1 ? '' : 's'} in all)`);
      }
      out(`    ${v.detail}`);
      out(`    reproduce: ${v.reproduce}`);
    }
  }
  return report.first.length > 0 ? 1 : 0;
}
