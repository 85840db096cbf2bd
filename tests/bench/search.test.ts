import { execFileSync } from 'child_process';
import * as path from 'path';
import { explore, exploreConfig } from '../../bench/explore';
import { runSimulation } from '../../bench/runner';
import { PCT_DEFAULT_DEPTH, estimatePctSteps } from '../../bench/search';
import { BUG_EXAMPLES } from '../../bench/search-examples';
import { searchConfig, seedsToDetection } from '../../bench/search-run';
import { STRATEGIES } from '../../tlb/strategies/index';
import { cli } from './run-cli';

/** `--search` (issue #11): options, what a run records, reproducers, and what PCT finds. */

const EXPLORE = ['explore', '--strategy', 'rfc2016-naive', '--jobs', '1'];
/** PCT's k for the exploration machine: 0.4 ms at its clock on its 4 CPUs. */
const exploreSteps = () => {
  const cfg = exploreConfig('rfc2016-naive');
  return estimatePctSteps(cfg.cycles + cfg.warmupCycles, 4);
};

test.each([
  [[...EXPLORE, '--search', 'dfs'], /--search expects one of random, pct, got 'dfs'/],
  [[...EXPLORE, '--search', 'pct', '--pct-depth', '0'], /--pct-depth expects an integer in \[1, 64\], got '0'/],
  [[...EXPLORE, '--search', 'pct', '--pct-depth', '65'], /--pct-depth expects an integer/],
  [[...EXPLORE, '--search', 'pct', '--pct-steps', '1.5'], /--pct-steps expects an integer/],
  [[...EXPLORE, '--search', 'pct', '--pct-steps', ''], /--pct-steps expects an integer/],
  [[...EXPLORE, '--pct-depth', '2'], /--pct-depth needs --search pct/],
  [[...EXPLORE, '--search', 'random', '--pct-steps', '100'], /--pct-steps needs --search pct/],
  [['run', '--strategy', 'linux-4.20', '--search', 'pct', '--ms', '0.01'], /--search pct needs --perturb/],
  [['litmus', 'bench/data/litmus/x86/SB.litmus', '--search', 'PCT'], /--search expects one of/],
  [['litmus', 'bench/data/litmus/x86/SB.litmus', '--pct-depth', '3'], /--pct-depth needs --search pct/],
])('bad search options give one line naming the option, exit 2: %j', (args, message) => {
  const r = cli(...args);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(message);
  expect(r.err.trim().split('\n').filter((l) => !l.startsWith('(run with --help'))).toHaveLength(1);
});

test('random, the default, records no search and its reproducers carry none; pct records d and k, resolved', () => {
  const random = JSON.parse(cli(...EXPLORE, '--seeds', '1', '--json').out);
  expect(random.search).toBeUndefined();
  expect(random.violations[0].reproduce).toMatch(/--perturb$/);
  const pct = JSON.parse(cli(...EXPLORE, '--seeds', '1', '--search', 'pct', '--json').out);
  expect(pct.search).toEqual({ mode: 'pct', depth: PCT_DEFAULT_DEPTH, steps: exploreSteps() });
  expect(pct.violations[0].reproduce).toMatch(new RegExp(`--perturb --search pct --pct-depth ${PCT_DEFAULT_DEPTH} --pct-steps ${exploreSteps()}$`));
  const text = cli(...EXPLORE, '--seeds', '1', '--search', 'pct', '--pct-depth', '5', '--pct-steps', '1234').out;
  expect(text).toMatch(/with timing perturbation, PCT search \(depth 5, 1234 estimated steps\)/);
  expect(cli(...EXPLORE, '--seeds', '1').out).toMatch(/with timing perturbation\n/);
});

test("a PCT violation's reproducer replays it exactly, and the run's JSON records the search", () => {
  const ex = JSON.parse(cli(...EXPLORE, '--seeds', '2', '--seed', '3', '--search', 'pct', '--pct-depth', '4', '--json').out);
  expect(ex.violations.length).toBeGreaterThan(0);
  for (const v of ex.violations) {
    const replay = cli(...v.reproduce.replace(/^npx lazytlb /, '').split(' '), '--json');
    expect(replay.code).toBe(1);
    const json = JSON.parse(replay.out);
    expect(json.config.search).toEqual({ mode: 'pct', depth: 4, steps: exploreSteps() });
    expect(json.violations.some((x: { kind: string; cpu: number; cycle: number }) => x.kind === v.kind && x.cpu === v.cpu && x.cycle === v.cycle)).toBe(true);
  }
});

test('the search changes the run: the same seed under pct and random differ, and each is deterministic', () => {
  const cfg = exploreConfig('linux-4.20');
  const pct = { ...cfg, search: { mode: 'pct' as const, depth: 3, steps: exploreSteps() } };
  const strip = (r: ReturnType<typeof runSimulation>) => JSON.stringify({ ...r, host: null });
  const a = strip(runSimulation(pct, STRATEGIES['linux-4.20']));
  expect(strip(runSimulation(pct, STRATEGIES['linux-4.20']))).toBe(a);
  expect(strip(runSimulation(cfg, STRATEGIES['linux-4.20']))).not.toBe(a);
  // A library caller's search is checked as the CLI's options are.
  expect(() => runSimulation({ ...cfg, search: { mode: 'pct', depth: 0, steps: 10 } }, STRATEGIES['linux-4.20'])).toThrow(/search.depth = 0: expected an integer in \[1, 64\]/);
});

test('the correct strategies stay clean under pct (no violation and no lockup the search made up)', () => {
  for (const name of ['linux-4.20', 'linux-6.15', 'intel-rar']) {
    const report = explore(searchConfig(name, 'pct'), STRATEGIES[name], 8, 1);
    expect({ name, counts: report.counts }).toEqual({ name, counts: {} });
  }
});

/**
 * The bug examples the bench finds at once under either search (bench/search-run.ts measures
 * them all): each within 5 seeds under pct. The rare races are left to `npm run bench:search`.
 */
test.each(BUG_EXAMPLES.filter((b) => ['freed-page-table', 'lockup'].includes(b.kind) || b.name.includes('catch-up') || b.name === 'local-only').map((b) => [`${b.name} ${b.kind}`, b] as const))(
  'PCT finds %s within 5 seeds',
  (_label, ex) => {
    const r = seedsToDetection(ex, 'pct', 5);
    expect(r.first).not.toBeNull();
  },
);

test('explore --search pct reports the same on two worker threads as on one', () => {
  const CLI = path.join(__dirname, '../../dist/bench/cli/main.js');
  const run = (jobs: string) => {
    try {
      return execFileSync('node', [CLI, ...EXPLORE.slice(0, 3), '--seeds', '4', '--search', 'pct', '--jobs', jobs, '--json'], { encoding: 'utf8' });
    } catch (e) {
      return (e as { stdout: string }).stdout; // exit 1: violations found
    }
  };
  const one = run('1');
  expect(JSON.parse(one).search.mode).toBe('pct');
  expect(run('2')).toBe(one);
});
