import type { RunJson } from '../result-json';

/** The sections of a run's JSON whose numbers a summary over seeds covers. */
const SECTIONS = ['ipis', 'flushes', 'contextSwitches', 'rates', 'perFlush', 'coherence', 'tlb', 'lazyMm', 'lru', 'kvm', 'lazyCoverage', 'violationCounts'] as const;

/**
 * Every figure of a run by dotted path (`flushes.latencyCycles.p50`, `rates.flushIpis`), in the
 * JSON's own order; null where the run measured nothing (a latency without flushes).
 */
export function metricsOf(r: RunJson): Map<string, number | null> {
  const out = new Map<string, number | null>();
  const walk = (prefix: string, v: unknown): void => {
    if (v === null || typeof v === 'number') out.set(prefix, v);
    else if (Array.isArray(v)) return; // a distribution (latencyCdf), not a figure
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v as object)) walk(`${prefix}.${k}`, x);
  };
  for (const s of SECTIONS) walk(s, r[s]);
  return out;
}
