import * as fs from 'fs';
import * as path from 'path';
import { resolveMachine } from '../../../lib/machine/resolve';
import { formatState } from '../../../mem/litmus/condition';
import { parseLitmus } from '../../../mem/litmus/parse';
import { LITMUS_DEFAULTS, litmusSteps, runOnce, type LitmusOptions } from '../../../mem/litmus/run';
import { tsoFinalStates } from '../../../mem/litmus/tso-model';
import { PCT_DEFAULT_DEPTH } from '../../../bench/search';

/**
 * Litmus runs under `--search pct` (issue #11's goal): on both conformance profiles, every state
 * a run ends in is one x86-TSO allows, and every state it allows shows up within 300 runs.
 */
const GOAL_RUNS = 300;
const DIR = path.join(__dirname, '../../../bench/data/litmus/x86');
const catalogue = fs.readdirSync(DIR).filter((f) => f.endsWith('.litmus')).sort().map((f) => parseLitmus(fs.readFileSync(path.join(DIR, f), 'utf8'), f));

describe.each(['skylake-sp-2s', 'zen3-1s'])('PCT litmus runs on %s', (profile) => {
  const machine = resolveMachine(profile);
  test.each(catalogue.map((t) => [t.name, t] as const))('%s: sound, and every allowed state within 300 runs', (_name, test) => {
    const options: LitmusOptions = { ...LITMUS_DEFAULTS, seed: 'pct-test', machine, pct: { depth: PCT_DEFAULT_DEPTH } };
    const allowed = tsoFinalStates(test);
    const missing = new Set(allowed);
    const forbidden: string[] = [];
    for (let run = 0; run < GOAL_RUNS && missing.size > 0; run++) {
      const key = formatState(test, runOnce(test, options, run));
      missing.delete(key);
      if (!allowed.has(key)) forbidden.push(key);
    }
    expect({ forbidden, missing: [...missing] }).toEqual({ forbidden: [], missing: [] });
  });
});

test("k is the test's steps: each memory instruction, plus a drain per store", () => {
  const sb = catalogue.find((t) => t.name === 'SB')!;
  // SB: per thread a store (its issue and its drain) and a load.
  expect(litmusSteps(sb)).toBe(sb.threads.length * 3);
  const mfences = catalogue.find((t) => t.name === 'SB+mfences')!;
  expect(litmusSteps(mfences)).toBe(mfences.threads.length * 4);
});

test('a PCT run depends on its seed alone', () => {
  const test = catalogue.find((t) => t.name === 'R+mfence+rfi-po')!;
  const options: LitmusOptions = { ...LITMUS_DEFAULTS, seed: 7, machine: resolveMachine('skylake-sp-2s'), pct: { depth: 3 } };
  const states = (o: LitmusOptions) => Array.from({ length: 40 }, (_, run) => formatState(test, runOnce(test, o, run)));
  expect(states(options)).toEqual(states(options));
  expect(new Set(states(options)).size).toBeGreaterThan(1);
});
