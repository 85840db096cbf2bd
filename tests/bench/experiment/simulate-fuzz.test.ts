/**
 * Fuzzes the parameters of a run through the library (issue #11): every shipped workload with
 * some of its own parameters and some machine parameters set to valid, borderline or adversarial
 * values, on a small machine and a window of a few thousand cycles. A run either measures
 * something (or warns that it measured too little), or is refused in one line naming a key it was
 * given; the workload parameters alone either resolve in their ranges or are refused so.
 */
import fc from 'fast-check';
import { PARAM_KEYS } from '../../../lib/machine/params';
import { simulate } from '../../../bench/experiment/api';
import { resolveWorkloadParams, type WorkloadParamSpec } from '../../../bench/workloads/params';
import { WORKLOADS } from '../../../bench/workloads/index';
import type { Workload } from '../../../bench/workloads/workload';
import { strategyNames } from '../../../tlb/strategies/index';
import { expectNames, fuzzParams, fuzzTimeout, paramValue, userErrorOr, validMachineValues, validWorkloadValues } from '../../fuzz';

type Values = Record<string, number | string>;

/** Some of `keys`, each with a value drawn for it. */
function someOf(keys: readonly string[], valid: (key: string) => string[], max: number): fc.Arbitrary<Values> {
  return fc.subarray([...keys], { maxLength: Math.min(max, keys.length) }).chain((ks) => fc.tuple(...ks.map((k) => paramValue(valid(k)))).map((vs) => Object.fromEntries(ks.map((k, i) => [k, vs[i]]))));
}

const workloadParams = (w: Workload) => someOf(Object.keys(w.params), (k) => validWorkloadValues(w.params[k]), 3);
const machineParams = someOf(PARAM_KEYS, (k) => validMachineValues(k as (typeof PARAM_KEYS)[number]), 3);

function inSpec(spec: WorkloadParamSpec, v: number | string): boolean {
  if (spec.unit === 'choice') return spec.choices.includes(v as string);
  if (spec.unit === 'cpulist') return typeof v === 'string';
  return typeof v === 'number' && v >= spec.min && v <= spec.max && (!spec.integer || Number.isInteger(v));
}

describe('run parameters under fuzzing', () => {
  test('resolveWorkloadParams: values in their ranges, or an error naming the key', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(WORKLOADS)).chain((name) => fc.tuple(fc.constant(name), workloadParams(WORKLOADS[name]))), ([name, input]) => {
        const w = WORKLOADS[name];
        const what = `${w.name} ${JSON.stringify(input)}`;
        const r = userErrorOr(what, () => resolveWorkloadParams(w.name, w.params, input));
        if (r instanceof Error) return expectNames(what, r, Object.keys(input));
        for (const [k, spec] of Object.entries(w.params)) expect(inSpec(spec, r[k])).toBe(true);
      }),
      fuzzParams(1000),
    );
  });

  test('simulate: a tiny run of any workload measures something, or the error names a key given', () => {
    const config = fc.constantFrom(...Object.keys(WORKLOADS)).chain((name) =>
      fc.record({
        workload: fc.constant(name),
        strategy: fc.constantFrom(...strategyNames()),
        // A small machine unless the drawn parameters say otherwise.
        params: machineParams.map((p) => ({ sockets: 1, coresPerCcx: 2, ...p })),
        workloadParams: workloadParams(WORKLOADS[name]),
        cycles: fc.integer({ min: 1, max: 20_000 }),
        warmupCycles: fc.integer({ min: 0, max: 2_000 }),
        seed: fc.integer({ min: 1, max: 1000 }),
      }),
    );
    fc.assert(
      fc.property(config, (c) => {
        const what = `simulate(${JSON.stringify(c)})`;
        const start = Date.now();
        const r = userErrorOr(what, () => simulate(c));
        // No hang: the window is at most 22,000 cycles, whatever the parameters.
        expect(Date.now() - start).toBeLessThan(30_000);
        // A default of the workload may be at fault too (munmap-micro's n spinners on 2 CPUs).
        if (r instanceof Error) return expectNames(what, r, [...Object.keys(c.params), ...Object.keys(WORKLOADS[c.workload].params)]);
        expect(r.simulated.cycles).toBe(c.cycles);
        expect(r.host.events).toBeGreaterThan(0);
        const activity = r.flushes.count + r.contextSwitches.count + r.coherence.lineTransfers + r.coherence.rmw + r.tlb.stlbMisses;
        if (activity === 0 && r.warnings.length === 0) throw new Error(`${what}: a silent zero: nothing measured and no warning`);
      }),
      fuzzParams(300),
    );
  }, fuzzTimeout(300, 60_000));
});
