import { StatGroup } from '../../../lib/stats/group';
import { formulaMismatch, shapeMismatch, type StatShapeGroup, type StatsOf } from '../../../lib/stats/shape';

/** A `workload` group as a run builds it: a counter, a histogram, a formula, a nested group. */
function workloadGroup(): StatGroup {
  const g = new StatGroup('').group('workload');
  g.counter('requests', 'requests served');
  g.histogram('latency', 'cycles per request');
  g.formula('queued', 'requests waiting', () => 3);
  const nic = g.group('nic');
  nic.counter('packets', 'packets received');
  nic.counter('drops', 'packets dropped');
  return g;
}

const DECLARED = { requests: 'counter', latency: 'histogram', queued: 'formula', nic: { packets: 'counter', drops: 'counter' } } as const satisfies StatShapeGroup;

describe('StatGroup.shape', () => {
  test('gives each entry its kind, child groups as their own shapes, in registration order', () => {
    expect(workloadGroup().shape()).toEqual(DECLARED);
    expect(Object.keys(workloadGroup().shape())).toEqual(['requests', 'latency', 'queued', 'nic']);
  });
});

describe('shapeMismatch', () => {
  test('an exact declaration matches, whatever its key order', () => {
    expect(shapeMismatch(workloadGroup(), DECLARED)).toBeNull();
    expect(shapeMismatch(workloadGroup(), { nic: { drops: 'counter', packets: 'counter' }, queued: 'formula', latency: 'histogram', requests: 'counter' })).toBeNull();
  });

  test('a wrong kind names the dotted path, what is registered and what was declared', () => {
    expect(shapeMismatch(workloadGroup(), { ...DECLARED, nic: { packets: 'counter', drops: 'histogram' } }))
      .toBe("stat 'workload.nic.drops' is registered as a counter but declared 'histogram'");
    expect(shapeMismatch(workloadGroup(), { ...DECLARED, queued: 'counter' })).toBe("stat 'workload.queued' is registered as a formula but declared 'counter'");
    expect(shapeMismatch(workloadGroup(), { ...DECLARED, nic: 'counter' })).toBe("stat 'workload.nic' is registered as a group but declared 'counter'");
    expect(shapeMismatch(workloadGroup(), { ...DECLARED, latency: { count: 'counter' } })).toBe("stat 'workload.latency' is registered as a histogram but declared a group");
  });

  test('a declared stat that is not registered, and a registered one that is not declared', () => {
    expect(shapeMismatch(workloadGroup(), { ...DECLARED, foo: 'counter' })).toBe("declared stat 'workload.foo' is not registered");
    expect(shapeMismatch(workloadGroup(), { ...DECLARED, nic: { packets: 'counter', drops: 'counter', errors: 'counter' } }))
      .toBe("declared stat 'workload.nic.errors' is not registered");
    const { queued, ...withoutQueued } = DECLARED;
    expect(queued).toBe('formula');
    expect(shapeMismatch(workloadGroup(), withoutQueued)).toBe("stat 'workload.queued' is registered but not declared");
    expect(shapeMismatch(workloadGroup(), { ...DECLARED, nic: { packets: 'counter' } })).toBe("stat 'workload.nic.drops' is registered but not declared");
  });

  test('a declaration from untyped code with a kind that does not exist, or no object at all, is named', () => {
    expect(shapeMismatch(workloadGroup(), { ...DECLARED, requests: 'count' } as unknown as StatShapeGroup))
      .toBe("declared stat 'workload.requests' has kind 'count': expected 'counter', 'histogram', 'formula' or a group of them");
    expect(shapeMismatch(workloadGroup(), 'counter' as unknown as StatShapeGroup)).toBe("stats of 'workload' are declared as a counter: expected an object of stat kinds");
  });

  test('an empty group matches an empty declaration, and nothing else', () => {
    const empty = new StatGroup('').group('workload');
    expect(shapeMismatch(empty, {})).toBeNull();
    expect(shapeMismatch(empty, { x: 'counter' })).toBe("declared stat 'workload.x' is not registered");
  });
});

describe('formulaMismatch', () => {
  test('declared formulas must dump finite numbers, nested ones too', () => {
    const shape = { n: 'formula', inner: { m: 'formula', c: 'counter' } } as const satisfies StatShapeGroup;
    expect(formulaMismatch({ n: 1, inner: { m: 2.5, c: 0 } }, shape, 'workload')).toBeNull();
    expect(formulaMismatch({ n: 1, inner: { m: { top: [] }, c: 0 } }, shape, 'workload'))
      .toBe("stat 'workload.inner.m' is declared 'formula' (a number) but its formula returned an object");
    expect(formulaMismatch({ n: NaN, inner: { m: 1, c: 0 } }, shape, 'workload')).toBe("stat 'workload.n' is declared 'formula' (a number) but its formula returned NaN");
    expect(formulaMismatch({ n: 'x', inner: { m: 1, c: 0 } }, shape, 'workload')).toBe("stat 'workload.n' is declared 'formula' (a number) but its formula returned a string");
    expect(formulaMismatch({ inner: { m: 1, c: 0 } }, shape, 'workload')).toBe("stat 'workload.n' is declared 'formula' (a number) but its formula returned undefined");
  });
});

test('StatsOf types a dump: counters and formulas as numbers, histograms as summaries, groups nested', () => {
  const d = workloadGroup().dump() as StatsOf<typeof DECLARED>;
  const n: number = d.requests + d.queued + d.nic.drops + d.latency.p99;
  expect(n).toBe(3);
  // @ts-expect-error -- not declared
  expect(d.nic.errors).toBeUndefined();
});
