import { requireMeasured, scenarioRun } from './run';

export interface LocalFlushPoint {
  pages: number;
  /** Mean cycles of one flush_tlb_mm_range() call. */
  flushCycles: number;
  /** Mean cycles of touching the range again after the iteration's flushes: the refill. */
  refillCycles: number;
  /** Page walks per iteration (two flushes, then one touch of each page). */
  walksPerIteration: number;
}

/**
 * Hansen's measurement of a local flush_tlb_mm_range() against its size, taken with the
 * munmap-micro workload: one thread with no other CPU in its mm mprotects `pages` pages read-only
 * and back (two local flushes per iteration) and touches them again. Above the ceiling the flush
 * is a full one, and the refill shows up as the walks of the touches that follow.
 */
export function localFlush(machine: string, params: Record<string, string>, strategy: string, pages: number, cycles: number): LocalFlushPoint {
  const r = scenarioRun(machine, params, strategy, 'munmap-micro', { n: 0, op: 'mprotect', pages }, cycles, 100_000);
  const w = r.workload as { iterations: number; touchCycles: { mean: number } };
  requireMeasured(`local-flush (${pages} page${pages === 1 ? '' : 's'})`, 'iteration', Math.min(w.iterations, r.flushes.count), params, cycles);
  return {
    pages,
    flushCycles: r.flushes.latencyCycles.mean as number,
    refillCycles: w.touchCycles.mean,
    walksPerIteration: r.tlb.stlbMisses / w.iterations,
  };
}
