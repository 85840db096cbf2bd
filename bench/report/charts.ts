import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { StrategySummary } from '../experiment/summary';
import type { SweepJson } from '../experiment/sweep';
import type { RunJson } from '../result-json';

/** A chart: a file name, a title, and its vega-lite spec (data inline, so the spec is the whole chart). */
export interface Chart {
  name: string;
  title: string;
  spec: TopLevelSpec;
}

const WIDTH = 420;
const HEIGHT = 260;

/**
 * The flush-latency CDF per strategy. With several seeds each percentile's latency is the mean over
 * the seeds (a "Vincentized" average of the distributions), which keeps the shape of each.
 */
export function latencyCdfChart(results: readonly RunJson[]): Chart | null {
  const acc = new Map<string, Map<number, number[]>>();
  for (const r of results) {
    if (r.flushes.latencyCdf === null) continue;
    let by = acc.get(r.config.strategy);
    if (by === undefined) acc.set(r.config.strategy, (by = new Map()));
    for (const [p, cycles] of r.flushes.latencyCdf) (by.get(p) ?? by.set(p, []).get(p) as number[]).push(cycles);
  }
  const values: { strategy: string; fraction: number; cycles: number }[] = [];
  for (const [strategy, by] of acc) {
    for (const [p, xs] of by) values.push({ strategy, fraction: p / 100, cycles: Math.max(1, xs.reduce((a, b) => a + b, 0) / xs.length) });
  }
  if (values.length === 0) return null;
  return {
    name: 'flush-latency-cdf',
    title: 'Flush latency, cumulative distribution',
    spec: {
      width: WIDTH, height: HEIGHT, data: { values },
      mark: { type: 'line', point: true, interpolate: 'step-after' },
      encoding: {
        x: { field: 'cycles', type: 'quantitative', scale: { type: 'log' }, title: 'flush_tlb_mm_range latency (cycles, log scale)' },
        y: { field: 'fraction', type: 'quantitative', title: 'fraction of flushes', axis: { format: '%' } },
        color: { field: 'strategy', type: 'nominal', title: 'strategy', sort: null },
      },
    },
  };
}

/** A bar per strategy (and workload) of one summarized figure, with its 95% interval. */
export function barChart(name: string, title: string, metric: string, yTitle: string, groups: readonly { workload: string; strategies: readonly StrategySummary[] }[]): Chart | null {
  const values: { workload: string; strategy: string; mean: number; lo: number; hi: number }[] = [];
  for (const g of groups) {
    for (const s of g.strategies) {
      const m = s.metrics[metric];
      if (m === null || m === undefined) continue;
      const ci = m.ci95 ?? 0;
      values.push({ workload: g.workload, strategy: s.strategy, mean: m.mean, lo: m.mean - ci, hi: m.mean + ci });
    }
  }
  if (values.length === 0) return null;
  const x = { field: 'strategy', type: 'nominal' as const, title: 'strategy', sort: null };
  return {
    name, title,
    spec: {
      data: { values },
      facet: { column: { field: 'workload', type: 'nominal', title: 'workload' } },
      spec: {
        width: Math.max(160, 26 * (values.length / groups.length)), height: HEIGHT,
        layer: [
          { mark: 'bar', encoding: { x, y: { field: 'mean', type: 'quantitative', title: yTitle } } },
          { mark: { type: 'rule', color: 'black' }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
        ],
      },
    },
  };
}

/** Figures a sweep charts against its first axis (one line per strategy, the 95% interval as a band). */
export const SWEEP_METRICS: readonly [string, string][] = [
  ['rates.flushIpis', 'flush IPIs per simulated second'],
  ['perFlush.ipis', 'IPIs per flush'],
  ['flushes.latencyCycles.p50', 'median flush latency (cycles)'],
  ['contextSwitches.switchMmCycles', 'cycles in switch_mm and enter_lazy_tlb'],
];

/** One figure of a sweep against its first axis; further axes become columns. */
export function sweepChart(json: SweepJson, metric: string, yTitle: string): Chart | null {
  const [first, ...rest] = json.sweep.axes;
  const values: Record<string, string | number>[] = [];
  for (const p of json.summary ?? []) {
    for (const s of p.strategies) {
      const m = s.metrics[metric];
      if (m === null || m === undefined) continue;
      const ci = m.ci95 ?? 0;
      const other = rest.map((a) => `${a.key}=${p.point[a.key]}`).join(' ');
      values.push({ x: Number(p.point[first.key]), other, strategy: s.strategy, mean: m.mean, lo: m.mean - ci, hi: m.mean + ci });
    }
  }
  if (values.length === 0 || values.some((v) => !Number.isFinite(v.x as number))) return null;
  const x = { field: 'x', type: 'quantitative' as const, title: first.key === 'cpus' ? 'CPUs' : first.key };
  const color = { field: 'strategy', type: 'nominal' as const, title: 'strategy', sort: null };
  const layered = {
    width: WIDTH, height: HEIGHT,
    layer: [
      { mark: { type: 'area' as const, opacity: 0.2 }, encoding: { x, y: { field: 'lo', type: 'quantitative' as const }, y2: { field: 'hi' }, color } },
      { mark: { type: 'line' as const, point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative' as const, title: yTitle }, color } },
    ],
  };
  const spec: TopLevelSpec = rest.length === 0
    ? { data: { values }, ...layered }
    : { data: { values }, facet: { column: { field: 'other', type: 'nominal', title: rest.map((a) => a.key).join(', ') } }, spec: layered };
  return { name: `sweep-${metric.replace(/\./g, '-')}`, title: `${yTitle} against ${x.title}`, spec };
}

/** Renders a chart to SVG in Node (vega's headless renderer: no browser, no canvas). */
export async function renderSvg(chart: Chart): Promise<string> {
  const view = new vega.View(vega.parse(compile(chart.spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
