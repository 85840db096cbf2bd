import type { HostStats } from '../lib/engine/host-clock';
import { resolveMachine, type MachineConfig } from '../lib/machine/resolve';
import type { HistogramSummary } from '../lib/stats/histogram';
import { VERSION } from '../lib/version';
import { TlbMachine } from '../tlb/machine';
import type { Violation } from '../tlb/oracle';
import type { StrategyFactory, StrategyOptions } from '../tlb/strategy';
import { workloadByName } from './workloads/index';

export interface RunConfig {
  machine: string;
  /** `--param` overrides, as typed. */
  params: Record<string, string>;
  strategy: string;
  workload: string;
  cycles: number;
  seed: string;
  strategyOptions: Partial<StrategyOptions>;
  /** Exploration timing noise (memory-operation delays, drain and transfer jitter, IPI jitter). */
  perturb: boolean;
}

/** The exploration noise preset, in cycles. */
export const PERTURBATION = { transferMax: 200, drainMax: 5_000, opDelayMax: 2_000, ipiJitterMax: 2_000 } as const;

/** The run result: stable, documented keys (README "Result JSON"). */
export interface RunJson {
  version: string;
  seed: string;
  config: { machine: MachineConfig; strategy: string; strategyOptions: StrategyOptions; workload: string; cycles: number; perturb: boolean };
  simulated: { cycles: number; seconds: number };
  ipis: { sent: number; tlbFlush: number; toLazyCpus: number; avoidedLazy: number };
  flushes: { count: number; local: number; remote: number; latencyCycles: Pick<HistogramSummary, 'p50' | 'p90' | 'p99' | 'max' | 'mean'> };
  contextSwitches: { count: number; switchMmCycles: number };
  coherence: { lineTransfers: number; rmw: number; cmpxchgFailed: number };
  tlb: { l1dMisses: number; stlbMisses: number; invlpgs: number; pcidFlushes: number; fullFlushes: number };
  violationCounts: { staleTranslation: number; freedPageTable: number };
  violations: Violation[];
  host: HostStats;
}

/** The command line that reproduces a run. */
export function reproducer(cfg: RunConfig): string {
  const parts = ['npx lazytlb run', `--machine ${cfg.machine}`, `--strategy ${cfg.strategy}`, `--workload ${cfg.workload}`, `--cycles ${cfg.cycles}`, `--seed ${cfg.seed}`];
  for (const [k, v] of Object.entries(cfg.params)) parts.push(`--param ${k}=${v}`);
  const o = cfg.strategyOptions;
  if (o.pcid === false) parts.push('--no-pcid');
  if (o.flushCeiling !== undefined) parts.push(`--flush-ceiling ${o.flushCeiling}`);
  if (o.idleLeaveMm === true) parts.push('--idle-leave-mm');
  if (cfg.perturb) parts.push('--perturb');
  return parts.join(' ');
}

/** Builds the machine, runs the workload for `cycles`, and returns the result. */
export function runSimulation(cfg: RunConfig, factory: StrategyFactory): RunJson {
  const machine = resolveMachine(cfg.machine, cfg.params);
  const nCpus = machine.params.sockets * machine.params.ccxPerSocket * machine.params.coresPerCcx * machine.params.threadsPerCore;
  const m = new TlbMachine({
    config: machine,
    seed: cfg.seed,
    memBytes: nCpus <= 8 ? 2 << 20 : 8 << 20,
    strategy: factory(),
    strategyOptions: cfg.strategyOptions,
    perturb: cfg.perturb ? { transferMax: PERTURBATION.transferMax, drainMax: PERTURBATION.drainMax, opDelayMax: PERTURBATION.opDelayMax } : undefined,
    ipiJitterMax: cfg.perturb ? PERTURBATION.ipiJitterMax : 0,
  });
  m.oracle.reproduce = reproducer(cfg);
  workloadByName(cfg.workload).setup(m, m.rng.stream('workload'));
  m.sched.start();
  m.engine.run({ until: cfg.cycles, maxEvents: 2e9 });
  return resultOf(m, cfg);
}

function resultOf(m: TlbMachine, cfg: RunConfig): RunJson {
  const d = m.stats.dump() as Record<string, any>;
  const cpus = m.cpu.cpus.map((c) => d[c.name]);
  const sum = (f: (cpu: any) => number) => cpus.reduce((a, c) => a + f(c), 0);
  const coh = d.mem.coherence;
  const t = coh.transfers;
  const lat = d.flushes.latencyCycles as HistogramSummary;
  return {
    version: VERSION,
    seed: m.rng.seed,
    config: { machine: m.config, strategy: cfg.strategy, strategyOptions: m.strategyOptions, workload: cfg.workload, cycles: cfg.cycles, perturb: cfg.perturb },
    simulated: { cycles: m.engine.now, seconds: m.engine.now / (m.config.params.clockGhz * 1e9) },
    ipis: { sent: d.apic.sent, tlbFlush: d.ipis.tlbFlush, toLazyCpus: d.ipis.toLazyCpus, avoidedLazy: d.ipis.avoidedLazy },
    flushes: { count: d.flushes.count, local: d.flushes.local, remote: d.flushes.remote, latencyCycles: { p50: lat.p50, p90: lat.p90, p99: lat.p99, max: lat.max, mean: lat.mean } },
    contextSwitches: { count: d.sched.contextSwitches.count, switchMmCycles: d.sched.switchMmCycles },
    coherence: {
      lineTransfers: t.smt + t.ccx + t.socket + t.remote,
      rmw: Object.values(d.mem.rmw as Record<string, number>).reduce((a, b) => a + b, 0),
      cmpxchgFailed: d.mem.cmpxchgFailed,
    },
    tlb: {
      l1dMisses: sum((c) => c.tlb.l1d.misses),
      stlbMisses: sum((c) => c.tlb.stlb.misses),
      invlpgs: sum((c) => c.tlb.invlpgs),
      pcidFlushes: sum((c) => c.tlb.asidFlushes),
      fullFlushes: sum((c) => c.tlb.fullFlushes),
    },
    violationCounts: { staleTranslation: d.violations.staleTranslations, freedPageTable: d.violations.freedPageTables },
    violations: m.oracle.violations,
    host: m.engine.host.stats(),
  };
}
