import type { Violation, ViolationKind } from '../tlb/oracle';
import type { StrategyFactory } from '../tlb/strategy';
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
  return {
    machine: EXPLORE_DEFAULTS.machine,
    params: Object.fromEntries(EXPLORE_DEFAULTS.params.map((p) => p.split('='))),
    strategy,
    workload: EXPLORE_DEFAULTS.workload,
    workloadParams: {},
    cycles: Math.round(EXPLORE_DEFAULTS.ms * 2.5e6), // skylake-sp-2s runs at 2.5 GHz
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

/**
 * Runs `seeds` perturbed executions (seeds firstSeed, firstSeed+1, ...) of one configuration and
 * collects each distinct violation kind once.
 */
export function explore(base: RunConfig, factory: StrategyFactory, seeds: number, firstSeed: number, workload: Workload = workloadByName(base.workload)): ExploreReport {
  const counts: Partial<Record<ViolationKind, number>> = {};
  const first = new Map<ViolationKind, Violation & { seed: string }>();
  for (let i = 0; i < seeds; i++) {
    const seed = String(firstSeed + i);
    const r = runSimulation({ ...base, seed, perturb: true }, factory, workload);
    for (const v of r.violations) {
      counts[v.kind] = (counts[v.kind] ?? 0) + 1;
      if (!first.has(v.kind)) first.set(v.kind, { ...v, seed });
    }
  }
  return { strategy: base.strategy, runs: seeds, firstSeed, counts, first: [...first.values()] };
}

/**
 * What exploration must find (issue #4): the naive 2016 RFC loses flushes; every 2016 variant
 * and v4.13 leave lazy CPUs on freed page tables; everything else is clean of both.
 */
export const EXPLORE_TARGETS: Readonly<Record<string, Record<ViolationKind, 'found' | 'never'>>> = Object.freeze({
  eager: { 'stale-translation': 'never', 'freed-page-table': 'never' },
  'linux-4.8': { 'stale-translation': 'never', 'freed-page-table': 'never' },
  'rfc2016-naive': { 'stale-translation': 'found', 'freed-page-table': 'found' },
  'rfc2016-xchg': { 'stale-translation': 'never', 'freed-page-table': 'found' },
  'rfc2016-rqlock': { 'stale-translation': 'never', 'freed-page-table': 'found' },
  'linux-4.13': { 'stale-translation': 'never', 'freed-page-table': 'found' },
  'linux-4.14-pcid': { 'stale-translation': 'never', 'freed-page-table': 'never' },
  'linux-4.14': { 'stale-translation': 'never', 'freed-page-table': 'never' },
  'linux-4.20': { 'stale-translation': 'never', 'freed-page-table': 'never' },
  'linux-5.13': { 'stale-translation': 'never', 'freed-page-table': 'never' },
  'linux-6.15': { 'stale-translation': 'never', 'freed-page-table': 'never' },
  invlpgb: { 'stale-translation': 'never', 'freed-page-table': 'never' },
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
