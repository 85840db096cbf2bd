import { Command, Option } from 'commander';
import { ConfigError } from '../../lib/errors';
import { parseParamAssignment, profileNames, resolveMachine } from '../../lib/machine/resolve';
import type { RunConfig } from '../runner';
import { collectParam, intOption, seedOption } from './options';

/** Options shared by `run`, `explore` and `compare`. */
export interface SimOptions {
  machine: string;
  param: string[];
  workload: string;
  ms?: number;
  cycles?: number;
  seed: string;
  json?: boolean;
  pcid: boolean;
  flushCeiling?: number;
  idleLeaveMm?: boolean;
  perturb?: boolean;
}

export function addSimOptions(cmd: Command, defaults: { workload: string; ms: number; machine: string; params?: string[] }): Command {
  return cmd
    .addOption(new Option('--machine <profile>', `machine profile (${profileNames().join(', ')})`).default(defaults.machine))
    .option('--param <key=value>', `override a machine parameter (repeatable)${defaults.params ? `; defaults: ${defaults.params.join(' ')}` : ''}`, collectParam, defaults.params ?? [])
    .option('--workload <name>', 'workload', defaults.workload)
    .addOption(new Option('--ms <ms>', `simulated milliseconds (default ${defaults.ms})`).argParser(positiveNumber('--ms')).conflicts('cycles'))
    .option('--cycles <n>', 'simulated cycles (instead of --ms)', intOption('--cycles', 1, Number.MAX_SAFE_INTEGER))
    .option('--seed <seed>', 'seed of every random stream', seedOption, '1')
    .option('--no-pcid', 'do not use PCIDs even where the machine and strategy could')
    .option('--flush-ceiling <pages>', 'tlb_single_page_flush_ceiling', intOption('--flush-ceiling', 0, 1 << 20))
    .option('--idle-leave-mm', 'leave_mm() in the idle loop before halting')
    .option('--json', 'print the result as JSON');
}

/** The run configuration of a strategy under the shared options. */
export function runConfig(strategy: string, o: SimOptions, defaultMs: number): RunConfig {
  const params: Record<string, string> = {};
  for (const text of o.param) {
    const [k, v] = parseParamAssignment(text);
    params[k] = v;
  }
  const machine = resolveMachine(o.machine, params); // validates early, naming the bad key
  const cycles = o.cycles ?? Math.round((o.ms ?? defaultMs) * machine.params.clockGhz * 1e6);
  return {
    machine: o.machine,
    params,
    strategy,
    workload: o.workload,
    cycles,
    seed: o.seed,
    strategyOptions: {
      ...(o.pcid ? {} : { pcid: false }),
      ...(o.flushCeiling !== undefined ? { flushCeiling: o.flushCeiling } : {}),
      ...(o.idleLeaveMm === true ? { idleLeaveMm: true } : {}),
    },
    perturb: o.perturb === true,
  };
}

function positiveNumber(name: string): (text: string) => number {
  return (text: string): number => {
    const v = Number(text);
    if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(`${name} expects a positive number, got '${text}'`);
    return v;
  };
}
