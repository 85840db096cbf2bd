import { summarize, welch, type Difference, type Summary } from '../../lib/stats/summary';
import type { RunJson } from '../result-json';
import { metricsOf } from './metrics';

/** One strategy's figures over seeds. */
export interface StrategySummary {
  strategy: string;
  /** The workload its runs ran (summaries are per strategy within one workload). */
  workload: string;
  seeds: string[];
  /** Every metric's summary by dotted path; null where no seed measured it. */
  metrics: Record<string, Summary | null>;
  /** Against the baseline strategy (absent for the baseline itself, or without one). */
  vsBaseline?: Record<string, Difference>;
  /** The seeds' warnings, each once. */
  warnings: string[];
}

const r4 = (x: number): number => Number(x.toPrecision(4));
const round = (s: Summary): Summary => ({
  n: s.n, mean: r4(s.mean), sd: r4(s.sd), ci95: s.ci95 === null ? null : r4(s.ci95), min: s.min, max: s.max,
});

/**
 * Groups runs (of one workload and machine) by strategy, in first-seen order, and summarizes every
 * metric over their seeds; with a baseline, each other strategy's difference from it (Welch's 95%
 * interval).
 */
export function summarizeByStrategy(results: readonly RunJson[], baseline?: string): StrategySummary[] {
  const groups = new Map<string, RunJson[]>();
  for (const r of results) {
    const g = groups.get(r.config.strategy);
    if (g === undefined) groups.set(r.config.strategy, [r]);
    else g.push(r);
  }
  const raw = new Map<string, Record<string, Summary | null>>();
  for (const [strategy, runs] of groups) {
    const per = runs.map(metricsOf);
    const metrics: Record<string, Summary | null> = {};
    for (const key of per[0].keys()) metrics[key] = summarize(per.map((m) => m.get(key) ?? null));
    raw.set(strategy, metrics);
  }
  const base = baseline === undefined ? undefined : raw.get(baseline);
  return [...groups].map(([strategy, runs]): StrategySummary => {
    const metrics = raw.get(strategy) as Record<string, Summary | null>;
    const out: StrategySummary = {
      strategy,
      workload: runs[0].config.workload,
      seeds: runs.map((r) => r.seed),
      metrics: Object.fromEntries(Object.entries(metrics).map(([k, s]) => [k, s === null ? null : round(s)])),
      warnings: [...new Set(runs.flatMap((r) => r.warnings))],
    };
    if (base !== undefined && strategy !== baseline) {
      const vs: Record<string, Difference> = {};
      for (const [k, s] of Object.entries(metrics)) {
        const b = base[k];
        if (s === null || b === null || b === undefined) continue;
        const d = welch(b, s);
        vs[k] = { diff: r4(d.diff), ci95: d.ci95 === null ? null : r4(d.ci95), significant: d.significant };
      }
      out.vsBaseline = vs;
    }
    return out;
  });
}
