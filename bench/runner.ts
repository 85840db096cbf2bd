import { ConfigError } from '../lib/errors';
import { STRATEGIES } from '../tlb/strategies/index';
import { shapeMismatch } from '../lib/stats/shape';
import { checkLiveness } from '../tlb/check/liveness';
import { TlbMachine } from '../tlb/machine';
import { DEFAULT_MM_REFCOUNT, type StrategyFactory } from '../tlb/strategies/strategy';
import { DEFAULT_LRU } from '../tlb/mm/lru';
import { DEFAULT_SPINLOCK } from '../cpu/qspinlock';
import type { RunConfig } from './run-config';
import { lockupFlags, lockupThresholds } from './lockup-options';
import { resultOf, type RunJson } from './result-json';
import { checkSearch, pctOptions, searchFlags } from './search';
import { resolveWorkloadParams } from './workloads/params';
import { workloadByName } from './workloads/index';
import type { Workload } from './workloads/workload';

export type { RunConfig } from './run-config';

/**
 * The default warm-up, in simulated ms. Long enough that the shipped workloads' flush and switch
 * rates are in steady state: first-touch page faults, the first wake-up of every sleeping task
 * and the first round of lazy entries all fall before it (see docs/WORKLOADS.md for the
 * measurement). A workload may declare its own (`warmupMs`).
 */
export const DEFAULT_WARMUP_MS = 1;

/** A run must end: `cycles` a positive whole number, `warmupCycles` a whole number (a caller without types may leave them out). */
function checkWindow(cfg: RunConfig): void {
  if (!(Number.isSafeInteger(cfg.cycles) && cfg.cycles > 0)) throw new ConfigError(`cycles = ${String(cfg.cycles)}: expected a positive whole number of simulated cycles`);
  if (!(Number.isSafeInteger(cfg.warmupCycles) && cfg.warmupCycles >= 0)) throw new ConfigError(`warmupCycles = ${String(cfg.warmupCycles)}: expected a whole number of cycles, 0 or more`);
}

/** The exploration noise preset, in cycles. */
export const PERTURBATION = { transferMax: 200, drainMax: 5_000, opDelayMax: 2_000, ipiJitterMax: 2_000 } as const;

/** The command line that reproduces a run. */
export function reproducer(cfg: RunConfig): string {
  const parts = ['npx lazytlb run', `--machine ${cfg.machine.profile}`, `--strategy ${cfg.strategy}`, `--workload ${cfg.workload}`, `--cycles ${cfg.cycles}`, `--warmup-cycles ${cfg.warmupCycles}`, `--seed ${cfg.seed}`];
  for (const [k, v] of Object.entries(cfg.params)) parts.push(`--param ${k}=${v}`);
  for (const [k, v] of Object.entries(cfg.workloadParams)) parts.push(`--wparam ${k}=${v}`);
  const o = cfg.strategyOptions;
  if (o.pcid === false) parts.push('--no-pcid');
  if (o.flushCeiling !== undefined) parts.push(`--flush-ceiling ${o.flushCeiling}`);
  if (o.idleLeaveMm === true) parts.push('--idle-leave-mm');
  if (o.mmRefcount !== undefined && o.mmRefcount !== DEFAULT_MM_REFCOUNT) parts.push(`--mm-refcount ${o.mmRefcount}`);
  if (o.lru !== undefined && o.lru !== DEFAULT_LRU) parts.push(`--lru ${o.lru}`);
  if (o.spinlock !== undefined && o.spinlock !== DEFAULT_SPINLOCK) parts.push(`--spinlock ${o.spinlock}`);
  if (o.pvFlush === true) parts.push('--pv-flush');
  parts.push(...lockupFlags(cfg));
  if (cfg.perturb) parts.push('--perturb', ...searchFlags(cfg.search));
  return parts.join(' ');
}

/** Called about 200 times during a run with the simulated cycles done and in all (warm-up included). */
export type RunProgress = (done: number, total: number) => void;

/**
 * Builds the machine, sets up the workload, runs the warm-up, resets the stats (but not the
 * oracle's violations, which cover the whole run), runs the measured window and returns the result.
 */
export function runSimulation(cfg: RunConfig, factory: StrategyFactory, workload: Workload = workloadByName(cfg.workload), progress?: RunProgress): RunJson {
  checkWindow(cfg);
  checkSearch(cfg.search);
  const strategy = factory();
  if (Object.prototype.hasOwnProperty.call(STRATEGIES, cfg.strategy) && strategy.name !== cfg.strategy) {
    // A label that names another shipped strategy than the one that runs would mislabel the result.
    throw new ConfigError(`strategy: the run is labelled '${cfg.strategy}', but its factory builds '${strategy.name}'`);
  }
  const machine = cfg.machine;
  const wparams = resolveWorkloadParams(workload.name, workload.params, cfg.workloadParams);
  const search = cfg.perturb ? cfg.search : undefined;
  const pct = search !== undefined;
  const m = new TlbMachine({
    config: machine,
    seed: cfg.seed,
    strategy,
    strategyOptions: cfg.strategyOptions,
    perturb: cfg.perturb ? { transferMax: PERTURBATION.transferMax, drainMax: pct ? 0 : PERTURBATION.drainMax, opDelayMax: pct ? 0 : PERTURBATION.opDelayMax } : undefined,
    // PCT holds an entity at a change point as long as random mode's longest delay, the drain's.
    pct: search !== undefined ? pctOptions(search, PERTURBATION.drainMax) : undefined,
    ipiJitterMax: cfg.perturb ? PERTURBATION.ipiJitterMax : 0,
  });
  const thresholds = lockupThresholds(cfg, machine.params, strategy.flushWaitBound?.(m.sched.tickCycles) ?? 0);
  m.oracle.reproduce = cfg.command ?? reproducer(cfg);
  const workloadStats = m.stats.group('workload');
  workload.setup({ m, params: wparams, rng: m.rng.stream('workload'), stats: workloadStats });
  // Once per run, before anything runs: a declared shape that drifted from the stats would type
  // the result wrongly, so the run stops naming the first difference.
  const mismatch = workload.stats === undefined ? null : shapeMismatch(workloadStats, workload.stats);
  if (mismatch !== null) throw new ConfigError(`workload '${workload.name}': ${mismatch}`);
  m.sched.start();
  const total = cfg.warmupCycles + cfg.cycles;
  // Samples fall between events and never move simulated time: a watched run gives the same result.
  const sampleEvery = Math.max(1, Math.ceil(total / 200));
  if (progress !== undefined) m.engine.hooks.on('sample', (_e, cycle) => progress(cycle, total));
  if (cfg.warmupCycles > 0) {
    m.engine.run({ until: cfg.warmupCycles, maxEvents: 2e9, sampleEvery });
    m.stats.reset(['violations']);
  }
  m.engine.run({ until: total, maxEvents: 2e9, sampleEvery });
  if (progress !== undefined) progress(total, total); // the window ends here, even if its last cycles had no event
  checkLiveness(m, thresholds);
  return resultOf(m, cfg, wparams, workload);
}
