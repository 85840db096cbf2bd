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
  return json;
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
