import { Command, Option } from 'commander';
import { parseAssignment } from '../../lib/config-text';
import { ConfigError } from '../../lib/errors';
import { parseParamAssignment, profileNames, resolveMachine, topologyOf } from '../../lib/machine/resolve';
import { parseLockupOptions } from '../lockup-options';
import { DEFAULT_WARMUP_MS, type RunConfig } from '../runner';
import { PCT_DEFAULT_DEPTH, PCT_MAX_DEPTH, SEARCH_MODES, estimatePctSteps, searchFromOptions, searchOption, type SearchMode } from '../search';
import type { Workload } from '../workloads/workload';
import { DEFAULT_MM_REFCOUNT, MM_REFCOUNT_MODES, type MmRefcountMode } from '../../tlb/strategies/strategy';
import { DEFAULT_LRU, LRU_MODES, type LruMode } from '../../tlb/mm/lru';
import { DEFAULT_SPINLOCK, SPINLOCK_KINDS, type SpinlockKind } from '../../cpu/qspinlock';
import { collectParam, intOption, seedOption } from './options';

/** Options shared by `run`, `explore` and `compare`. */
export interface SimOptions {
  machine: string;
  param: string[];
  workload: string;
  wparam: string[];
  ms?: number;
  cycles?: number;
  warmupMs?: number;
  warmupCycles?: number;
  seed: string;
  json?: boolean;
  pcid: boolean;
  flushCeiling?: number;
  idleLeaveMm?: boolean;
  mmRefcount?: MmRefcountMode;
  lru?: LruMode;
  spinlock?: SpinlockKind;
  pvFlush?: boolean;
  perturb?: boolean;
  /** `--search`, `--pct-depth`, `--pct-steps` (run and explore; bench/search.ts). */
  search?: SearchMode;
  pctDepth?: number;
  pctSteps?: number;
  /** `--lockup-ms [check=]T` and `--lockup-cycles [check=]N`, as typed. */
  lockupMs?: string[];
  lockupCycles?: string[];
}

/** Commander collector for a repeatable option checked later (it needs the machine's clock). */
function collectText(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Commander collector for repeatable `--wparam key=value`. */
function collectWparam(value: string, previous: string[]): string[] {
  parseAssignment(value, '--wparam');
  return [...previous, value];
}

export function addSimOptions(cmd: Command, defaults: { workload: string; ms: number; machine: string; params?: string[]; warmup?: string }): Command {
  return cmd
    .addOption(new Option('--machine <profile>', `machine profile (${profileNames().join(', ')})`).default(defaults.machine))
    .option('--param <key=value>', `override a machine parameter (repeatable)${defaults.params ? `; defaults: ${defaults.params.join(' ')}` : ''}`, collectParam, defaults.params ?? [])
    .option('--workload <name|file>', 'a shipped workload (lazytlb workloads) or a .ts/.js file exporting one', defaults.workload)
    .option('--wparam <key=value>', 'set a workload parameter (repeatable; lazytlb workloads NAME lists them)', collectWparam, [])
    .addOption(new Option('--ms <ms>', `simulated milliseconds measured, after the warm-up (default ${defaults.ms})`).argParser(positiveNumber('--ms')).conflicts('cycles'))
    .option('--cycles <n>', 'simulated cycles measured (instead of --ms)', intOption('--cycles', 1, Number.MAX_SAFE_INTEGER))
    .addOption(
      new Option('--warmup-ms <ms>', `simulated milliseconds run before measuring (default: ${defaults.warmup ?? `the workload's, else ${DEFAULT_WARMUP_MS}`})`)
        .argParser(nonNegativeNumber('--warmup-ms'))
        .conflicts('warmupCycles'),
    )
    .option('--warmup-cycles <n>', 'warm-up in cycles (instead of --warmup-ms)', intOption('--warmup-cycles', 0, Number.MAX_SAFE_INTEGER))
    .option('--seed <seed>', 'seed of every random stream', seedOption, '1')
    .option('--no-pcid', 'do not use PCIDs even where the machine and strategy could')
    .option('--flush-ceiling <pages>', 'tlb_single_page_flush_ceiling', intOption('--flush-ceiling', 0, 1 << 20))
    .option('--idle-leave-mm', 'leave_mm() in the idle loop before halting')
    .option('--mm-refcount <mode>', `the lazy mm reference: ${MM_REFCOUNT_MODES.join(', ')} (default atomic, x86's own; none: a reference that costs nothing)`, mmRefcountOption)
    .option('--lru <mode>', `anonymous pages through the LRU and its lru_lock: ${LRU_MODES.join(', ')} (default none: not modelled; drain: free_pages_and_swap_cache drains the lru_add batch, as before v6.14; batch: as after)`, lruOption)
    .option('--spinlock <kind>', `every spinlock: ${SPINLOCK_KINDS.join(', ')} (default queued: the queued spinlock of 4.2 on, which every modelled kernel has; ticket: the ticket lock of 2.6.25-4.1)`, spinlockOption)
    .option('--pv-flush', 'KVM\'s paravirtual remote flush: preempted vCPUs are left to the host (needs --param hostPreemptsPerS > 0)')
    .option('--lockup-ms <[check=]ms>', 'liveness threshold in simulated ms, of every check or of one (hard, soft, stall, csd, flush; repeatable); default a quarter of the run, at most 0.5', collectText, [])
    .option('--lockup-cycles <[check=]n>', 'the same in cycles (repeatable)', collectText, [])
    .option('--json', 'print the result as JSON');
}

/** `--search`, `--pct-depth`, `--pct-steps`: how `run --perturb` and `explore` pick their timing (bench/search.ts). */
export function addSearchOptions(cmd: Command): Command {
  return cmd
    .option('--search <mode>', `how perturbed runs pick their timing: ${SEARCH_MODES.join(', ')} (default random; pct: PCT priorities and change points, docs/ARCHITECTURE.md)`, searchOption)
    .option('--pct-depth <d>', `PCT's bug depth d: d - 1 priority change points (default ${PCT_DEFAULT_DEPTH})`, intOption('--pct-depth', 1, PCT_MAX_DEPTH))
    .option('--pct-steps <k>', "PCT's estimated steps per run, over which the change points are drawn (default: estimated from the run's cycles and CPUs)", intOption('--pct-steps', 1, Number.MAX_SAFE_INTEGER));
}

/**
 * The run configuration of a strategy under the shared options. The warm-up defaults to the
 * command's own (`defaultWarmupMs`, e.g. 0 for explore), else the workload's, else DEFAULT_WARMUP_MS.
 */
export function runConfig(strategy: string, o: SimOptions, workload: Workload, defaultMs: number, defaultWarmupMs?: number): RunConfig {
  const params: Record<string, string> = {};
  for (const text of o.param) {
    const [k, v] = parseParamAssignment(text);
    params[k] = v;
  }
  const workloadParams: Record<string, string> = {};
  for (const text of o.wparam) {
    const [k, v] = parseAssignment(text, '--wparam');
    workloadParams[k] = v;
  }
  const machine = resolveMachine(o.machine, params); // validates early, naming the bad key
  // Milliseconds become whole cycles at the machine's clock: a value that rounds to too few, or
  // past 2^53, is the option's fault, so the option is named (not the run's `cycles`).
  const toCycles = (option: string, ms: number, min: number): number => {
    const c = Math.round(ms * machine.params.clockGhz * 1e6);
    if (!(Number.isSafeInteger(c) && c >= min)) {
      throw new ConfigError(`${option} ${ms} is ${c} cycles at ${machine.params.clockGhz} GHz: expected ${min} to ${Number.MAX_SAFE_INTEGER} cycles`);
    }
    return c;
  };
  const cycles = o.cycles ?? toCycles('--ms', o.ms ?? defaultMs, 1);
  const warmupCycles = o.warmupCycles ?? toCycles('--warmup-ms', o.warmupMs ?? defaultWarmupMs ?? workload.warmupMs ?? DEFAULT_WARMUP_MS, 0);
  const search = searchFromOptions(o, () => estimatePctSteps(warmupCycles + cycles, topologyOf(machine).nCpus));
  return {
    machine,
    params,
    strategy,
    workload: o.workload,
    workloadParams,
    cycles,
    warmupCycles,
    seed: o.seed,
    strategyOptions: {
      ...(o.pcid ? {} : { pcid: false }),
      ...(o.flushCeiling !== undefined ? { flushCeiling: o.flushCeiling } : {}),
      ...(o.idleLeaveMm === true ? { idleLeaveMm: true } : {}),
      ...(o.mmRefcount !== undefined && o.mmRefcount !== DEFAULT_MM_REFCOUNT ? { mmRefcount: o.mmRefcount } : {}),
      ...(o.lru !== undefined && o.lru !== DEFAULT_LRU ? { lru: o.lru } : {}),
      ...(o.spinlock !== undefined && o.spinlock !== DEFAULT_SPINLOCK ? { spinlock: o.spinlock } : {}),
      ...(o.pvFlush === true ? { pvFlush: true } : {}),
    },
    perturb: o.perturb === true,
    ...(search !== undefined ? { search } : {}),
    ...parseLockupOptions(o.lockupMs ?? [], o.lockupCycles ?? [], machine.params.clockGhz),
  };
}

/** `--mm-refcount <mode>`: one of MM_REFCOUNT_MODES. */
export function mmRefcountOption(text: string): MmRefcountMode {
  if (!(MM_REFCOUNT_MODES as readonly string[]).includes(text)) throw new ConfigError(`--mm-refcount expects one of ${MM_REFCOUNT_MODES.join(', ')}, got '${text}'`);
  return text as MmRefcountMode;
}

/** `--lru <mode>`: one of LRU_MODES. */
export function lruOption(text: string): LruMode {
  if (!(LRU_MODES as readonly string[]).includes(text)) throw new ConfigError(`--lru expects one of ${LRU_MODES.join(', ')}, got '${text}'`);
  return text as LruMode;
}

/** `--spinlock <kind>`: one of SPINLOCK_KINDS. */
export function spinlockOption(text: string): SpinlockKind {
  if (!(SPINLOCK_KINDS as readonly string[]).includes(text)) throw new ConfigError(`--spinlock expects one of ${SPINLOCK_KINDS.join(', ')}, got '${text}'`);
  return text as SpinlockKind;
}

function positiveNumber(name: string): (text: string) => number {
  return (text: string): number => {
    const v = Number(text);
    if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(`${name} expects a positive number, got '${text}'`);
    return v;
  };
}

function nonNegativeNumber(name: string): (text: string) => number {
  return (text: string): number => {
    const v = Number(text);
    if (!(text.trim() !== '' && Number.isFinite(v) && v >= 0)) throw new ConfigError(`${name} expects a number >= 0, got '${text}'`);
    return v;
  };
}
