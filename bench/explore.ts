import { resolveMachine } from '../lib/machine/resolve';
import type { Violation, ViolationKind } from '../tlb/oracle';
import type { StrategyFactory } from '../tlb/strategy';
import { runAll, type Progress } from './experiment/pool';
import type { RunJson } from './result-json';
import { runSimulation, type RunConfig } from './runner';
import { workloadByName } from './workloads/index';
import type { Workload } from './workloads/workload';

/** The default exploration setup: a small machine (short runs, dense interleavings), 0.4 ms each. */
export const EXPLORE_DEFAULTS = {
  machine: 'skylake-sp-2s',
  params: ['sockets=1', 'coresPerCcx=4'],
  workload: 'explore-mix',
  ms: 0.4,
  /** No warm-up: violations count over the whole run anyway, and the runs are short. */
  warmupMs: 0,
} as const;

/** The run configuration of the default exploration of `strategy` (seed filled in per run). */
export function exploreConfig(strategy: string): RunConfig {
  const params = Object.fromEntries(EXPLORE_DEFAULTS.params.map((p) => p.split('=')));
  return {
    machine: EXPLORE_DEFAULTS.machine,
    params,
    strategy,
    workload: EXPLORE_DEFAULTS.workload,
    workloadParams: {},
    cycles: Math.round(EXPLORE_DEFAULTS.ms * resolveMachine(EXPLORE_DEFAULTS.machine, params).params.clockGhz * 1e6),
    warmupCycles: 0,
    seed: '1',
    strategyOptions: {},
    perturb: true,
  };
}

export interface ExploreReport {
  strategy: string;
  runs: number;
  firstSeed: number;
  /** Violations per kind over all runs. */
  counts: Partial<Record<ViolationKind, number>>;
  /** The first violation of each kind, with the seed that produced it. */
  first: Array<Violation & { seed: string }>;
}

/** The perturbed run of each seed, firstSeed, firstSeed + 1, ... */
function seedConfigs(base: RunConfig, seeds: number, firstSeed: number): RunConfig[] {
  return Array.from({ length: seeds }, (_, i) => ({ ...base, seed: String(firstSeed + i), perturb: true }));
}

/** Each distinct violation kind once (its first seed), and the count of each, in seed order. */
function report(base: RunConfig, firstSeed: number, results: readonly RunJson[]): ExploreReport {
  const counts: Partial<Record<ViolationKind, number>> = {};
  const first = new Map<ViolationKind, Violation & { seed: string }>();
  for (const r of results) {
    for (const v of r.violations) {
      counts[v.kind] = (counts[v.kind] ?? 0) + 1;
      if (!first.has(v.kind)) first.set(v.kind, { ...v, seed: r.seed });
    }
  }
  return { strategy: base.strategy, runs: results.length, firstSeed, counts, first: [...first.values()] };
}

/**
 * Runs `seeds` perturbed executions (seeds firstSeed, firstSeed+1, ...) of one configuration and
 * collects each distinct violation kind once.
 */
export function explore(base: RunConfig, factory: StrategyFactory, seeds: number, firstSeed: number, workload: Workload = workloadByName(base.workload)): ExploreReport {
  return report(base, firstSeed, seedConfigs(base, seeds, firstSeed).map((cfg) => runSimulation(cfg, factory, workload)));
}

/**
 * The same on `jobs` worker threads (strategy and workload by name or file path): the report is
 * identical to `explore`'s, since every seed's run depends on its seed alone.
 */
export function exploreOnWorkers(base: RunConfig, seeds: number, firstSeed: number, jobs: number, progress?: Progress): ExploreReport | Promise<ExploreReport> {
  const results = runAll(seedConfigs(base, seeds, firstSeed), jobs, { progress });
  return Array.isArray(results) ? report(base, firstSeed, results) : results.then((rs) => report(base, firstSeed, rs));
}

/**
 * What exploration must find (issue #4): the naive 2016 RFC loses flushes; every 2016 variant
 * and v4.13 leave lazy CPUs on freed page tables; everything else is clean of both. No shipped
 * strategy may lock up.
 */
export const EXPLORE_TARGETS: Readonly<Record<string, Record<ViolationKind, 'found' | 'never'>>> = Object.freeze({
  eager: { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'linux-4.8': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'rfc2016-naive': { 'stale-translation': 'found', 'freed-page-table': 'found', lockup: 'never' },
  'rfc2016-xchg': { 'stale-translation': 'never', 'freed-page-table': 'found', lockup: 'never' },
  'rfc2016-rqlock': { 'stale-translation': 'never', 'freed-page-table': 'found', lockup: 'never' },
  'linux-4.13': { 'stale-translation': 'never', 'freed-page-table': 'found', lockup: 'never' },
  'linux-4.14-pcid': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'linux-4.14': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'linux-4.20': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'linux-5.13': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'linux-6.15': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  invlpgb: { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
});

/** The targets a report misses, in words (empty when it meets them all). */
export function missedTargets(report: ExploreReport): string[] {
  const want = EXPLORE_TARGETS[report.strategy];
  if (want === undefined) return [];
  const missed: string[] = [];
  for (const kind of Object.keys(want) as ViolationKind[]) {
    const n = report.counts[kind] ?? 0;
    if (want[kind] === 'found' && n === 0) missed.push(`${report.strategy}: no ${kind} in ${report.runs} seeds`);
    if (want[kind] === 'never' && n > 0) missed.push(`${report.strategy}: ${n} ${kind} violations in ${report.runs} seeds`);
  }
  return missed;
}
