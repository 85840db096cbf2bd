/**
 * Shared bits of the perf suites: the deterministic increment table, run options and the
 * result rows that `run.ts` turns into the summary table.
 */
import { RngStreams } from '../../lib/rng';

/** One line of the summary table. `value` is in operations (or events) per wall second. */
export interface Figure {
  label: string;
  value: number;
  unit: string;
  /** Required rate, if the suite has a stated target. */
  target?: number;
  /** A target the figure must not exceed (wall seconds, a ratio, megabytes). */
  ceiling?: number;
  /** Free text printed after the figure (spread, sample count). */
  note?: string;
}

export interface PerfOptions {
  quick: boolean;
}

/** Increment table size; a power of two so that `i & INC_MASK` indexes it. */
export const INC_SIZE = 4096;
export const INC_MASK = INC_SIZE - 1;
/** Increments are uniform in 1..INC_MAX cycles, so the mean is (INC_MAX + 1) / 2. */
export const INC_MAX = 64;
export const INC_MEAN = (INC_MAX + 1) / 2;

/**
 * Small positive time increments for the hold model, drawn once from a named seeded stream so
 * every case (and every run of the bench) sees the same sequence. Math.random is never used.
 */
export function incrementTable(): Int32Array {
  const rng = new RngStreams(1).stream('bench.increments');
  const t = new Int32Array(INC_SIZE);
  for (let i = 0; i < INC_SIZE; i++) t[i] = 1 + rng.int(INC_MAX);
  return t;
}

/** "12.3" for 12.3e6; `digits` after the point. */
export function millions(x: number, digits = 1): string {
  return (x / 1e6).toFixed(digits);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
