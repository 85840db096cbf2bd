import { unknownKeyMessage } from '../../lib/config-text';
import { ConfigError } from '../../lib/errors';
import type { ParamKey } from '../../lib/machine/params';
import { resolveMachine, topologyOf } from '../../lib/machine/resolve';
import { PCT_DEFAULT_DEPTH, checkSearch, estimatePctSteps } from '../search';
import type { Strategy, StrategyFactory, StrategyOptions } from '../../tlb/strategies/strategy';
import { strategyNames, type StrategyName } from '../../tlb/strategies/index';
import { loadStrategy } from '../cli/load-strategy';
import type { RunJson } from '../result-json';
import { DEFAULT_WARMUP_MS, runSimulation, type RunConfig } from '../runner';
import { DEFAULT_WORKLOAD, loadWorkload, type WorkloadName, type WorkloadParamsOf, type WorkloadStats } from '../workloads/index';
import type { StatsOfWorkload, Workload } from '../workloads/workload';
import { defaultJobs, runAll, type Progress } from './pool';
import { COMPARE_DEFAULT_SEEDS, seedList } from './seeds';
import { summarizeByStrategy, type StrategySummary } from './summary';
import { gridPoints, inShard, parseAxis, pointOverrides, sweepSummary, type Point, type SweepJson, type SweepRun, type SweepSpec } from './sweep';

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
  /**
   * PCT instead of the random noise of a perturbed run (`--search pct`; needs `perturb`): depth
   * default 3, steps default the run's estimate, as the CLI's `--pct-depth` and `--pct-steps`.
   */
  search?: { mode: 'pct'; depth?: number; steps?: number };
}

const SIMULATE_KEYS = ['strategy', 'workload', 'machine', 'params', 'workloadParams', 'ms', 'cycles', 'warmupMs', 'warmupCycles', 'seed', 'strategyOptions', 'perturb', 'search'];

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
  // Resolved once here, so that a bad key or value is named before anything runs, and carried through the run.
  const resolved = resolveMachine(machine, params);
  const clock = resolved.params.clockGhz;
  const ms = positive('ms', c.ms);
  const cycles = positive('cycles', c.cycles) ?? Math.round((ms ?? 10) * clock * 1e6);
  const warmupMs = c.warmupMs ?? workload.warmupMs ?? DEFAULT_WARMUP_MS;
  const warmupCycles = c.warmupCycles ?? Math.round(warmupMs * clock * 1e6);
  const cfg: RunConfig = {
    // A workload given by name or path stays so: worker threads load it from that.
    machine: resolved, params, strategy: label, workload: typeof c.workload === 'string' ? c.workload : workload.name, workloadParams: c.workloadParams ?? {},
    cycles, warmupCycles, seed: String(c.seed ?? 1), strategyOptions: c.strategyOptions ?? {}, perturb: c.perturb === true,
  };
  if (c.search !== undefined) {
    if (c.perturb !== true) throw new ConfigError('search: PCT replaces the timing noise of a perturbed run: set perturb: true as well');
    checkKeys('search', c.search, ['mode', 'depth', 'steps']);
    cfg.search = {
      mode: c.search.mode, depth: c.search.depth ?? PCT_DEFAULT_DEPTH,
      steps: c.search.steps ?? estimatePctSteps(cycles + warmupCycles, topologyOf(resolved).nCpus),
    };
    checkSearch(cfg.search);
  }
  return { cfg, factory, workload };
}

const WORKERS_LOAD_BY_NAME = 'jobs > 1 runs on worker threads, which load strategies and workloads by name or file: give those, or jobs: 1';

/** The fields every run of a grid shares (left out when not given, so `plan` sees no stray keys). */
function runFields(c: Omit<SimulateConfig, 'strategy' | 'workload' | 'machine' | 'seed'>): SimulateConfig {
  const out: SimulateConfig = {};
  for (const k of ['params', 'workloadParams', 'ms', 'cycles', 'warmupMs', 'warmupCycles', 'strategyOptions', 'perturb', 'search'] as const) {
    if (c[k] !== undefined) (out as Record<string, unknown>)[k] = c[k];
  }
  return out;
}

/** `seeds`: a count (1..n) or the seeds themselves; default 5. */
function seedsOf(seeds: number | (number | string)[] | undefined): string[] {
  const out = typeof seeds === 'object' ? seeds.map(String) : seedList('1', seeds ?? COMPARE_DEFAULT_SEEDS);
  if (out.length === 0) throw new ConfigError('seeds: expected at least one');
  return out;
}

/*
 * The result's `workload` section and the `workloadParams` accepted for workload spec W: typed for
 * a shipped name (or none: the default), and the stats also for a workload object that declares
 * them. The brackets stop the conditionals from distributing, so a config typed only as
 * SimulateConfig (W the whole WorkloadSpec union) keeps the untyped forms, not a union of all.
 */
type StatsFor<W> = [W] extends [WorkloadName] ? WorkloadStats<W> : StatsOfWorkload<W>;
type ParamsFor<W> = [W] extends [WorkloadName] ? WorkloadParamsOf<W> : Record<string, number | string>;

/**
 * `simulate`'s config for workload W: for a shipped name (or no name, which is memcache) its
 * `workloadParams` are typed; for a file path or a workload object they are checked at run time.
 */
export type SimulateConfigOf<W extends WorkloadSpec> = Omit<SimulateConfig, 'workload' | 'workloadParams'> & { workload?: W; workloadParams?: ParamsFor<W> };

/**
 * Runs one simulation and returns its result (the same JSON as `lazytlb run --json`). Its
 * `workload` section is typed by the workload's declared stats (`WorkloadStats<'memcache'>` for
 * `simulate({})`), which the run checks against what the workload registers.
 */
export function simulate<W extends WorkloadSpec = typeof DEFAULT_WORKLOAD>(config: SimulateConfigOf<W> = {}): RunJson<StatsFor<W>> {
  const p = plan(config as SimulateConfig);
  // The runner has checked the workload's stats against its declared shape, so the dump has this type.
  return runSimulation(p.cfg, p.factory, p.workload) as RunJson<StatsFor<W>>;
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
  const seeds = seedsOf(config.seeds);
  const jobs = config.jobs ?? defaultJobs();
  const base = runFields(config);
  const planned: Planned[] = [];
  for (const machine of machines) for (const workload of workloads) for (const strategy of strategies) for (const seed of seeds) {
    if (jobs > 1 && (typeof strategy !== 'string' || typeof workload !== 'string')) throw new ConfigError(WORKERS_LOAD_BY_NAME);
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

/** A grid of axes x strategies x seeds (the library's `lazytlb sweep`). */
export interface SweepConfig extends Omit<SimulateConfig, 'strategy' | 'seed'> {
  /** Each axis: `cpus`, a machine parameter or a workload parameter, and its values. */
  axes: Record<string, readonly (number | string)[]>;
  /** Default: every shipped strategy. */
  strategies?: StrategySpec[];
  seeds?: number | (number | string)[];
  baseline?: string;
  jobs?: number;
  /** Run only this slice (1-based index of count); `merge` the shards' results. */
  shard?: { index: number; count: number };
  onProgress?: Progress;
  signal?: AbortSignal;
}

const SWEEP_KEYS = [...SIMULATE_KEYS.filter((k) => !['strategy', 'seed'].includes(k)), 'axes', 'strategies', 'seeds', 'baseline', 'jobs', 'shard', 'onProgress', 'signal'];

/** Runs a sweep; without a shard the result carries the summary per point, as `lazytlb sweep --json` does. */
export async function sweep(config: SweepConfig): Promise<SweepJson> {
  checkKeys('sweep config', config, SWEEP_KEYS);
  const workload = typeof config.workload === 'object' ? config.workload : loadWorkload(config.workload ?? DEFAULT_WORKLOAD);
  const axes = Object.entries(config.axes ?? {}).map(([k, vs]) => parseAxis(`${k}=${vs.join(',')}`, workload));
  if (axes.length === 0) throw new ConfigError('axes: expected at least one axis');
  const machine = config.machine ?? 'skylake-sp-2s';
  const strategies = config.strategies ?? strategyNames();
  const seeds = seedsOf(config.seeds);
  const jobs = config.jobs ?? defaultJobs();
  const baseText = Object.entries(config.params ?? {}).map(([k, v]) => `${k}=${String(v)}`);
  const pairs = (list: string[]) => Object.fromEntries(list.map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
  const planned: { index: number; point: Point; p: Planned }[] = [];
  let index = 0;
  for (const point of gridPoints(axes)) {
    const { param, wparam } = pointOverrides(machine, baseText, axes, point);
    for (const strategy of strategies) {
      if (jobs > 1 && (typeof strategy !== 'string' || typeof config.workload === 'object')) throw new ConfigError(WORKERS_LOAD_BY_NAME);
      for (const seed of seeds) {
        const p = plan({ ...runFields(config), machine, workload, strategy, seed, params: pairs(param), workloadParams: { ...config.workloadParams, ...pairs(wparam) } });
        if (inShard(index, config.shard)) planned.push({ index, point, p });
        index++;
      }
    }
  }
  const results = await runAll(planned.map((x) => x.p.cfg), jobs, {
    progress: config.onProgress, signal: config.signal, inThread: (_cfg, i) => runSimulation(planned[i].p.cfg, planned[i].p.factory, planned[i].p.workload),
  });
  const labels = strategies.map((s) => strategyOf(s).label);
  const spec: SweepSpec = { machine, workload: workload.name, axes, strategies: labels, seeds };
  const runs: SweepRun[] = planned.map((x, i) => ({ index: x.index, point: x.point, result: results[i] }));
  return config.shard === undefined ? { sweep: spec, runs, summary: sweepSummary(spec, runs, config.baseline) } : { sweep: spec, shard: config.shard, runs };
}
