import { unknownKeyMessage } from '../../lib/config-text';
import { ConfigError } from '../../lib/errors';
import type { ParamKey } from '../../lib/machine/params';
import { resolveMachine } from '../../lib/machine/resolve';
import type { Strategy, StrategyFactory, StrategyOptions } from '../../tlb/strategy';
import { strategyNames, type StrategyName } from '../../tlb/strategies/index';
import { loadStrategy } from '../cli/load-strategy';
import type { RunJson } from '../result-json';
import { DEFAULT_WARMUP_MS, runSimulation, type RunConfig } from '../runner';
import { DEFAULT_WORKLOAD, loadWorkload, type WorkloadName } from '../workloads/index';
import type { Workload } from '../workloads/workload';
import { defaultJobs, runAll, type Progress } from './pool';
import { summarizeByStrategy, type StrategySummary } from './summary';

/** A strategy: a shipped name, a file path, a factory or a class. */
export type StrategySpec = StrategyName | (string & {}) | StrategyFactory | (new () => Strategy);
/** A workload: a shipped name, a file path, or a workload object. */
export type WorkloadSpec = WorkloadName | (string & {}) | Workload;
/** Machine parameter overrides, as numbers (or text as typed on a command line). */
export type ParamOverrides = Partial<Record<ParamKey, number | string>>;

/** One simulation. Every field has a default. */
export interface SimulateConfig {
  /** Default 'linux-6.15'. */
  strategy?: StrategySpec;
  /** Default 'memcache'. */
  workload?: WorkloadSpec;
  /** A profile name; default 'skylake-sp-2s'. */
  machine?: string;
  params?: ParamOverrides;
  workloadParams?: Record<string, number | string>;
  /** Simulated ms measured after the warm-up (default 10), or `cycles`. */
  ms?: number;
  cycles?: number;
  /** Warm-up in ms (default: the workload's, else 1), or `warmupCycles`. */
  warmupMs?: number;
  warmupCycles?: number;
  /** Default 1. */
  seed?: number | string;
  strategyOptions?: Partial<StrategyOptions>;
  /** Exploration's timing noise; default off. */
  perturb?: boolean;
}

const SIMULATE_KEYS = ['strategy', 'workload', 'machine', 'params', 'workloadParams', 'ms', 'cycles', 'warmupMs', 'warmupCycles', 'seed', 'strategyOptions', 'perturb'];

/** A resolved run: its serializable configuration, and what to run it with in this thread. */
interface Planned {
  cfg: RunConfig;
  factory: StrategyFactory;
  workload: Workload;
}

function checkKeys(what: string, o: object, known: readonly string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new ConfigError(unknownKeyMessage(`${what} key`, k, known));
}

function positive(name: string, v: number | undefined): number | undefined {
  if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new ConfigError(`${name} = ${String(v)}: expected a positive number`);
  return v;
}

function strategyOf(s: StrategySpec): { label: string; factory: StrategyFactory } {
  if (typeof s === 'string') return { label: s, factory: loadStrategy(s) };
  const isClass = typeof (s as { prototype?: Partial<Strategy> }).prototype?.flushTlbMmRange === 'function';
  const factory: StrategyFactory = isClass ? () => new (s as new () => Strategy)() : (s as StrategyFactory);
  return { label: factory().name, factory };
}

function plan(c: SimulateConfig): Planned {
  checkKeys('simulate config', c, SIMULATE_KEYS);
  const { label, factory } = strategyOf(c.strategy ?? 'linux-6.15');
  const workload = typeof c.workload === 'object' ? c.workload : loadWorkload(c.workload ?? DEFAULT_WORKLOAD);
  const machine = c.machine ?? 'skylake-sp-2s';
  const params = Object.fromEntries(Object.entries(c.params ?? {}).map(([k, v]) => [k, String(v)]));
  // Resolved once here so that a bad key or value is named before anything runs.
  const clock = resolveMachine(machine, params).params.clockGhz;
  const ms = positive('ms', c.ms);
  const cycles = positive('cycles', c.cycles) ?? Math.round((ms ?? 10) * clock * 1e6);
  const warmupMs = c.warmupMs ?? workload.warmupMs ?? DEFAULT_WARMUP_MS;
  const warmupCycles = c.warmupCycles ?? Math.round(warmupMs * clock * 1e6);
  const cfg: RunConfig = {
    machine, params, strategy: label, workload: workload.name, workloadParams: c.workloadParams ?? {},
    cycles, warmupCycles, seed: String(c.seed ?? 1), strategyOptions: c.strategyOptions ?? {}, perturb: c.perturb === true,
  };
  return { cfg, factory, workload };
}

/** Runs one simulation and returns its result (the same JSON as `lazytlb run --json`). */
export function simulate(config: SimulateConfig = {}): RunJson {
  const p = plan(config);
  return runSimulation(p.cfg, p.factory, p.workload);
}

/** Strategies × workloads × machines × seeds, summarized over the seeds. */
export interface CompareConfig extends Omit<SimulateConfig, 'strategy' | 'workload' | 'machine' | 'seed'> {
  /** Default: every shipped strategy. */
  strategies?: StrategySpec[];
  /** Default: ['memcache']. */
  workloads?: WorkloadSpec[];
  /** Default: ['skylake-sp-2s']. */
  machines?: string[];
  /** A count (seeds 1..n) or the seeds themselves; default 5. */
  seeds?: number | (number | string)[];
  /** Strategy label to test the others against (Welch's 95% interval). */
  baseline?: string;
  /** Worker threads; default one per core. Strategies and workloads given as objects need 1. */
  jobs?: number;
  onProgress?: Progress;
  signal?: AbortSignal;
}

export interface CompareGroup {
  workload: string;
  machine: string;
  strategies: StrategySummary[];
}

export interface CompareResult {
  /** Every run, in order: machine, workload, strategy, seed. */
  runs: RunJson[];
  groups: CompareGroup[];
}

const COMPARE_KEYS = [...SIMULATE_KEYS.filter((k) => !['strategy', 'workload', 'machine', 'seed'].includes(k)), 'strategies', 'workloads', 'machines', 'seeds', 'baseline', 'jobs', 'onProgress', 'signal'];

/** Runs the grid (on worker threads when `jobs` > 1) and summarizes each group over its seeds. */
export async function compare(config: CompareConfig = {}): Promise<CompareResult> {
  checkKeys('compare config', config, COMPARE_KEYS);
  const { strategies = strategyNames(), workloads = [DEFAULT_WORKLOAD], machines = ['skylake-sp-2s'] } = config;
  const seeds = typeof config.seeds === 'object' ? config.seeds.map(String) : Array.from({ length: config.seeds ?? 5 }, (_, i) => String(i + 1));
  if (seeds.length === 0) throw new ConfigError('seeds: expected at least one');
  const jobs = config.jobs ?? defaultJobs();
  const base: SimulateConfig = {
    params: config.params, workloadParams: config.workloadParams, ms: config.ms, cycles: config.cycles, warmupMs: config.warmupMs,
    warmupCycles: config.warmupCycles, strategyOptions: config.strategyOptions, perturb: config.perturb,
  };
  const planned: Planned[] = [];
  for (const machine of machines) for (const workload of workloads) for (const strategy of strategies) for (const seed of seeds) {
    if (jobs > 1 && (typeof strategy !== 'string' || typeof workload !== 'string')) {
      throw new ConfigError('jobs > 1 runs on worker threads, which load strategies and workloads by name or file: give those, or jobs: 1');
    }
    planned.push(plan({ ...base, machine, workload, strategy, seed }));
  }
  const runs = await runAll(planned.map((p) => p.cfg), jobs, {
    progress: config.onProgress,
    signal: config.signal,
    inThread: (_cfg, i) => runSimulation(planned[i].cfg, planned[i].factory, planned[i].workload),
  });
  const groups: CompareGroup[] = [];
  for (let i = 0; i < runs.length; i += strategies.length * seeds.length) {
    const slice = runs.slice(i, i + strategies.length * seeds.length);
    groups.push({ workload: slice[0].config.workload, machine: slice[0].config.machine.profile, strategies: summarizeByStrategy(slice, config.baseline) });
  }
  return { runs, groups };
}
