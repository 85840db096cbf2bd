/**
 * Latency distribution (gem5 `Distribution`). Percentiles come from an HdrHistogram with 3
 * significant digits; count, sum, min and max are kept exactly alongside it, so mean/min/max
 * are exact and percentiles are within 0.1% of the true value.
 */
import { build, type Histogram as HdrHistogram } from 'hdr-histogram-js';

export interface HistogramSummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Values above this are recorded into HDR as this value (min/max/mean stay exact). Bounds the
 *  counts array of a runaway value to ~30 buckets instead of growing towards 2^53. */
export const HISTOGRAM_MAX_TRACKABLE = 2 ** 40;

export class Histogram {
  readonly name: string;
  readonly doc: string;
  private readonly hdr: HdrHistogram;
  private n: number;
  private sum: number;
  private lo: number;
  private hi: number;

  constructor(name: string, doc: string) {
    this.name = name;
    this.doc = doc;
    // 64-bit (Float64Array) counts never overflow in practice; autoResize starts the array small
    // (most latencies are a few thousand cycles) and grows it only when a larger value arrives.
    this.hdr = build({
      bitBucketSize: 64,
      autoResize: true,
      lowestDiscernibleValue: 1,
      highestTrackableValue: 4096,
      numberOfSignificantValueDigits: 3,
      useWebAssembly: false,
    });
    this.n = 0;
    this.sum = 0;
    this.lo = Infinity;
    this.hi = 0;
  }

  /** Record one sample: a non-negative number of cycles (0 is allowed). */
  record(value: number): void {
    if (!(value >= 0)) {
      throw new RangeError(`Histogram ${this.name}: cannot record ${value}`);
    }
    this.n++;
    this.sum += value;
    if (value < this.lo) this.lo = value;
    if (value > this.hi) this.hi = value;
    this.hdr.recordValue(value < HISTOGRAM_MAX_TRACKABLE ? value : HISTOGRAM_MAX_TRACKABLE);
  }

  get count(): number {
    return this.n;
  }

  /** Exact arithmetic mean; 0 when empty. */
  get mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }

  /** Exact minimum; 0 when empty. */
  get min(): number {
    return this.n === 0 ? 0 : this.lo;
  }

  /** Exact maximum; 0 when empty. */
  get max(): number {
    return this.hi;
  }

  /** Value at percentile p, p in (0, 100]; 0 when empty. */
  percentile(p: number): number {
    if (!(p > 0 && p <= 100)) {
      throw new RangeError(`Histogram ${this.name}: percentile must be in (0, 100], got ${p}`);
    }
    if (this.n === 0) return 0;
    const v = this.hdr.getValueAtPercentile(p);
    // HDR reports the top of the value's equivalence bucket, which may overshoot the exact
    // extremes by < 0.1%; clamping keeps min <= p50 <= ... <= p999 <= max in every report.
    return v < this.lo ? this.lo : v > this.hi ? this.hi : v;
  }

  summary(): HistogramSummary {
    if (this.n === 0) {
      return { count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    }
    return {
      count: this.n,
      mean: this.mean,
      min: this.lo,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: this.hi,
    };
  }

  reset(): void {
    this.hdr.reset();
    this.n = 0;
    this.sum = 0;
    this.lo = Infinity;
    this.hi = 0;
  }
}
