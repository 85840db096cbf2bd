import type { MachineConfig } from '../lib/machine/resolve';
import type { LockupWatchdog } from '../tlb/check/oracle';
import type { StrategyOptions } from '../tlb/strategies/strategy';
import type { SearchConfig } from './search';

/**
 * One run, as described before it runs (runner.ts runs it): what the CLI's options, `simulate()`,
 * exploration and replay build, what worker threads receive, and what the result JSON's
 * `config` and the reproducer are made from.
 */
export interface RunConfig {
  /**
   * The machine, resolved once where the run is described (the CLI's options, `simulate()`,
   * exploration, replay) and carried through the run: its profile name and every parameter.
   */
  machine: MachineConfig;
  /** The `--param` overrides `machine` was resolved with, as typed (for the reproducer). */
  params: Record<string, string | number>;
  strategy: string;
  /** A shipped workload's name or a workload file's path (as given). */
  workload: string;
  /** `--wparam` overrides, as typed. */
  workloadParams: Record<string, string | number>;
  /** Simulated cycles measured, after the warm-up. */
  cycles: number;
  /** Simulated cycles run before measuring starts: the stats are reset at its end. */
  warmupCycles: number;
  seed: string;
  strategyOptions: Partial<StrategyOptions>;
  /** Exploration timing noise (memory-operation delays, drain and transfer jitter, IPI jitter). */
  perturb: boolean;
  /** How a perturbed run picks its timing (bench/search.ts); absent: `random`, the noise of PERTURBATION. */
  search?: SearchConfig;
  /** The command that reproduces the run, when it is not `lazytlb run` (a replay). */
  command?: string;
  /**
   * The liveness checks' threshold, in cycles (tlb/check/liveness.ts): a CPU with interrupts off or
   * spinning, a runnable task on an idle CPU, a CSD not released or a flush not returned this
   * long when the run ends is a `lockup`. Default: a quarter of the run (warm-up included),
   * at most 0.5 simulated ms (see `defaultLockupCycles`).
   */
  lockupCycles?: number;
  /** One check's own threshold, in cycles, over `lockupCycles`. */
  lockupThresholds?: Partial<Record<LockupWatchdog, number>>;
}
