import type { SimMemory } from './memory';

/** What `hottestLines` reads of the coherence model: per-line transfer and busy-wait totals. */
export interface LineTotals {
  readonly nLines: number;
  readonly lineTransfers: Float64Array;
  readonly lineWaitCycles: Float64Array;
}

/** The `k` lines with the most cache-to-cache transfers (then busy-wait cycles), by name: the `hottestLines` stat. */
export function hottestLines(c: LineTotals, memory: SimMemory, k: number): Array<Record<string, unknown>> {
  const lines: number[] = [];
  for (let l = 0; l < c.nLines; l++) if (c.lineTransfers[l] > 0 || c.lineWaitCycles[l] > 0) lines.push(l);
  lines.sort((a, b) => c.lineTransfers[b] - c.lineTransfers[a] || c.lineWaitCycles[b] - c.lineWaitCycles[a] || a - b);
  return lines.slice(0, k).map((l) => ({
    line: memory.describeLine(l),
    transfers: c.lineTransfers[l],
    busyWaitCycles: c.lineWaitCycles[l],
  }));
}
