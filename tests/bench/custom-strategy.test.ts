import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { explore, exploreConfig } from '../../bench/explore';
import { loadStrategy } from '../../bench/cli/load-strategy';
import { loaderOptions } from '../../bench/load-module';
import { failure } from '../../bench/cli/main';
import { cli } from './run-cli';
import { smpMbStrategy } from './smp-mb-strategy';
import { STRATEGIES } from '../../tlb/strategies/index';

/**
 * The README's worked example: a user strategy in a TypeScript file, loaded the way
 * `--strategy ./examples/linux-4.20-no-mb.ts` loads it (it imports from 'lazytlb').
 */
const EXAMPLE = path.join(__dirname, '../../examples/linux-4.20-no-mb.ts');

test('a user strategy file loads, and the oracle catches the missing smp_mb()', () => {
  const factory = loadStrategy(EXAMPLE);
  expect(factory().name).toBe('linux-4.20-no-mb');
  const spec = path.relative(process.cwd(), EXAMPLE);
  const broken = explore(exploreConfig(spec), factory, 60, 1); // seeds 1..60 (seeds 7, 31 and 47 hit the window)
  expect(broken.counts['stale-translation'] ?? 0).toBeGreaterThan(0);
  const v = broken.first.find((x) => x.kind === 'stale-translation');
  expect(v?.reproduce).toContain('--strategy examples/linux-4.20-no-mb.ts');
  const real = explore(exploreConfig('linux-4.20'), STRATEGIES['linux-4.20'], 10, 1);
  expect(real.counts).toEqual({});
});

test('bad strategy files give one clear error', () => {
  expect(() => loadStrategy('./no/such/file.ts')).toThrow(/no file/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-'));
  fs.writeFileSync(path.join(dir, 'nothing.ts'), 'export const answer: number = 42;\n');
  expect(() => loadStrategy(path.join(dir, 'nothing.ts'))).toThrow(/expected a default \(or 'strategy'\) export/);
  fs.writeFileSync(path.join(dir, 'broken.ts'), 'export default class {\n  name = ;\n}\n');
  expect(() => loadStrategy(path.join(dir, 'broken.ts'))).toThrow(/broken.ts:2: Expression expected/);
  expect(() => loadStrategy('linux-9.99')).toThrow(/unknown strategy 'linux-9.99'/);
});

test('a TypeScript strategy is type-checked against the package\'s own types before it runs; the first error names file:line', () => {
  const file = smpMbStrategy('typo', ["yield k.mfence('now');"]);
  expect(() => loadStrategy(file)).toThrow(/typo\.ts:5: Expected 0 arguments, but got 1\./);
  loaderOptions.typeCheck = false; // what worker threads do: the main thread checked the file already
  try {
    expect(loadStrategy(file)().name).toBe('typo');
  } finally {
    loaderOptions.typeCheck = true;
  }
});

test('user modules load in every form: ESM .mjs and .js, CommonJS .cjs and .js, importing lazytlb from any directory', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-'));
  const esm = "import { Linux420 } from 'lazytlb';\nexport default class Mine extends Linux420 { name = 'mine'; }\n";
  const cjs = "const { Linux420 } = require('lazytlb');\nmodule.exports = class Mine extends Linux420 { constructor() { super(); this.name = 'mine'; } };\n";
  for (const [file, text] of [['a.mjs', esm], ['b.js', esm], ['c.cjs', cjs], ['d.js', cjs]] as const) {
    fs.writeFileSync(path.join(dir, file), text);
    expect(loadStrategy(path.join(dir, file))().name).toBe('mine');
  }
  fs.writeFileSync(path.join(dir, 'throws.js'), "throw new Error('boom at load');\n");
  expect(() => loadStrategy(path.join(dir, 'throws.js'))).toThrow(/throws\.js:1: boom at load/);
});

test("an error a user's strategy throws at run time names the user's file and line (source-mapped) and exits 2; lazytlb's own errors exit 3", () => {
  const file = smpMbStrategy('boom', ['yield k.mfence();', "throw new Error('boom: this barrier is broken');"]);
  const r = cli('run', '--strategy', file, '--ms', '2');
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/^lazytlb: .*boom\.ts:6: boom: this barrier is broken$/m);
  expect(r.err).not.toMatch(/\n\s+at /);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(failure(new TypeError('x is undefined'))).toBe(3);
    expect(String(err.mock.calls[0][0])).toMatch(/^lazytlb: internal error \(a bug in lazytlb; please report it with the command line\): x is undefined/);
  } finally {
    err.mockRestore();
  }
});
