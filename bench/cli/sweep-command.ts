import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../../lib/errors';
import { strategyNames } from '../../tlb/strategies/index';
import { runsCsv } from '../experiment/csv';
import type { RunMeta } from '../experiment/meta';
import { runAll } from '../experiment/pool';
import { sweepCharts, writeCharts } from '../report/report';
import { gridPoints, inShard, parseAxis, parseShard, pointOverrides, sweepSummary, type SweepJson, type SweepRun, type SweepSpec } from '../experiment/sweep';
import type { RunJson } from '../result-json';
import type { RunConfig } from '../runner';
import { loadWorkload } from '../workloads/index';
import { seedList } from '../experiment/seeds';
import { summaryTable } from './compare-command';
import { loadStrategy } from './load-strategy';
import { progressBar } from './progress-bar';
import { runConfig, type SimOptions } from './sim-options';

export const SWEEP_DEFAULT_MS = 5;

export interface SweepOptions extends SimOptions {
  axis: string[];
  strategies?: string;
  seeds: number;
  jobs: number;
  /** `--host-timeout`, in ms: each run's host wall-clock budget (see RunAllOptions.hostTimeoutMs). */
  hostTimeout?: number;
  shard?: string;
  baseline?: string;
  out?: string;
}

/**
 * `lazytlb sweep`: the grid of every `--axis` × strategies × seeds. With `--shard i/n` it runs a
 * deterministic slice (for job arrays) whose file `lazytlb merge` joins with the others into
 * exactly the unsharded result.
 */
export function sweepCommand(o: SweepOptions, out: (s: string) => void, warn: (s: string) => void, meta?: RunMeta): number | Promise<number> {
  const workload = loadWorkload(o.workload);
  if (o.axis.length === 0) throw new ConfigError('sweep needs at least one --axis key=v1,v2,...');
  const axes = o.axis.map((a) => parseAxis(a, workload));
  const strategies = o.strategies === undefined ? strategyNames() : o.strategies.split(',').map((s) => s.trim());
  for (const s of strategies) loadStrategy(s);
  const shard = o.shard === undefined ? undefined : parseShard(o.shard);
  if (shard !== undefined && o.json !== true && o.out === undefined) throw new ConfigError('--shard: a shard is for merge: give --json or --out DIR');
  const seeds = seedList(o.seed, o.seeds);
  const spec: SweepSpec = { machine: o.machine, workload: workload.name, axes, strategies, seeds };
  const planned: { index: number; point: Record<string, string>; cfg: RunConfig }[] = [];
  let index = 0;
  for (const point of gridPoints(axes)) {
    const { param, wparam } = pointOverrides(o.machine, o.param, axes, point);
    for (const strategy of strategies) {
      for (const seed of seeds) {
        // Every point is resolved, shard or not, so a bad value fails the same way everywhere.
        const cfg = runConfig(strategy, { ...o, param, wparam: [...o.wparam, ...wparam], seed }, workload, SWEEP_DEFAULT_MS);
        if (inShard(index, shard)) planned.push({ index, point, cfg });
        index++;
      }
    }
  }
  const bar = progressBar(planned.length);
  const finish = (results: RunJson[]): number | Promise<number> => {
    bar.stop();
    const runs: SweepRun[] = planned.map((p, i) => ({ index: p.index, point: p.point, result: results[i] }));
    const json: SweepJson = shard === undefined
      ? { meta, sweep: spec, runs, summary: sweepSummary(spec, runs, o.baseline) }
      : { meta, sweep: spec, shard, runs };
    for (const w of new Set(results.flatMap((r) => r.warnings.map((x) => `${r.config.strategy}: ${x}`)))) warn(`warning: ${w}`);
    if (o.out !== undefined) writeSweep(o.out, json);
    if (o.json === true) out(JSON.stringify(json, null, 2));
    else if (json.summary !== undefined) out(sweepTable(json, o.baseline));
    return o.out === undefined || shard !== undefined ? 0 : writeCharts(o.out, sweepCharts(json)).then(() => 0);
  };
  const results = runAll(planned.map((p) => p.cfg), o.jobs, { progress: bar.progress, hostTimeoutMs: o.hostTimeout });
  return Array.isArray(results) ? finish(results) : results.then(finish, (err: unknown) => {
    bar.stop();
    throw err;
  });
}

/** `--out DIR`: sweep.json (or sweep-shard-i-of-n.json) and its runs as CSV with the point's columns. */
export function writeSweep(dir: string, json: SweepJson): void {
  const name = json.shard === undefined ? 'sweep' : `sweep-shard-${json.shard.index}-of-${json.shard.count}`;
  const keys = json.sweep.axes.map((a) => a.key);
  const csv = runsCsv(json.runs.map((r) => r.result), { names: keys, cells: (i) => keys.map((k) => json.runs[i].point[k]) });
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(json, null, 2) + '\n');
    fs.writeFileSync(path.join(dir, `${name}.csv`), csv);
  } catch (err) {
    throw new ConfigError(`--out ${dir}: ${(err as Error).message}`);
  }
}

/** Each point's table, headed by its axis values. */
export function sweepTable(json: SweepJson, baseline?: string): string {
  const parts: string[] = [];
  const perPoint = json.sweep.strategies.length * json.sweep.seeds.length;
  (json.summary ?? []).forEach((p, i) => {
    parts.push(`${Object.entries(p.point).map(([k, v]) => `${k}=${v}`).join(' ')}:`);
    parts.push(summaryTable(json.runs[i * perPoint].result, p.strategies, json.sweep.seeds, baseline));
  });
  return parts.join('\n');
}
