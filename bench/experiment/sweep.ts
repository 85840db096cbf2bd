import { unknownKeyMessage } from '../../lib/config-text';
import { ConfigError } from '../../lib/errors';
import { isParamKey, PARAM_KEYS } from '../../lib/machine/params';
import { resolveMachine } from '../../lib/machine/resolve';
import type { RunJson } from '../result-json';
import type { RunMeta } from './meta';
import type { Workload } from '../workloads/workload';
import { summarizeByStrategy, type StrategySummary } from './summary';

/** One axis of a sweep: a machine parameter, a workload parameter, or `cpus` (the core count). */
export interface Axis {
  key: string;
  kind: 'cpus' | 'machine' | 'workload';
  values: string[];
}

/** What a sweep runs; shard files carry it so that `merge` can check they belong together. */
export interface SweepSpec {
  machine: string;
  workload: string;
  axes: Axis[];
  strategies: string[];
  seeds: string[];
}

/** A grid point: each axis's value. */
export type Point = Record<string, string>;

export interface SweepRun {
  /** Position in the whole grid (axes, first slowest; then strategy; then seed). */
  index: number;
  point: Point;
  result: RunJson;
}

export interface SweepJson {
  /** Where it came from (version, commit, Node, command, start time): not part of the deterministic result. */
  meta?: RunMeta;
  sweep: SweepSpec;
  /** Present in a shard's file: which slice it ran (1-based) of how many. */
  shard?: { index: number; count: number };
  runs: SweepRun[];
  /** Per grid point, each strategy over its seeds (absent from shard files; `merge` computes it). */
  summary?: { point: Point; strategies: StrategySummary[] }[];
}

/** `--axis key=v1,v2,...`: the key is `cpus`, a machine parameter or one of the workload's. */
export function parseAxis(text: string, workload: Workload): Axis {
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq).trim();
  const values = eq < 0 ? [] : text.slice(eq + 1).split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (key === '' || values.length === 0) throw new ConfigError(`--axis '${text}': expected key=value1,value2,...`);
  if (key === 'cpus') return { key, kind: 'cpus', values };
  if (isParamKey(key)) return { key, kind: 'machine', values };
  if (Object.prototype.hasOwnProperty.call(workload.params, key)) return { key, kind: 'workload', values };
  throw new ConfigError(`--axis: ${unknownKeyMessage('axis', key, ['cpus', ...PARAM_KEYS, ...Object.keys(workload.params)])}`);
}

/** Every grid point, the first axis slowest. */
export function gridPoints(axes: readonly Axis[]): Point[] {
  let points: Point[] = [{}];
  for (const a of axes) points = points.flatMap((p) => a.values.map((v) => ({ ...p, [a.key]: v })));
  return points;
}

/**
 * A point's overrides, as `--param` and `--wparam` text: machine and workload parameters as given,
 * and `cpus` spread over the profile's sockets and CCXs (it must divide evenly).
 */
export function pointOverrides(machine: string, params: readonly string[], axes: readonly Axis[], point: Point): { param: string[]; wparam: string[] } {
  const param = [...params];
  const wparam: string[] = [];
  for (const a of axes) {
    const v = point[a.key];
    if (a.kind === 'machine') param.push(`${a.key}=${v}`);
    else if (a.kind === 'workload') wparam.push(`${a.key}=${v}`);
  }
  const cpus = axes.find((a) => a.kind === 'cpus');
  if (cpus !== undefined) {
    const v = point[cpus.key];
    const overrides = Object.fromEntries(param.map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
    const p = resolveMachine(machine, overrides).params;
    const perCore = p.sockets * p.ccxPerSocket * p.threadsPerCore;
    const n = Number(v);
    if (!Number.isInteger(n) || n < perCore || n % perCore !== 0) {
      throw new ConfigError(`--axis cpus=${v}: expected a multiple of ${perCore} (sockets x ccxPerSocket x threadsPerCore of ${machine})`);
    }
    param.push(`coresPerCcx=${n / perCore}`);
  }
  return { param, wparam };
}

/** The runs `--shard i/n` takes: every n-th, from the i-th (1-based), so each shard gets a share of every point. */
export function inShard(index: number, shard: { index: number; count: number } | undefined): boolean {
  return shard === undefined || index % shard.count === shard.index - 1;
}

/** Parses `--shard i/n` (1 <= i <= n). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m === null ? NaN : Number(m[1]);
  const count = m === null ? NaN : Number(m[2]);
  if (!(count >= 1 && index >= 1 && index <= count)) throw new ConfigError(`--shard '${text}': expected i/n with 1 <= i <= n, e.g. 2/4`);
  return { index, count };
}

/** The summary of complete runs: per point, each strategy over its seeds (in grid order). */
export function sweepSummary(spec: SweepSpec, runs: readonly SweepRun[], baseline?: string): NonNullable<SweepJson['summary']> {
  const perPoint = spec.strategies.length * spec.seeds.length;
  return gridPoints(spec.axes).map((point, i) => ({
    point,
    strategies: summarizeByStrategy(runs.slice(i * perPoint, (i + 1) * perPoint).map((r) => r.result), baseline),
  }));
}
