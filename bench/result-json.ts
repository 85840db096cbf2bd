import type { HostStats } from '../lib/engine/host-clock';
import type { MachineConfig } from '../lib/machine/resolve';
import { ConfigError } from '../lib/errors';
import type { HistogramSummary } from '../lib/stats/histogram';
import { formulaMismatch } from '../lib/stats/shape';
import { VERSION } from '../lib/version';
import type { TlbMachine } from '../tlb/machine';
import type { Violation } from '../tlb/check/oracle';
import type { StrategyOptions } from '../tlb/strategies/strategy';
import type { RunConfig } from './run-config';
import type { SearchConfig } from './search';
import type { Workload } from './workloads/workload';

/** Fewer measured flushes than this and flush figures mean nothing: the result says so. */
export const MIN_FLUSHES = 30;

/** Where the flush-latency CDF is sampled (percent of flushes). */
export const CDF_PERCENTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.9, 100] as const;

type Latency = Pick<HistogramSummary, 'p50' | 'p90' | 'p99' | 'max' | 'mean'>;

/**
 * The run result: stable, documented keys (README "Result JSON"). W types the `workload`
 * section: `WorkloadStats<'memcache'>` for a shipped workload (what `simulate` returns).
 */
export interface RunJson<W = Record<string, unknown>> {
  version: string;
  seed: string;
  config: {
    machine: MachineConfig;
    strategy: string;
    strategyOptions: StrategyOptions;
    workload: string;
    workloadParams: Record<string, number | string>;
    cycles: number;
    warmupCycles: number;
    perturb: boolean;
    /** A perturbed run's search when it is not `random` (bench/search.ts); absent for random. */
    search?: SearchConfig;
  };
  /** The measured window (after the warm-up). */
  simulated: { cycles: number; seconds: number };
  ipis: { sent: number; tlbFlush: number; toLazyCpus: number; avoidedLazy: number };
  /** Latencies are null when nothing was measured, never zeros. */
  flushes: {
    count: number; local: number; remote: number; remoteDecisions: number; latencyCycles: { [K in keyof Latency]: number | null };
    /** The latency distribution as [percentile, cycles] at CDF_PERCENTILES; null without flushes. */
    latencyCdf: [number, number][] | null;
  };
  /** All switches, the cycles in the mm hooks, and the switches by kind. */
  contextSwitches: {
    count: number; switchMmCycles: number;
    sameMm: number; differentMm: number; toKernelThread: number; fromKernelThread: number; toIdle: number; fromIdle: number;
  };
  /** Per simulated second of the window. */
  rates: { contextSwitches: number; flushes: number; flushIpis: number };
  /** Per flush of the window; null when there was no flush. */
  perFlush: { ipis: number | null; targets: number | null; posted: number | null; lazySkipped: number | null };
  coherence: { lineTransfers: number; rmw: number; cmpxchgFailed: number };
  tlb: { l1dMisses: number; stlbMisses: number; kernelWalks: number; invlpgs: number; pcidFlushes: number; fullFlushes: number };
  /** The lazy mm reference (`mmRefcount`): all 0 with `none`. */
  lazyMm: { grabs: number; drops: number; shootCalls: number; shootTargets: number; shootSwitches: number };
  /** The LRU (`--lru`, tlb/mm/lru.ts): all 0 (wait null) with `none`. */
  lru: { added: number; freed: number; batchMoves: number; drains: number; lockAcquisitions: number; lockContended: number; lockWaitCycles: number | null };
  /** The KVM host model (`hostPreemptsPerS` > 0) and `--pv-flush`: all 0 on bare metal. */
  kvm: { preemptions: number; stolenCycles: number; guestFlushes: number; pvDropped: number; pvCmpxchgFailed: number };
  /** The oracle's quarantine for strategies that flush lazily (latr; tlb/check/lazy-coverage.ts): all 0 for the others. */
  lazyCoverage: { quarantinedPages: number; staleUsesAllowed: number; prematureReuses: number };
  /** Over the whole run, warm-up included: a violation is a violation whenever it happens. */
  violationCounts: { staleTranslation: number; freedPageTable: number; lockup: number; freedMm: number };
  violations: Violation[];
  /** The strategy's own stats (its `stats` group: latr's rings, RAR's actions, ...); empty if it keeps none. */
  strategy: Record<string, unknown>;
  /** The workload's own stats (its `stats` group), if it keeps any; as its `stats` declares them. */
  workload: W;
  /** Why the figures may not mean what they seem (too few flushes, ...). */
  warnings: string[];
  host: HostStats;
}

/** Rounds a rate or ratio to 4 significant figures, so JSON stays readable and deterministic. */
function round4(x: number): number {
  return Number(x.toPrecision(4));
}

/** A declared formula that did not produce a number would break the result's type: fail naming it. */
function checkFormulas(dump: Record<string, unknown>, workload: Workload): void {
  const bad = workload.stats === undefined ? null : formulaMismatch(dump, workload.stats, 'workload');
  if (bad !== null) throw new ConfigError(`workload '${workload.name}': ${bad}`);
}

export function resultOf(m: TlbMachine, cfg: RunConfig, workloadParams: Record<string, number | string>, workload: Workload): RunJson {
  // The stats dump is an untyped tree (its paths are in docs/STATS.md); this is where it becomes RunJson.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const d = m.stats.dump() as Record<string, any>;
  checkFormulas(d.workload, workload);
  const cpus = m.cpu.cpus.map((c) => d[c.name]);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const sum = (f: (cpu: any) => number) => cpus.reduce((a, c) => a + f(c), 0);
  const coh = d.mem.coherence;
  const t = coh.transfers;
  const lat = d.flushes.latencyCycles as HistogramSummary;
  const count: number = d.flushes.count;
  const windowCycles = m.engine.now - cfg.warmupCycles;
  const seconds = windowCycles / (m.config.params.clockGhz * 1e9);
  const perSecond = (n: number) => round4(seconds > 0 ? n / seconds : 0);
  const perFlush = (n: number) => (count > 0 ? round4(n / count) : null);
  const orNull = (v: number) => (count > 0 ? v : null);
  const warnings: string[] = [];
  if (count < MIN_FLUSHES) {
    warnings.push(
      `measured ${count} flush${count === 1 ? '' : 'es'} in ${(seconds * 1e3).toFixed(3)} simulated ms (fewer than ${MIN_FLUSHES}): ` +
        'flush latency, IPI and per-flush figures do not mean anything; run longer (--ms) or raise the workload\'s flush rate',
    );
  }
  return {
    version: VERSION,
    seed: m.rng.seed,
    config: {
      machine: m.config,
      strategy: cfg.strategy,
      strategyOptions: m.strategyOptions,
      workload: cfg.workload,
      workloadParams,
      cycles: cfg.cycles,
      warmupCycles: cfg.warmupCycles,
      perturb: cfg.perturb,
      ...(cfg.perturb && cfg.search !== undefined ? { search: cfg.search } : {}),
    },
    simulated: { cycles: windowCycles, seconds },
    ipis: { sent: d.apic.sent, tlbFlush: d.ipis.tlbFlush, toLazyCpus: d.ipis.toLazyCpus, avoidedLazy: d.ipis.avoidedLazy },
    flushes: {
      count,
      local: d.flushes.local,
      remote: d.flushes.remote,
      remoteDecisions: d.flushes.remoteDecisions,
      latencyCycles: { p50: orNull(lat.p50), p90: orNull(lat.p90), p99: orNull(lat.p99), max: orNull(lat.max), mean: orNull(lat.mean) },
      latencyCdf: count === 0 ? null : CDF_PERCENTILES.map((p): [number, number] => [p, m.flushStats.latency.percentile(p)]),
    },
    contextSwitches: { ...(d.sched.contextSwitches as Omit<RunJson['contextSwitches'], 'switchMmCycles'>), switchMmCycles: d.sched.switchMmCycles },
    rates: { contextSwitches: perSecond(d.sched.contextSwitches.count), flushes: perSecond(count), flushIpis: perSecond(d.ipis.tlbFlush) },
    perFlush: { ipis: perFlush(d.ipis.tlbFlush), targets: perFlush(d.flushes.targetCpus), posted: perFlush(d.flushes.postedCpus), lazySkipped: perFlush(d.ipis.avoidedLazy) },
    coherence: {
      lineTransfers: t.smt + t.ccx + t.socket + t.remote,
      rmw: Object.values(d.mem.rmw as Record<string, number>).reduce((a, b) => a + b, 0),
      cmpxchgFailed: d.mem.cmpxchgFailed,
    },
    tlb: {
      l1dMisses: sum((c) => c.tlb.l1d.misses),
      stlbMisses: sum((c) => c.tlb.stlb.misses),
      kernelWalks: sum((c) => c.tlb.stlb.kernelWalks),
      invlpgs: sum((c) => c.tlb.invlpgs),
      pcidFlushes: sum((c) => c.tlb.asidFlushes),
      fullFlushes: sum((c) => c.tlb.fullFlushes),
    },
    lazyMm: {
      grabs: d.lazyMm?.grabs ?? 0, drops: d.lazyMm?.drops ?? 0,
      shootCalls: d.lazyMm?.shootCalls ?? 0, shootTargets: d.lazyMm?.shootTargets ?? 0, shootSwitches: d.lazyMm?.shootSwitches ?? 0,
    },
    lru: {
      added: d.lru?.added ?? 0, freed: d.lru?.freed ?? 0, batchMoves: d.lru?.batchMoves ?? 0, drains: d.lru?.drains ?? 0,
      lockAcquisitions: d.lru?.lock?.acquisitions ?? 0, lockContended: d.lru?.lock?.contended ?? 0,
      lockWaitCycles: (d.lru?.lock?.waitCycles?.count ?? 0) > 0 ? d.lru.lock.waitCycles.mean : null,
    },
    kvm: {
      preemptions: d.kvm?.preemptions ?? 0, stolenCycles: d.kvm?.stolenCycles ?? 0, guestFlushes: d.kvm?.guestFlushes ?? 0,
      pvDropped: d.kvm?.pv?.dropped ?? 0, pvCmpxchgFailed: d.kvm?.pv?.cmpxchgFailed ?? 0,
    },
    lazyCoverage: {
      quarantinedPages: d.violations.lazy?.quarantinedPages ?? 0, staleUsesAllowed: d.violations.lazy?.staleUsesAllowed ?? 0,
      prematureReuses: d.violations.lazy?.prematureReuses ?? 0,
    },
    violationCounts: { staleTranslation: d.violations.staleTranslations, freedPageTable: d.violations.freedPageTables, lockup: d.violations.lockups, freedMm: d.violations.freedMms },
    violations: m.oracle.violations,
    strategy: (d.strategy ?? {}) as Record<string, unknown>,
    workload: d.workload as Record<string, unknown>,
    warnings,
    host: m.engine.host.stats(),
  };
}
