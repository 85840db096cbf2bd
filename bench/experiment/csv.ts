import type { RunJson } from '../result-json';
import { metricsOf } from './metrics';
import type { StrategySummary } from './summary';

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function field(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const line = (cells: (string | number | null)[]): string => cells.map(field).join(',');

/** Columns before each run's own (a sweep's axis values): their names, and the cells of the i-th run. */
export interface LeadColumns {
  names: readonly string[];
  cells: (run: number) => readonly string[];
}

/**
 * One row per run: what ran (strategy, workload, machine, seed), then every figure by dotted path;
 * empty = not measured. A row may span lines (a quoted line break), so columns of its own go in
 * through `lead`, never by splitting the text at line breaks.
 */
export function runsCsv(results: readonly RunJson[], lead: LeadColumns = { names: [], cells: () => [] }): string {
  if (results.length === 0) return '';
  const keys = [...metricsOf(results[0]).keys()];
  const rows = [line([...lead.names, 'strategy', 'workload', 'machine', 'seed', ...keys])];
  results.forEach((r, i) => {
    const m = metricsOf(r);
    rows.push(line([...lead.cells(i), r.config.strategy, r.config.workload, r.config.machine.profile, r.seed, ...keys.map((k) => m.get(k) ?? null)]));
  });
  return rows.join('\n') + '\n';
}

/** One row per (strategy, workload, figure): n, mean, sd, the 95% half-width, min, max, and the test against the baseline. */
export function summaryCsv(summary: readonly StrategySummary[]): string {
  const rows = [line(['strategy', 'workload', 'metric', 'n', 'mean', 'sd', 'ci95', 'min', 'max', 'diffVsBaseline', 'diffCi95', 'significant'])];
  for (const s of summary) {
    for (const [k, m] of Object.entries(s.metrics)) {
      if (m === null) continue;
      const d = s.vsBaseline?.[k];
      rows.push(line([s.strategy, s.workload, k, m.n, m.mean, m.sd, m.ci95, m.min, m.max, d?.diff ?? null, d?.ci95 ?? null, d === undefined ? null : String(d.significant)]));
    }
  }
  return rows.join('\n') + '\n';
}
