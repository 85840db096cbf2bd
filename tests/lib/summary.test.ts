import { summarize, tQuantile975, welch } from '../../lib/stats/summary';

describe('statistics over seeds', () => {
  test("Student's t quantiles: the table's rows, interpolated between them, 1.96 in the limit", () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(4)).toBe(2.776);
    expect(tQuantile975(4.5)).toBeGreaterThan(2.571);
    expect(tQuantile975(4.5)).toBeLessThan(2.776);
    expect(tQuantile975(50)).toBeCloseTo(2.009, 2); // the exact value is 2.0086
    expect(tQuantile975(1e9)).toBeCloseTo(1.96, 3);
    expect(() => tQuantile975(0)).toThrow(RangeError);
  });

  test('mean, sample sd, 95% interval, min and max; nulls are left out', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9, null]);
    expect(s).not.toBeNull();
    expect(s?.n).toBe(8);
    expect(s?.mean).toBe(5);
    expect(s?.sd).toBeCloseTo(2.138, 3);
    expect(s?.ci95).toBeCloseTo((2.365 * 2.138) / Math.sqrt(8), 2);
    expect([s?.min, s?.max]).toEqual([2, 9]);
    expect(summarize([3])).toEqual({ n: 1, mean: 3, sd: 0, ci95: null, min: 3, max: 3 });
    expect(summarize([null, null])).toBeNull();
  });

  test("Welch's interval: a shift of several standard errors is significant, noise is not", () => {
    const a = summarize([10, 11, 9, 10, 10]);
    const b = summarize([14, 15, 13, 14, 14]);
    const c = summarize([10.5, 9.5, 11, 9, 10]);
    if (a === null || b === null || c === null) throw new Error('no summary');
    expect(welch(a, b)).toMatchObject({ diff: 4, significant: true });
    expect(welch(a, c).significant).toBe(false);
    expect(welch(a, summarize([12]) as NonNullable<ReturnType<typeof summarize>>).ci95).toBeNull();
  });
});
