/**
 * Statistics over seeds: one seed is one sample of a run's figures, so a comparison reports each
 * metric's mean with a 95% confidence interval (Student's t, for the small sample counts of
 * simulation experiments), and a difference between two strategies is significant when Welch's
 * 95% interval for it excludes zero (unequal variances, Welch-Satterthwaite degrees of freedom).
 */

export interface Summary {
  /** Samples (seeds) that produced a value; null values (nothing measured) are left out. */
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single sample. */
  sd: number;
  /** Half-width of the 95% confidence interval of the mean; null with fewer than two samples. */
  ci95: number | null;
  min: number;
  max: number;
}

/** Two-sided 95% quantiles of Student's t (t_0.975) for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
  2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
/** Beyond 30: 40, 60, 120 and infinitely many degrees of freedom. */
const T975_TAIL: [number, number][] = [[30, 2.042], [40, 2.021], [60, 2.0], [120, 1.98], [Infinity, 1.96]];

/**
 * t_0.975 for `df` degrees of freedom (df may be fractional, as Welch's is): the standard table,
 * interpolated linearly in 1/df between its rows, which is accurate to about 0.1%.
 */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new RangeError(`t quantile: ${df} degrees of freedom, expected at least 1`);
  if (df <= 30) {
    const lo = Math.floor(df);
    const hi = Math.ceil(df);
    if (lo === hi) return T975[lo - 1];
    return lerpInv(df, lo, T975[lo - 1], hi, T975[hi - 1]);
  }
  for (let i = 1; i < T975_TAIL.length; i++) {
    const [d1, t1] = T975_TAIL[i - 1];
    const [d2, t2] = T975_TAIL[i];
    if (df <= d2) return lerpInv(df, d1, t1, d2, t2);
  }
  return 1.96;
}

/** Linear interpolation in 1/df between (d1, t1) and (d2, t2); 1/Infinity = 0. */
function lerpInv(df: number, d1: number, t1: number, d2: number, t2: number): number {
  const x = 1 / df;
  const x1 = 1 / d1;
  const x2 = 1 / d2;
  return t1 + ((t2 - t1) * (x - x1)) / (x2 - x1);
}

/** Mean, standard deviation, 95% interval, min and max of the non-null samples. */
export function summarize(samples: readonly (number | null)[]): Summary | null {
  const xs = samples.filter((x): x is number => x !== null && Number.isFinite(x));
  const n = xs.length;
  if (n === 0) return null;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / n;
  let ss = 0;
  for (const x of xs) ss += (x - mean) * (x - mean);
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const ci95 = n > 1 ? (tQuantile975(n - 1) * sd) / Math.sqrt(n) : null;
  return { n, mean, sd, ci95, min, max };
}

export interface Difference {
  /** mean(b) - mean(a). */
  diff: number;
  /** Half-width of Welch's 95% interval for the difference; null if either side has one sample. */
  ci95: number | null;
  /** The interval excludes zero. */
  significant: boolean;
}

/** Welch's comparison of two summaries: b against the baseline a. */
export function welch(a: Summary, b: Summary): Difference {
  const diff = b.mean - a.mean;
  if (a.n < 2 || b.n < 2) return { diff, ci95: null, significant: false };
  const va = (a.sd * a.sd) / a.n;
  const vb = (b.sd * b.sd) / b.n;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { diff, ci95: 0, significant: diff !== 0 };
  const df = ((va + vb) * (va + vb)) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const ci95 = tQuantile975(Math.max(1, df)) * se;
  return { diff, ci95, significant: Math.abs(diff) > ci95 };
}
