import { resolveMachine } from '../lib/machine/resolve';
import type { Violation, ViolationKind } from '../tlb/check/oracle';
import { STRATEGIES } from '../tlb/strategies/index';
import type { StrategyFactory } from '../tlb/strategies/strategy';
import { isHostTimeout, runAllOutcomes, type Progress, type RunOutcome } from './experiment/pool';
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

/**
 * Where a strategy's own path needs a bigger machine than the default. invlpgb's broadcast (AMD
 * only) and intel-rar's RAR flush go only to an mm with a global ASID, which it gets once it runs
 * on 4 or more CPUs and a flush comes from a thread whose pid matches jiffies mod 32
 * (consider_global_asid): 32 CPUs put explore-mix's flusher at pid 32, and `spread` = 4 runs mm A
 * on 4 CPUs. About one seed in three then reaches a global ASID (on the default machine, none).
 * mc-shootdown's multicast needs several LLC domains at different distances, or its aggregators
 * and the NUMA order never run: the Multikernel's Opteron shape, 4 dies x 2 cores, mm A on 5.
 */
export const EXPLORE_MACHINES: Readonly<Record<string, { machine: string; params: readonly string[]; workloadParams: Readonly<Record<string, string>> }>> = Object.freeze({
  invlpgb: { machine: 'zen3-1s', params: ['ccxPerSocket=4', 'coresPerCcx=8', 'threadsPerCore=1'], workloadParams: { spread: '4' } },
  'intel-rar': { machine: 'skylake-sp-2s', params: ['sockets=2', 'coresPerCcx=16', 'threadsPerCore=1'], workloadParams: { spread: '4' } },
  'mc-shootdown': { machine: 'opteron-8x4', params: ['sockets=4', 'coresPerCcx=2'], workloadParams: { spread: '5' } },
});

/** The run configuration of the default exploration of `strategy` (seed filled in per run). */
export function exploreConfig(strategy: string): RunConfig {
  const base = strategy.split(':')[0]; // a strategy with options (mc-shootdown:protocol=unicast) explores on its own machine
  const own = Object.prototype.hasOwnProperty.call(EXPLORE_MACHINES, base) ? EXPLORE_MACHINES[base] : undefined;
  const params = Object.fromEntries((own?.params ?? EXPLORE_DEFAULTS.params).map((p) => p.split('=')));
  const machine = resolveMachine(own?.machine ?? EXPLORE_DEFAULTS.machine, params);
  return {
    machine,
    params,
    strategy,
    workload: EXPLORE_DEFAULTS.workload,
    workloadParams: { ...own?.workloadParams },
    cycles: Math.round(EXPLORE_DEFAULTS.ms * machine.params.clockGhz * 1e6),
    warmupCycles: 0,
    seed: '1',
    strategyOptions: {},
    perturb: true,
  };
}

/** What exploration reports: a violation kind, or a run stopped at its host wall-clock budget. */
export type FindingKind = ViolationKind | 'host-timeout';

/** The first violation of a kind (and, for a lockup, of its watchdog), with its seed and how many there were. */
export type Finding = Omit<Violation, 'kind'> & { kind: FindingKind; seed: string; count: number };

export interface ExploreReport {
  strategy: string;
  runs: number;
  firstSeed: number;
  /** Violations per kind over all runs; `host-timeout`: runs stopped at their host budget. */
  counts: Partial<Record<FindingKind, number>>;
  /** The first violation of each kind (each lockup watchdog apart), with the seed that produced it, in seed order. */
  first: Finding[];
}

/** The perturbed run of each seed, firstSeed, firstSeed + 1, ... */
function seedConfigs(base: RunConfig, seeds: number, firstSeed: number): RunConfig[] {
  return Array.from({ length: seeds }, (_, i) => ({ ...base, seed: String(firstSeed + i), perturb: true }));
}

/**
 * Each distinct violation kind once (its first seed; a lockup once per watchdog), and the count
 * of each, in seed order. A run stopped at its host budget is a `host-timeout` with its reproducer.
 */
function report(base: RunConfig, firstSeed: number, results: readonly RunOutcome[]): ExploreReport {
  const counts: Partial<Record<FindingKind, number>> = {};
  const first = new Map<string, Finding>();
  const note = (key: string, v: Omit<Finding, 'count'>) => {
    counts[v.kind] = (counts[v.kind] ?? 0) + 1;
    const f = first.get(key);
    if (f === undefined) first.set(key, { ...v, count: 1 });
    else f.count++;
  };
  for (const r of results) {
    if (isHostTimeout(r)) {
      const detail = `the run was still going after ${r.budgetMs / 1000} s of host time (--host-timeout): its worker thread was stopped`;
      note('host-timeout', { kind: 'host-timeout', cpu: -1, cycle: -1, mm: '-', page: -1, flush: null, detail, reproduce: r.reproduce, seed: r.config.seed });
      continue;
    }
    for (const v of r.violations) note(v.watchdog === undefined ? v.kind : `${v.kind} (${v.watchdog})`, { ...v, seed: r.seed });
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
 * identical to `explore`'s, since every seed's run depends on its seed alone. Each run has a host
 * wall-clock budget (`hostTimeoutMs`, else the default); given, it puts even `jobs` = 1 on a
 * worker thread, the only place a run can be stopped.
 */
export function exploreOnWorkers(base: RunConfig, seeds: number, firstSeed: number, jobs: number, progress?: Progress, hostTimeoutMs?: number): ExploreReport | Promise<ExploreReport> {
  const results = runAllOutcomes(seedConfigs(base, seeds, firstSeed), jobs, { progress, hostTimeoutMs });
  return Array.isArray(results) ? report(base, firstSeed, results) : results.then((rs) => report(base, firstSeed, rs));
}

/**
 * What exploration must find (issue #4): the naive 2016 RFC loses flushes; every 2016 variant
 * and v4.13 leave lazy CPUs on freed page tables; everything else is clean of both. No shipped
 * strategy may lock up.
 */
export const EXPLORE_TARGETS: Readonly<Record<string, Partial<Record<ViolationKind, 'found' | 'never'>>>> = Object.freeze({
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
  'intel-rar': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  latr: { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'mc-shootdown': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'mc-shootdown:notify=ipi': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'mc-shootdown:protocol=multicast': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'mc-shootdown:protocol=unicast': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'mc-shootdown:protocol=broadcast': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
  'mc-shootdown:lazy=stay': { 'stale-translation': 'never', 'freed-page-table': 'never', lockup: 'never' },
});

/** What `npm run bench:explore` explores: every shipped strategy, and the variants of those with options. */
export function exploreTargets(): string[] {
  return [...new Set([...Object.keys(STRATEGIES), ...Object.keys(EXPLORE_TARGETS)])];
}

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
  const stuck = report.counts['host-timeout'] ?? 0;
  if (stuck > 0) missed.push(`${report.strategy}: ${stuck} of ${report.runs} seeds stopped at their host time budget`);
  return missed;
}
