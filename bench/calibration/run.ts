import { strategyByName } from '../../tlb/strategies';
import type { RunJson } from '../result-json';
import { runSimulation } from '../runner';

/** A calibration scenario's run: a shipped workload, one fixed seed, no exploration noise. */
export function scenarioRun(
  machine: string, params: Record<string, string>, strategy: string,
  workload: string, workloadParams: Record<string, string | number>, cycles: number, warmupCycles: number,
): RunJson {
  return runSimulation({
    machine, params, strategy, workload, workloadParams, cycles, warmupCycles,
    seed: 'calibration', strategyOptions: {}, perturb: false,
  }, strategyByName(strategy));
}
