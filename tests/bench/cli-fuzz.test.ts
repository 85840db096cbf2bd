/**
 * Fuzzes the command line (issue #11): every command with flags drawn from its own flag set and
 * values from adversarial sets, repeated, missing or unknown. Each run must end in exit 0, 1 or
 * 2, never 3 (an internal error) and never with a stack trace; a bad input is one line; a run
 * that succeeds has simulated something or says why not. Durations and counts are drawn only
 * from values that are invalid or tiny, and the machine is small, so each run is short: the
 * point is the handling of the input, not the simulation.
 */
import fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PARAM_KEYS, type ParamKey } from '../../lib/machine/params';
import { profileNames } from '../../lib/machine/resolve';
import { strategyNames } from '../../tlb/strategies/index';
import { WORKLOADS } from '../../bench/workloads/index';
import type { Workload } from '../../bench/workloads/workload';
import { ADVERSARIAL, fuzzParams, fuzzTimeout, validMachineValues, validWorkloadValues } from '../fuzz';
import { checkCliOutcome } from './cli-fuzz-check';
import { shardFile } from './cli-fuzz-shards';
import { cliAsync } from './run-cli';

const ROOT = path.join(__dirname, '../..');
const LITMUS = path.join(ROOT, 'bench/data/litmus/x86');
const TRACES = path.join(ROOT, 'bench/data/traces');
const OUT = fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-fuzz-'));

/** Mostly valid values, so that most runs get past the parsing into the simulation; else adversarial ones. */
const mostly = (valid: readonly string[], invalid: readonly string[] = ADVERSARIAL): fc.Arbitrary<string> =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: fc.constantFrom(...invalid) });
/** A duration or a count: tiny valid values, or adversarial ones that are not a long duration or a large count. */
const tiny = (max: number, ...valid: string[]): fc.Arbitrary<string> => mostly(valid, ADVERSARIAL.filter((v) => !(Number(v) > max)));
const values = (...vs: string[]): fc.Arbitrary<string> => fc.constantFrom(...vs);

const files = (dir: string, ext: string) => fs.readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => path.join(dir, f));
const MISSING = path.join(OUT, 'missing.txt');
const PACKAGE_JSON = path.join(ROOT, 'package.json');
const junkFiles = [MISSING, OUT, PACKAGE_JSON, path.join(LITMUS, 'expected.txt'), ''];
// The small traces (the 21,000-line x86 capture is replayed by tests/bench/replay).
const smallTraces = files(TRACES, '.txt').filter((f) => fs.statSync(f).size < 64 * 1024);

const MALFORMED_ASSIGNMENTS = ['', '=', '=1', 'sockets', 'sockets==1', ' sockets = 1 ', '__proto__=1', 'constructor=1', 'nope=1'];
/** `key=value`: a key of the catalogue with a value mostly in its range, or malformed text. */
const assignment = (keys: fc.Arbitrary<string>, valid: (key: string) => string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: keys.chain((k) => mostly(valid(k)).map((v) => `${k}=${v}`)) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_ASSIGNMENTS) },
  );
// The topology keys a quarter of the time: they decide whether a machine has CPUs enough.
const TOPOLOGY = ['sockets', 'ccxPerSocket', 'coresPerCcx', 'threadsPerCore'];
const machineKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...PARAM_KEYS) }, { weight: 1, arbitrary: fc.constantFrom(...TOPOLOGY) });
const machineParam = assignment(machineKey, (k) => validMachineValues(k as ParamKey));
const workloadParam = (w: Workload) => assignment(fc.constantFrom(...Object.keys(w.params), 'nope'), (k) => (k in w.params ? validWorkloadValues(w.params[k]) : ['1']));

/** One flag and its value, or the flag alone (a missing value; commander may take the next flag as it). */
type FlagSpec = readonly [flag: string, value: fc.Arbitrary<string> | null];
function flag([name, value]: FlagSpec): fc.Arbitrary<string[]> {
  if (value === null) return fc.constant([name]);
  return fc.oneof({ weight: 9, arbitrary: value.map((v) => [name, v]) }, { weight: 1, arbitrary: fc.constant<string[]>([name]) });
}

const strategyValues = mostly(strategyNames(), ['', 'nope', 'all', './missing.ts', PACKAGE_JSON, 'LINUX-4.20']);
const strategyLists = mostly(['linux-4.20', 'eager,linux-6.15', 'linux-4.20,linux-4.20', 'linux-4.20, eager'], ['', ',', 'nope', 'all', './missing.ts', 'linux-4.20,']);
const workloadValues = mostly(Object.keys(WORKLOADS), ['', 'nope', ',', './missing.ts', PACKAGE_JSON, '__proto__']);
const machineValues = mostly(profileNames(), ['', 'nope', '__proto__', 'toString', 'SKYLAKE-SP-2S']);

/** The flags of the simulating commands (bench/cli/sim-options.ts), with workload parameters of `w`. */
const simFlags = (w: Workload): FlagSpec[] => [
  ['--machine', machineValues],
  ['--param', machineParam],
  ['--wparam', workloadParam(w)],
  ['--ms', tiny(0.05, '0.01', '0.05')],
  ['--cycles', tiny(50_000, '1', '1000', '5e4')],
  ['--warmup-ms', tiny(0.05, '0', '0.01')],
  ['--warmup-cycles', tiny(50_000, '0', '1000')],
  ['--seed', mostly(['1', '7', 'abc'])],
  ['--flush-ceiling', mostly(['0', '33', '1048576'])],
  ['--lockup-ms', tiny(0.05, '0.01', 'hard=0.01', 'csd=0.001', 'nope=0.01', '=0.01')],
  ['--lockup-cycles', tiny(50_000, '1000', 'flush=1000', 'soft=0', 'nope=1')],
  ['--no-pcid', null],
  ['--idle-leave-mm', null],
  ['--json', null],
];
/** `--search` and PCT's parameters (run and explore; litmus has no --pct-steps): no value makes a run longer. */
const SEARCH: FlagSpec[] = [['--search', mostly(['random', 'pct'], ['', 'PCT', 'dfs', 'pct,random'])], ['--pct-depth', mostly(['1', '3', '64'])], ['--pct-steps', mostly(['1', '100', '25600'])]];
const SEEDS: FlagSpec = ['--seeds', tiny(2, '1', '2')];
const JOBS: FlagSpec = ['--jobs', tiny(1, '1')];
// Only values it refuses: a valid budget runs even --jobs 1 on a worker thread, out of this process.
const HOST_TIMEOUT: FlagSpec = ['--host-timeout', values(...ADVERSARIAL.filter((v) => !(Number(v) > 0)))];
const WORKLOAD: FlagSpec = ['--workload', workloadValues];
const BASELINE: FlagSpec = ['--baseline', strategyValues];
const OUT_DIR: FlagSpec = ['--out', mostly([OUT], ['', MISSING + '/sub'])];
/** Flags no command has, or that stop it early (help, version): one draw in ten. */
const UNKNOWN = fc.constantFrom<string[]>(['--bogus', '1'], ['--bogus'], ['-x'], ['--ms=0.01'], ['--help'], ['--'], ['-V']);

/** A small machine and a short window first; the drawn flags come after and override them (commander keeps the last). */
const SMALL = ['--param', 'sockets=1', '--param', 'coresPerCcx=2'];
const SHORT_RUN = ['--ms', '0.01', '--warmup-cycles', '1000'];

interface Command {
  name: string;
  /** Positional arguments, drawn. */
  args: fc.Arbitrary<string[]>;
  /** Its flags; a simulating command's depend on the workload drawn for it. */
  flags: FlagSpec[] | ((w: Workload) => FlagSpec[]);
  /** Put before the drawn flags, unless a drawn flag conflicts with one of them. */
  defaults: string[];
  /** The workload a simulating command runs unless told. */
  workload?: string;
  runs: number;
}

const none = fc.constant<string[]>([]);
const axis = (w: Workload) =>
  fc.oneof(
    values('cpus=2,4', 'cpus=2', 'cpus=3', 'cpus=0', 'cpus=', 'cpus=abc', 'cpus=1e309', 'cpus=,,', '', '=', 'nope=1'),
    fc.constantFrom(...PARAM_KEYS).chain((k) => fc.subarray(validMachineValues(k), { minLength: 1, maxLength: 2 }).map((vs) => `${k}=${vs.join(',')}`)),
    workloadParam(w).map((a) => a.replace(/=(.*)$/, '=$1,$1')),
  );
const COMMANDS: Command[] = [
  { name: 'run', args: none, flags: (w) => [...simFlags(w), ['--strategy', strategyValues], ['--perturb', null], ...SEARCH], defaults: ['--strategy', 'linux-4.20', ...SMALL, ...SHORT_RUN], workload: 'memcache', runs: 150 },
  { name: 'explore', args: none, flags: (w) => [...simFlags(w), ['--strategy', strategyValues], SEEDS, JOBS, HOST_TIMEOUT, ...SEARCH], defaults: ['--strategy', 'linux-4.20', '--seeds', '1', '--jobs', '1', ...SHORT_RUN], workload: 'explore-mix', runs: 100 },
  {
    name: 'compare', args: none, runs: 100, workload: 'memcache',
    flags: (w) => [...simFlags(w), ['--strategies', strategyLists], SEEDS, JOBS, HOST_TIMEOUT, BASELINE, ['--csv', null], OUT_DIR],
    defaults: ['--strategies', 'linux-4.20,eager', '--seeds', '1', '--jobs', '1', ...SMALL, ...SHORT_RUN],
  },
  {
    name: 'sweep', args: none, runs: 80, workload: 'memcache',
    flags: (w) => [
      ...simFlags(w), ['--axis', axis(w)], ['--strategies', strategyLists], SEEDS, JOBS, HOST_TIMEOUT, BASELINE, OUT_DIR,
      ['--shard', mostly(['1/2', '2/2', '1/1'], ['0/1', '3/2', '1/0', 'a/b', '', '1', '99999999999999999999/1'])],
    ],
    defaults: ['--axis', 'cpus=2', '--strategies', 'linux-4.20', '--seeds', '1', '--jobs', '1', ...SMALL, ...SHORT_RUN],
  },
  {
    name: 'litmus', runs: 150,
    args: fc.array(mostly(files(LITMUS, '.litmus'), junkFiles), { minLength: 1, maxLength: 3 }),
    flags: [['--runs', tiny(3, '1', '3')], ['--seed', mostly(['1', 'x'])], ['--machine', machineValues], ['--param', machineParam], ['--expected', mostly([path.join(LITMUS, 'expected.txt')], junkFiles)], ['--json', null], ...SEARCH.slice(0, 2)],
    // Two CPUs: one drawn --param away from fewer CPUs than a test has threads.
    defaults: ['--runs', '2', ...SMALL],
  },
  {
    name: 'replay', runs: 80,
    args: fc.array(mostly(smallTraces, junkFiles), { minLength: 1, maxLength: 2 }),
    flags: [['--strategy', strategyValues], ['--strategies', strategyLists], ['--machine', machineValues], ['--param', machineParam], ['--seed', mostly(['1', 'x'])], ['--no-pcid', null], ['--lenient', null], ['--json', null]],
    defaults: ['--strategies', 'linux-4.20'],
  },
  {
    name: 'validate', args: none, runs: 40,
    flags: [['--machine', machineValues], ['--param', machineParam], ['--json', null], ['--quick', null]],
    defaults: ['--quick', '--machine', 'zen3-1s'],
  },
  { name: 'workloads', args: fc.array(workloadValues, { maxLength: 2 }), flags: [], defaults: [], runs: 30 },
  { name: 'profiles', args: fc.array(machineValues, { maxLength: 2 }), flags: [], defaults: [], runs: 30 },
  { name: 'merge', args: fc.array(fc.oneof(shardFile(OUT, [...SMALL, ...SHORT_RUN]), values(...junkFiles)), { maxLength: 3 }), flags: [['--json', null], OUT_DIR, BASELINE], defaults: [], runs: 60 },
  { name: 'report', args: fc.array(values(OUT, MISSING, '', PACKAGE_JSON), { maxLength: 2 }), flags: [], defaults: [], runs: 20 },
  // Not commands: commander's own refusal must be one line and exit 2 too.
  { name: 'strategies', args: fc.array(strategyValues, { maxLength: 1 }), flags: [], defaults: [], runs: 10 },
  { name: '', args: fc.array(values('--bogus', 'nope', '', '-V', '--help'), { maxLength: 2 }), flags: [], defaults: [], runs: 20 },
];

/** Options that commander refuses together: a default is left out when a drawn flag takes its place. */
const CONFLICTS: Record<string, string[]> = {
  '--ms': ['--ms', '--cycles'], '--cycles': ['--ms', '--cycles'],
  '--warmup-ms': ['--warmup-ms', '--warmup-cycles'], '--warmup-cycles': ['--warmup-ms', '--warmup-cycles'],
  '--strategies': ['--strategies', '--strategy'], '--strategy': ['--strategies', '--strategy'],
};

function withDefaults(defaults: readonly string[], drawn: readonly string[][]): string[] {
  const taken = new Set(drawn.flatMap((f) => CONFLICTS[f[0]] ?? []));
  const out: string[] = [];
  for (let i = 0; i < defaults.length; i++) {
    const takesValue = i + 1 < defaults.length && !defaults[i + 1].startsWith('--');
    if (!taken.has(defaults[i])) out.push(defaults[i], ...(takesValue ? [defaults[i + 1]] : []));
    if (takesValue) i++;
  }
  return out;
}

function commandArgs(c: Command): fc.Arbitrary<string[]> {
  // A simulating command runs its default workload or a drawn one, and draws that one's parameters.
  const workload = c.workload === undefined ? fc.constant(null) : fc.option(fc.constantFrom(...Object.keys(WORKLOADS)), { freq: 2 });
  return workload.chain((name) => {
    const flags = typeof c.flags === 'function' ? [...c.flags(WORKLOADS[name ?? c.workload ?? '']), WORKLOAD] : c.flags;
    const anyFlag = flags.length === 0 ? UNKNOWN : fc.oneof({ weight: 9, arbitrary: fc.oneof(...flags.map(flag)) }, { weight: 1, arbitrary: UNKNOWN });
    return fc.tuple(c.args, fc.array(anyFlag, { maxLength: 4 })).map(([args, drawn]) => [
      ...(c.name === '' ? [] : [c.name]),
      ...args,
      ...withDefaults([...(name === null ? [] : ['--workload', name]), ...c.defaults], drawn),
      ...drawn.flat(),
    ]);
  });
}

/** Slower than this is a hang here: every drawn run is at most a few tens of thousands of cycles. */
const HANG_MS = 30_000;

describe('lazytlb CLI under fuzzed arguments', () => {
  // An --out whose value is missing takes the next flag as its directory: keep those out of the checkout.
  const cwd = process.cwd();
  beforeAll(() => process.chdir(OUT));
  afterAll(() => {
    process.chdir(cwd);
    fs.rmSync(OUT, { recursive: true, force: true });
  });

  test.each(COMMANDS.map((c) => [c.name || '(no command)', c] as const))('%s: exit 0, 1 or 2, one line on bad input, never a stack trace', async (_name, c) => {
    await fc.assert(
      fc.asyncProperty(commandArgs(c), async (args) => {
        const start = Date.now();
        const r = await cliAsync(...args);
        checkCliOutcome(args, r, Date.now() - start, HANG_MS);
      }),
      fuzzParams(c.runs),
    );
  }, fuzzTimeout(Math.min(...COMMANDS.map((c) => c.runs)), 60_000));
});
