import { ConfigError } from '../../lib/errors';
import { resolveMachine } from '../../lib/machine/resolve';
import { strategyByName } from '../../tlb/strategies';
import type { RunJson } from '../result-json';
import { runSimulation } from '../runner';

/** A calibration scenario's run: a shipped workload, one fixed seed, no exploration noise. */
export function scenarioRun(
  machine: string, params: Record<string, string>, strategy: string,
  workload: string, workloadParams: Record<string, string | number>, cycles: number, warmupCycles: number,
): RunJson {
  return runSimulation({
    machine: resolveMachine(machine, params), params, strategy, workload, workloadParams, cycles, warmupCycles,
    seed: 'calibration', strategyOptions: {}, perturb: false,
  }, strategyByName(strategy));
}

/**
 * A scenario's window must hold what its targets average over: with none (a --param that slows the
 * machine so), a mean would be null or 0 and a ratio NaN, so the scenario is named instead.
 */
export function requireMeasured(scenario: string, what: string, count: number, params: Record<string, string>, cycles: number): void {
  if (count > 0) return;
  const given = Object.entries(params).map(([k, v]) => ` --param ${k}=${v}`).join('');
  throw new ConfigError(`validate: the ${scenario} scenario completed no ${what} in its ${cycles} cycles${given === '' ? '' : ` with${given}`}: its targets cannot be measured`);
}
