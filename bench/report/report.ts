import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../../lib/errors';
import type { RunMeta } from '../experiment/meta';
import type { StrategySummary } from '../experiment/summary';
import type { SweepJson } from '../experiment/sweep';
import type { RunJson } from '../result-json';
import { barChart, latencyCdfChart, renderSvg, sweepChart, SWEEP_METRICS, type Chart } from './charts';

/** What `compare --out` writes to results.json. */
export interface CompareJson {
  meta?: RunMeta;
  results: RunJson[];
  summary?: StrategySummary[];
}

/** The charts of a comparison: the latency CDF, IPIs per flush and flush IPIs per second per strategy. */
export function compareCharts(json: CompareJson): Chart[] {
  const summary = json.summary ?? [];
  const workloads = [...new Set(summary.map((s) => s.workload))];
  const groups = workloads.map((workload) => ({ workload, strategies: summary.filter((s) => s.workload === workload) }));
  return [
    latencyCdfChart(json.results),
    barChart('ipis-per-flush', 'IPIs per flush', 'perFlush.ipis', 'IPIs per flush', groups),
    barChart('flush-ipis-per-second', 'Flush IPIs per simulated second', 'rates.flushIpis', 'flush IPIs / s', groups),
  ].filter((c): c is Chart => c !== null);
}

/** The charts of a sweep: each of SWEEP_METRICS against the first axis, and the latency CDF of all its runs. */
export function sweepCharts(json: SweepJson): Chart[] {
  return [...SWEEP_METRICS.map(([m, t]) => sweepChart(json, m, t)), latencyCdfChart(json.runs.map((r) => r.result))]
    .filter((c): c is Chart => c !== null);
}

/** Renders the charts into `dir` as name.svg; returns the SVG texts in order. */
export async function writeCharts(dir: string, charts: readonly Chart[]): Promise<string[]> {
  const svgs: string[] = [];
  for (const c of charts) {
    const svg = await renderSvg(c);
    fs.writeFileSync(path.join(dir, `${c.name}.svg`), svg);
    svgs.push(svg);
  }
  return svgs;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(4));

/** The summary as an HTML table: a row per strategy, mean ± 95% interval per figure. */
function summaryTable(strategies: readonly StrategySummary[], heading: string): string {
  const cols: [string, string][] = [['flush IPIs', 'ipis.tlbFlush'], ['IPIs/flush', 'perFlush.ipis'], ['flushes', 'flushes.count'],
    ['p50 cycles', 'flushes.latencyCycles.p50'], ['p99 cycles', 'flushes.latencyCycles.p99'], ['switches', 'contextSwitches.count'],
    ['switch_mm cycles', 'contextSwitches.switchMmCycles'], ['stale', 'violationCounts.staleTranslation'], ['freed PT', 'violationCounts.freedPageTable'], ['lockup', 'violationCounts.lockup']];
  const rows = strategies.map((s) => `<tr><th>${esc(s.strategy)}</th>${cols.map(([, k]) => {
    const m = s.metrics[k];
    return `<td>${m === null || m === undefined ? '-' : esc(num(m.mean) + (m.ci95 === null ? '' : ` ± ${num(m.ci95)}`))}</td>`;
  }).join('')}</tr>`);
  return `<h2>${esc(heading)}</h2><table><tr><th>strategy</th>${cols.map(([h]) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.join('')}</table>`;
}

/** A self-contained HTML page: where the results came from, the tables, and every chart inline. */
export function reportHtml(title: string, meta: RunMeta | undefined, tables: string[], charts: readonly Chart[], svgs: readonly string[], warnings: readonly string[]): string {
  const metaLine = meta === undefined ? '' : `<p class="meta">${esc(meta.command)} — lazytlb ${esc(meta.version)}${meta.commit === null ? '' : ` (${esc(meta.commit.slice(0, 12))})`}, Node ${esc(meta.node)}, ${esc(meta.startedAt)}</p>`;
  const figures = charts.map((c, i) => `<figure id="${esc(c.name)}"><figcaption>${esc(c.title)}</figcaption>${svgs[i]}</figure>`);
  const warn = warnings.length === 0 ? '' : `<h2>Warnings</h2><ul>${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th:first-child{text-align:left}figure{margin:2em 0}figcaption{font-weight:bold;margin-bottom:.5em}.meta{color:#555}</style>
</head><body><h1>${esc(title)}</h1>${metaLine}${tables.join('\n')}${warn}${figures.join('\n')}</body></html>
`;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
}

/**
 * `lazytlb report DIR`: from DIR/results.json (compare --out) or DIR/sweep.json (sweep or merge
 * --out), renders the charts into DIR and writes DIR/report.html. Returns the report's path.
 */
export async function writeReport(dir: string): Promise<string> {
  const compareFile = path.join(dir, 'results.json');
  const sweepFile = path.join(dir, 'sweep.json');
  let html: string;
  if (fs.existsSync(sweepFile)) {
    const json = readJson(sweepFile) as SweepJson;
    if (json.summary === undefined) throw new ConfigError(`${sweepFile}: a shard; merge the shards first (lazytlb merge)`);
    const charts = sweepCharts(json);
    const tables = json.summary.map((p) => summaryTable(p.strategies, Object.entries(p.point).map(([k, v]) => `${k}=${v}`).join(' ')));
    const warnings = [...new Set(json.runs.flatMap((r) => r.result.warnings.map((w) => `${r.result.config.strategy}: ${w}`)))];
    html = reportHtml(`lazytlb sweep: ${json.sweep.workload} on ${json.sweep.machine}`, json.meta, tables, charts, await writeCharts(dir, charts), warnings);
  } else if (fs.existsSync(compareFile)) {
    const json = readJson(compareFile) as CompareJson;
    const r0 = json.results[0];
    const charts = compareCharts(json);
    const summary = json.summary ?? [];
    const tables = [...new Set(summary.map((s) => s.workload))].map((w) =>
      summaryTable(summary.filter((s) => s.workload === w), `${w} on ${r0.config.machine.profile}, ${summary[0].seeds.length} seeds`));
    const warnings = [...new Set(json.results.flatMap((r) => r.warnings.map((w) => `${r.config.strategy}: ${w}`)))];
    html = reportHtml(`lazytlb compare: ${[...new Set(json.results.map((r) => r.config.workload))].join(', ')} on ${r0.config.machine.profile}`, json.meta, tables, charts, await writeCharts(dir, charts), warnings);
  } else {
    throw new ConfigError(`${dir}: no results.json or sweep.json (write one with compare --out DIR or sweep --out DIR)`);
  }
  const file = path.join(dir, 'report.html');
  fs.writeFileSync(file, html);
  return file;
}
