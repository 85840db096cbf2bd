import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../../lib/errors';
import { strategyNames } from '../../tlb/strategies/index';
import { runsCsv, summaryCsv } from '../experiment/csv';
import { compareCharts, writeCharts } from '../report/report';
import type { RunMeta } from '../experiment/meta';
import { runAll } from '../experiment/pool';
import { seedList } from '../experiment/seeds';
import { summarizeByStrategy, type StrategySummary } from '../experiment/summary';
import type { RunJson } from '../result-json';
import type { RunConfig } from '../runner';
import { loadWorkload } from '../workloads/index';
import { loadStrategy } from './load-strategy';
import { progressBar } from './progress-bar';
import { runConfig, type SimOptions } from './sim-options';

/** Long enough for about 190 flushes of the default memcache, so the flush figures are not noise. */
export const COMPARE_DEFAULT_MS = 10;

export interface CompareOptions extends SimOptions {
  strategies?: string;
  seeds: number;
  jobs: number;
  /** `--host-timeout`, in ms: each run's host wall-clock budget (see RunAllOptions.hostTimeoutMs). */
  hostTimeout?: number;
  baseline?: string;
  csv?: boolean;
  out?: string;
}


/**
 * `lazytlb compare`: strategies (shipped names or files) on the same machine, workloads (`--workload
 * a,b`) and seeds, side by side. With more than one seed, each figure is a mean with its 95% interval, and a `*`
 * marks a strategy that differs significantly from `--baseline`. Runs go to `--jobs` worker threads.
 */
export function compareCommand(o: CompareOptions, out: (s: string) => void, warn: (s: string) => void, meta?: RunMeta): number | Promise<number> {
  if (o.csv === true && o.json === true) throw new ConfigError('--csv and --json: choose one (--out DIR writes both)');
  const names = o.strategies === undefined ? strategyNames() : o.strategies.split(',').map((s) => s.trim());
  const specs = o.workload.split(',').map((w) => w.trim());
  const workloads = specs.map((w) => loadWorkload(w));
  for (const name of names) loadStrategy(name); // every name checked before anything runs
  if (o.baseline !== undefined && !names.includes(o.baseline)) {
    throw new ConfigError(`--baseline '${o.baseline}' is not one of the compared strategies (${names.join(', ')})`);
  }
  const seeds = seedList(o.seed, o.seeds);
  // Each run carries its workload as given (a name or a file path): worker threads load it from that.
  const cfgs: RunConfig[] = workloads.flatMap((workload, w) =>
    names.flatMap((name) => seeds.map((seed) => runConfig(name, { ...o, workload: specs[w], seed }, workload, COMPARE_DEFAULT_MS))));
  const bar = progressBar(cfgs.length);
  const finish = (results: RunJson[]): number | Promise<number> => {
    bar.stop();
    const per = names.length * seeds.length;
    const byWorkload = workloads.map((_, w) => results.slice(w * per, (w + 1) * per));
    const summary = byWorkload.flatMap((runs) => summarizeByStrategy(runs, o.baseline));
    for (const s of summary) for (const w of s.warnings) warn(`warning: ${s.strategy}${workloads.length > 1 ? ` on ${s.workload}` : ''}: ${w}`);
    const json = { ...(meta === undefined ? {} : { meta }), results, ...(seeds.length > 1 ? { summary } : {}) };
    if (o.out !== undefined) writeOut(o.out, json, results, summary);
    if (o.json === true) out(JSON.stringify(json, null, 2));
    else if (o.csv === true) out(runsCsv(results).trimEnd());
    else {
      out(byWorkload.map((runs, w) => (seeds.length > 1
        ? summaryTable(runs[0], summary.filter((s) => s.workload === specs[w]), seeds, o.baseline)
        : compareTable(runs))).join('\n\n'));
    }
    return o.out === undefined ? 0 : writeCharts(o.out, compareCharts(json)).then(() => 0);
  };
  const results = runAll(cfgs, o.jobs, { progress: bar.progress, hostTimeoutMs: o.hostTimeout });
  return Array.isArray(results) ? finish(results) : results.then(finish, (err: unknown) => {
    bar.stop();
    throw err;
  });
}

/** `--out DIR`: results.json (every run, and the summary over seeds), results.csv (a row per run), summary.csv; the charts follow. */
function writeOut(dir: string, json: object, results: RunJson[], summary: StrategySummary[]): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(json, null, 2) + '\n');
    fs.writeFileSync(path.join(dir, 'results.csv'), runsCsv(results));
    fs.writeFileSync(path.join(dir, 'summary.csv'), summaryCsv(summary));
  } catch (err) {
    throw new ConfigError(`--out ${dir}: ${(err as Error).message}`);
  }
}

/** The table's columns: header, the metric's dotted path, decimals. */
const COLUMNS: [string, string, number][] = [
  ['IPIs', 'ipis.sent', 0], ['flushIPI', 'ipis.tlbFlush', 0], ['IPI/fl', 'perFlush.ipis', 2], ['toLazy', 'ipis.toLazyCpus', 0],
  ['spared', 'ipis.avoidedLazy', 0], ['flushes', 'flushes.count', 0], ['p50', 'flushes.latencyCycles.p50', 0],
  ['p99', 'flushes.latencyCycles.p99', 0], ['switches', 'contextSwitches.count', 0], ['switchMm', 'contextSwitches.switchMmCycles', 0],
  ['lines', 'coherence.lineTransfers', 0], ['RMWs', 'coherence.rmw', 0], ['walks', 'tlb.stlbMisses', 0],
  ['stale', 'violationCounts.staleTranslation', 0], ['freedPT', 'violationCounts.freedPageTable', 0], ['lockup', 'violationCounts.lockup', 0],
];

function header(r0: RunJson): string {
  return `${r0.config.workload} on ${r0.config.machine.profile}: ${r0.simulated.cycles} cycles (${(r0.simulated.seconds * 1e3).toFixed(2)} ms) measured after ${r0.config.warmupCycles} cycles of warm-up`;
}

function align(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), ...rows.map(fmt)];
}

const NOTE = '(flush latency p50/p99 and switchMm in cycles; "spared": lazy CPUs a flush did not interrupt; stale/freedPT/lockup: oracle violations over the whole run)';

/** One seed: the side-by-side table; a row whose run measured too little is marked, never shown as a plain result. */
export function compareTable(results: RunJson[]): string {
  const dash = (x: number | null, digits: number) => (x === null ? '-' : x.toFixed(digits));
  const get = (r: RunJson, path: string): number | null => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], r) as number | null;
  const rows = results.map((r) => [r.config.strategy + (r.warnings.length > 0 ? ' (!)' : ''), ...COLUMNS.map(([, p, d]) => dash(get(r, p), d))]);
  const lines = [`${header(results[0])}, seed ${results[0].seed}`, ...align(['strategy', ...COLUMNS.map(([h]) => h)], rows), NOTE];
  if (results.some((r) => r.warnings.length > 0)) lines.push('(!) too few flushes measured for the flush figures to mean anything: see the warnings');
  return lines.join('\n');
}

/** mean±half-width, the half-width to two significant digits and the mean to the same place. */
function plusMinus(mean: number, ci: number | null, digits: number): string {
  if (ci === null || ci === 0) return mean.toFixed(digits);
  const place = Math.max(digits === 0 ? 0 : -digits, Math.floor(Math.log10(ci)) - 1);
  const q = 10 ** place;
  const dec = Math.max(0, -place);
  return `${(Math.round(mean / q) * q).toFixed(dec)}±${(Math.round(ci / q) * q).toFixed(dec)}`;
}

/** Several seeds: each figure as mean ± 95% interval; `*` where it differs significantly from the baseline. */
export function summaryTable(r0: RunJson, summary: StrategySummary[], seeds: string[], baseline?: string): string {
  const rows = summary.map((s) => [
    s.strategy + (s.warnings.length > 0 ? ' (!)' : '') + (s.strategy === baseline ? ' (base)' : ''),
    ...COLUMNS.map(([, p, d]) => {
      const m = s.metrics[p];
      if (m === null || m === undefined) return '-';
      return plusMinus(m.mean, m.ci95, d) + (s.vsBaseline?.[p]?.significant === true ? '*' : '');
    }),
  ]);
  const lines = [
    `${header(r0)}; seeds ${seeds[0]}..${seeds[seeds.length - 1]}: mean ± 95% confidence interval over ${seeds.length} seeds`,
    ...align(['strategy', ...COLUMNS.map(([h]) => h)], rows),
    NOTE,
  ];
  if (baseline !== undefined) lines.push(`(* differs from ${baseline} at 95% confidence: Welch's interval for the difference excludes zero)`);
  if (summary.some((s) => s.warnings.length > 0)) lines.push('(!) too few flushes measured in some seeds for the flush figures to mean anything: see the warnings');
  return lines.join('\n');
}
