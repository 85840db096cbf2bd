import * as fs from 'fs';
import * as path from 'path';
import { Counter } from '../../lib/stats/counter';
import { Histogram, HISTOGRAM_MAX_TRACKABLE } from '../../lib/stats/histogram';
import { StatGroup } from '../../lib/stats/group';
import { VERSION } from '../../lib/version';

describe('Counter', () => {
  test('inc, add, reset', () => {
    const c = new Counter('hits', 'TLB hits');
    expect(c.value).toBe(0);
    c.inc();
    c.inc();
    c.add(5);
    expect(c.value).toBe(7);
    expect(c.name).toBe('hits');
    expect(c.doc).toBe('TLB hits');
    c.reset();
    expect(c.value).toBe(0);
  });
});

describe('Histogram', () => {
  test('1..1000 once each: exact mean/min/max, percentiles within HDR precision', () => {
    const h = new Histogram('lat', 'latency');
    for (let v = 1; v <= 1000; v++) h.record(v);
    expect(h.count).toBe(1000);
    expect(h.mean).toBe(500.5);
    expect(h.min).toBe(1);
    expect(h.max).toBe(1000);
    // Below 2048 HDR (3 digits) has unit resolution, so these are exact.
    expect(h.percentile(50)).toBe(500);
    expect(h.percentile(90)).toBe(900);
    expect(h.percentile(99)).toBe(990);
    expect(h.percentile(100)).toBe(1000);
    expect(h.summary()).toEqual({
      count: 1000, mean: 500.5, min: 1, p50: 500, p90: 900, p99: 990, p999: 999, max: 1000,
    });
  });

  test('large values: percentiles within 0.1%, never above the exact max', () => {
    const h = new Histogram('lat', 'latency');
    for (let v = 1; v <= 1000; v++) h.record(v * 1000 + 7);
    const p50 = h.percentile(50);
    expect(Math.abs(p50 - 500007) / 500007).toBeLessThan(0.001);
    expect(h.max).toBe(1000007);
    expect(h.percentile(100)).toBe(1000007);
    expect(h.mean).toBe(500507);
  });

  test('zero is recordable', () => {
    const h = new Histogram('z', '');
    h.record(0);
    h.record(0);
    h.record(4);
    expect(h.summary()).toEqual({ count: 3, mean: 4 / 3, min: 0, p50: 0, p90: 4, p99: 4, p999: 4, max: 4 });
  });

  test('values above the trackable max are clamped in HDR but exact in min/max/mean', () => {
    const h = new Histogram('big', '');
    const huge = HISTOGRAM_MAX_TRACKABLE * 4;
    h.record(huge);
    h.record(2);
    expect(h.max).toBe(huge);
    expect(h.mean).toBe((huge + 2) / 2);
    expect(h.percentile(50)).toBe(2);
    expect(h.percentile(100)).toBeLessThanOrEqual(huge);
  });

  test('empty summary is all zeros; reset empties', () => {
    const h = new Histogram('e', '');
    const zeros = { count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    expect(h.summary()).toEqual(zeros);
    h.record(10);
    h.record(20);
    h.reset();
    expect(h.summary()).toEqual(zeros);
    h.record(3);
    expect(h.summary()).toEqual({ count: 1, mean: 3, min: 3, p50: 3, p90: 3, p99: 3, p999: 3, max: 3 });
  });

  test('bad input throws', () => {
    const h = new Histogram('b', '');
    expect(() => h.record(-1)).toThrow(RangeError);
    expect(() => h.record(NaN)).toThrow(RangeError);
    expect(() => h.percentile(0)).toThrow(RangeError);
    expect(() => h.percentile(101)).toThrow(RangeError);
  });
});

describe('StatGroup', () => {
  test('paths', () => {
    const root = new StatGroup('');
    expect(root.path).toBe('');
    const mem = root.group('mem');
    const lines = new StatGroup('lines', mem);
    expect(mem.path).toBe('mem');
    expect(lines.path).toBe('mem.lines');
    expect(lines.name).toBe('lines');
    expect(root.group('mem')).toBe(mem);
    expect(mem.group('lines')).toBe(lines);
    const named = new StatGroup('sim');
    expect(named.group('cpu0').path).toBe('sim.cpu0');
  });

  test('nested dump in registration order, formula evaluated lazily', () => {
    const root = new StatGroup('');
    const cpu = root.group('cpu0');
    const tlb = cpu.group('tlb');
    const hits = tlb.counter('hits', 'TLB hits');
    const misses = tlb.counter('misses', 'TLB misses');
    let calls = 0;
    tlb.formula('hitRate', 'hits / lookups', () => {
      calls++;
      return hits.value / (hits.value + misses.value);
    });
    const lat = cpu.histogram('flushLatency', 'cycles per flush');
    const mem = root.group('mem');
    mem.counter('transfers', 'cache-to-cache transfers').add(9);
    expect(calls).toBe(0);

    hits.add(3);
    misses.inc();
    lat.record(10);
    lat.record(30);
    const d = root.dump();
    expect(calls).toBe(1);
    expect(d).toEqual({
      cpu0: {
        tlb: { hits: 3, misses: 1, hitRate: 0.75 },
        flushLatency: { count: 2, mean: 20, min: 10, p50: 10, p90: 30, p99: 30, p999: 30, max: 30 },
      },
      mem: { transfers: 9 },
    });
    // Key order is part of the contract (byte-identical JSON).
    expect(JSON.stringify(d)).toBe(
      '{"cpu0":{"tlb":{"hits":3,"misses":1,"hitRate":0.75},' +
        '"flushLatency":{"count":2,"mean":20,"min":10,"p50":10,"p90":30,"p99":30,"p999":30,"max":30}},' +
        '"mem":{"transfers":9}}',
    );
    hits.inc();
    expect((root.dump().cpu0 as any).tlb.hitRate).toBe(0.8);
    expect(calls).toBe(2);
  });

  test('duplicate and invalid names throw', () => {
    const root = new StatGroup('');
    const g = root.group('g');
    g.counter('x', '');
    expect(() => g.counter('x', '')).toThrow(/duplicate stat name 'g.x'/);
    expect(() => g.histogram('x', '')).toThrow(Error);
    expect(() => g.formula('x', '', () => 1)).toThrow(Error);
    expect(() => new StatGroup('x', g)).toThrow(Error);
    expect(() => g.group('x')).toThrow(/is a counter/);
    expect(() => new StatGroup('g', root)).toThrow(/duplicate/);
    expect(() => g.counter('a.b', '')).toThrow(Error);
    expect(() => g.counter('', '')).toThrow(Error);
    expect(() => g.counter('__proto__', '')).toThrow(Error);
  });

  test('reset is recursive and leaves formulas alone', () => {
    const root = new StatGroup('');
    const c = root.counter('top', '');
    const h = root.group('a').group('b').histogram('h', '');
    root.formula('const', '', () => 42);
    c.add(4);
    h.record(7);
    root.reset();
    expect(root.dump()).toEqual({
      top: 0,
      a: { b: { h: { count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 } } },
      const: 42,
    });
  });

  test('find resolves relative dotted paths to counters and histograms', () => {
    const root = new StatGroup('');
    const t = root.group('mem').group('lines').counter('transfers', '');
    const h = root.group('mem').histogram('lat', '');
    root.group('mem').formula('f', '', () => 1);
    expect(root.find('mem.lines.transfers')).toBe(t);
    expect(root.group('mem').find('lines.transfers')).toBe(t);
    expect(root.find('mem.lat')).toBe(h);
    expect(root.find('mem.f')).toBeUndefined();
    expect(root.find('mem.lines')).toBeUndefined();
    expect(root.find('mem.nope.transfers')).toBeUndefined();
    expect(root.find('nope')).toBeUndefined();
  });

  test('describe lists full paths, kinds and docs in dump order', () => {
    const root = new StatGroup('sim');
    const cpu = root.group('cpu1');
    cpu.counter('ipis', 'IPIs received');
    cpu.group('tlb').histogram('flush', 'flush latency (cycles)');
    root.formula('total', 'sum over CPUs', () => 0);
    expect(root.describe()).toEqual([
      { path: 'sim.cpu1.ipis', kind: 'counter', doc: 'IPIs received' },
      { path: 'sim.cpu1.tlb.flush', kind: 'histogram', doc: 'flush latency (cycles)' },
      { path: 'sim.total', kind: 'formula', doc: 'sum over CPUs' },
    ]);
    expect(cpu.describe().map((d) => d.path)).toEqual(['sim.cpu1.ipis', 'sim.cpu1.tlb.flush']);
  });
});

describe('VERSION', () => {
  test('equals the version in package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    expect(pkg.name).toBe('lazytlb');
    expect(VERSION).toBe(pkg.version);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});
