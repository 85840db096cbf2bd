import * as fs from 'fs';
import { ConfigError } from '../../lib/errors';
import type { RunMeta } from '../experiment/meta';
import { gridPoints, sweepSummary, type SweepJson, type SweepRun } from '../experiment/sweep';
import { sweepCharts, writeCharts } from '../report/report';
import { sweepTable, writeSweep } from './sweep-command';

export interface MergeOptions {
  json?: boolean;
  out?: string;
  baseline?: string;
}

function read(file: string): SweepJson {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${file}: no such file`);
  }
  let json: SweepJson;
  try {
    json = JSON.parse(text) as SweepJson;
  } catch (err) {
    throw new ConfigError(`${file}: not JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || json.sweep === undefined || !Array.isArray(json.runs)) {
    throw new ConfigError(`${file}: expected the JSON of 'lazytlb sweep --shard i/n' (with 'sweep' and 'runs')`);
  }
  checkShard(file, json);
  return json;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): boolean => typeof v === 'string';
const isTexts = (v: unknown): boolean => Array.isArray(v) && v.every(isText);
const isNumber = (v: unknown): boolean => typeof v === 'number';
const isAxes = (v: unknown): boolean => Array.isArray(v) && v.every((a) => isRecord(a) && isText(a.key) && ['cpus', 'machine', 'workload'].includes(a.kind as string) && isTexts(a.values));
const isCdf = (v: unknown): boolean => v === null || (Array.isArray(v) && v.every((x) => Array.isArray(x) && x.length === 2 && x.every(isNumber)));

/** What merge, its tables and charts read of a shard's spec and of each run, and what each must be. */
const SPEC_FIELDS: [string, (v: unknown) => boolean, string][] = [
  ['machine', isText, 'a profile name'], ['workload', isText, 'a workload name'], ['axes', isAxes, 'a list of {key, kind, values}'],
  ['strategies', isTexts, 'a list of strategy names'], ['seeds', isTexts, 'a list of seeds'],
];
const RUN_FIELDS: [string, (v: unknown) => boolean, string][] = [
  ['index', (v) => Number.isSafeInteger(v) && (v as number) >= 0, 'a run index'], ['point', isRecord, 'the point of the grid'],
  ['result.config.strategy', isText, 'a strategy name'], ['result.config.workload', isText, 'a workload name'],
  ['result.config.machine.profile', isText, 'a profile name'], ['result.config.warmupCycles', isNumber, 'a number'],
  ['result.seed', isText, 'a seed'], ['result.simulated.cycles', isNumber, 'a number'], ['result.simulated.seconds', isNumber, 'a number'],
  ['result.flushes.latencyCdf', isCdf, 'null or a list of [percent, cycles]'], ['result.warnings', isTexts, 'a list of warnings'],
];
const field = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((x, k) => (isRecord(x) ? x[k] : undefined), o);

/** A shard edited by hand or cut short is named at the first field that is not what sweep wrote. */
function checkShard(file: string, json: SweepJson): void {
  const bad = (path: string, what: string): never => {
    throw new ConfigError(`${file}: '${path}' is not ${what} (not a shard as lazytlb sweep --shard writes it)`);
  };
  for (const [path, ok, what] of SPEC_FIELDS) if (!ok(field(json.sweep, path))) bad(`sweep.${path}`, what);
  json.runs.forEach((run, i) => {
    for (const [path, ok, what] of RUN_FIELDS) if (!ok(field(run, path))) bad(`runs[${i}].${path}`, what);
  });
}

/**
 * `lazytlb merge SHARD...`: the shards of one sweep, joined into exactly what the unsharded sweep
 * gives: the same runs in grid order and the summary computed from them. Shards of different
 * sweeps, missing runs and duplicates are errors naming the file.
 */
export function mergeCommand(files: string[], o: MergeOptions, out: (s: string) => void, meta?: RunMeta): number | Promise<number> {
  if (files.length === 0) throw new ConfigError('merge needs the shard files');
  const shards = files.map(read);
  const spec = shards[0].sweep;
  const total = gridPoints(spec.axes).length * spec.strategies.length * spec.seeds.length;
  const byIndex = new Map<number, SweepRun>();
  shards.forEach((s, i) => {
    if (JSON.stringify(s.sweep) !== JSON.stringify(spec)) throw new ConfigError(`${files[i]}: a shard of another sweep than ${files[0]}'s`);
    for (const r of s.runs) {
      if (r.index >= total) throw new ConfigError(`${files[i]}: run ${r.index} is outside the sweep's ${total} runs`);
      if (byIndex.has(r.index)) throw new ConfigError(`${files[i]}: run ${r.index} is in another shard too`);
      byIndex.set(r.index, r);
    }
  });
  const missing = [];
  for (let i = 0; i < total && missing.length < 5; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) throw new ConfigError(`merge: runs ${missing.join(', ')}${missing.length === 5 ? ', ...' : ''} of ${total} are in none of the files (a shard is missing)`);
  const runs = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const json: SweepJson = { meta, sweep: spec, runs, summary: sweepSummary(spec, runs, o.baseline) };
  if (o.out !== undefined) writeSweep(o.out, json);
  out(o.json === true ? JSON.stringify(json, null, 2) : sweepTable(json, o.baseline));
  return o.out === undefined ? 0 : writeCharts(o.out, sweepCharts(json)).then(() => 0);
}
