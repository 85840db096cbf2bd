/**
 * Fuzzes the litmus parser and runner (issue #11) with edits of the real herdtools7 files: lines
 * deleted, duplicated, swapped or garbled. A mutant either parses and runs, every run ending in an
 * observed final state, or is refused with a ParseError naming its file and a line of it (or, for
 * a test with more threads than the machine has CPUs, a ConfigError naming the test).
 */
import fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, ParseError } from '../../../lib/errors';
import { resolveMachine } from '../../../lib/machine/resolve';
import { parseLitmus } from '../../../mem/litmus/parse';
import { LITMUS_DEFAULTS, runLitmus } from '../../../mem/litmus/run';
import { fuzzParams, fuzzTimeout, mutated, userErrorOr } from '../../fuzz';

const DIR = path.join(__dirname, '../../../bench/data/litmus/x86');
const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith('.litmus'));
/** Replacement tokens: the litmus syntax's own, so that many mutants get deep into the parser. */
const TOKENS = ['|', ';', '{', '}', '[', ']', '(', ')', '(*', '*)', '"', ',', '=', '/\\', '\\/', '~', 'exists', 'forall', 'locations', 'P0', 'P2', 'P99',
  'MOV', 'MFENCE', 'XCHG', 'LOCK', 'ADD', 'INC', 'CMPXCHG', 'EAX', 'EBX', 'RAX', '%eax', '$1', '$-1', '$99999999999999999999', '[x]', '[EAX]', 'x', 'y', 'z', '0:EAX', 'X86', 'X86_64', 'ARM'];

const mutant = fc.constantFrom(...FILES).chain((file) => fc.tuple(fc.constant(file), mutated(fs.readFileSync(path.join(DIR, file), 'utf8'), TOKENS)));

describe('litmus files under mutation', () => {
  test('a mutant parses and runs, or the error names its file and a line of it', () => {
    fc.assert(
      fc.property(mutant, fc.integer({ min: 1, max: 4 }), ([file, text], cores) => {
        const what = `${file} mutated:\n${text}\n`;
        const test = userErrorOr(what, () => parseLitmus(text, file));
        if (test instanceof Error) {
          if (!(test instanceof ParseError)) throw new Error(`${what}: expected a ParseError, got ${test.name}: ${test.message}`);
          expect(test.file).toBe(file);
          expect(test.line).toBeGreaterThanOrEqual(1);
          expect(test.line).toBeLessThanOrEqual(text.split('\n').length);
          return;
        }
        // One to four CPUs: fewer than some tests have threads.
        const machine = resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: cores, threadsPerCore: 1 });
        const report = userErrorOr(what, () => runLitmus(test, { ...LITMUS_DEFAULTS, runs: 3, seed: 1, machine }));
        if (report instanceof Error) {
          if (!(report instanceof ConfigError) || !report.message.includes(test.name)) throw new Error(`${what}: ${report.name}: ${report.message}`);
          return;
        }
        expect(Object.values(report.observed).reduce((a, b) => a + b, 0)).toBe(3);
      }),
      fuzzParams(1000),
    );
  }, fuzzTimeout(1000, 60_000));
});
