import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cli } from './run-cli';

const DATA = path.join(__dirname, '../../bench/data/litmus/x86');

describe('lazytlb litmus', () => {
  test('--json prints the documented shape', () => {
    const r = cli('litmus', path.join(DATA, 'SB.litmus'), path.join(DATA, 'MP.litmus'), '--runs', '200', '--seed', '3', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.tests.map((t: { name: string }) => t.name)).toEqual(['SB', 'MP']);
    for (const t of json.tests) {
      expect(Object.keys(t)).toEqual(['name', 'runs', 'observed', 'conditionObserved', 'verdict']);
      expect(t.runs).toBe(200);
    }
    expect(json.tests[0].verdict).toBe('Allow');
    expect(json.tests[1].verdict).toBe('Forbid');
    expect(json.tests[0].observed['0:EAX=0; 1:EAX=0;']).toBeGreaterThan(0);
  });

  test('--expected compares verdicts and fails on a mismatch', () => {
    const ok = cli('litmus', path.join(DATA, 'SB.litmus'), '--runs', '200', '--expected', path.join(DATA, 'expected.txt'));
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/1 passed, 0 failed/);
    // A kinds file that claims SB is forbidden: the run observes it, so the check fails.
    const wrong = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-')), 'kinds.txt');
    fs.writeFileSync(wrong, 'SB Forbid\n');
    const bad = cli('litmus', path.join(DATA, 'SB.litmus'), '--runs', '200', '--expected', wrong);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/SB\s+Allow\s+Forbid.*MISMATCH/);
    expect(bad.out).toMatch(/0 passed, 1 failed/);
  });

  test('--max-events is the budget of one execution: too small, the test is named in one line, exit 2; raised, it runs', () => {
    const tight = cli('litmus', path.join(DATA, 'SB.litmus'), '--runs', '3', '--max-events', '5');
    expect(tight.code).toBe(2);
    expect(tight.err).toBe('lazytlb: SB: execution 0 took more than 5 events without finishing: a loop that never ends, or a long test (raise --max-events)\n');
    expect(cli('litmus', path.join(DATA, 'SB.litmus'), '--runs', '3', '--max-events', '5000').code).toBe(0);
    expect(cli('litmus', path.join(DATA, 'SB.litmus'), '--max-events', '0').err).toMatch(/--max-events expects an integer in \[1, /);
  });

  test('the same seed gives byte-identical JSON', () => {
    const a = cli('litmus', path.join(DATA, 'R.litmus'), '--runs', '100', '--seed', 'x', '--json');
    const b = cli('litmus', path.join(DATA, 'R.litmus'), '--runs', '100', '--seed', 'x', '--json');
    expect(a.out).toBe(b.out);
  });

  test.each([
    [['litmus', 'nope.litmus'], /lazytlb: cannot read nope.litmus: ENOENT/],
    [['litmus', path.join(DATA, 'SB.litmus'), '--runs', '0'], /--runs expects an integer in \[1, 10000000\], got '0'/],
    [['litmus', path.join(DATA, 'SB.litmus'), '--param', 'l1hit=3'], /unknown machine parameter 'l1hit' \(did you mean 'l1Hit'\?\)/],
    [['litmus', path.join(DATA, 'SB.litmus'), '--param', 'rmwLocal=-3'], /rmwLocal.*-3.*range/],
    [['litmus', path.join(DATA, 'SB.litmus'), '--param', 'oops'], /--param expects key=value, got 'oops'/],
    [['litmus', path.join(DATA, 'SB.litmus'), '--machine', 'pentium'], /unknown machine profile 'pentium'/],
    [['litmus', path.join(DATA, 'expected.txt')], /expected.txt:1: /],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['run'], /required option '--strategy <name\|file>' not specified/],
    [['run', '--strategy', 'linux-9'], /unknown strategy 'linux-9'/],
    [['run', '--strategy', 'linux-4.8', '--workload', 'nope'], /unknown workload 'nope' \(known: memcache, netperf-rr, hackbench, kbuild, tlb-flush1, tlb-flush2, tlb-flush3, munmap-micro, pcid-pingpong, madvise-mix, fork-cow, explore-mix\)/],
    [['run', '--strategy', 'linux-4.8', '--ms', '-1'], /--ms expects a positive number, got '-1'/],
    [['run', '--strategy', 'linux-4.8', '--ms', '1', '--cycles', '5'], /cannot be used with option '--cycles/],
    [['run', '--strategy', 'linux-4.8', '--param', 'sockets=0'], /sockets.*range/],
    [['explore', '--strategy', 'linux-4.8', '--seeds', 'x'], /--seeds expects an integer/],
    [['compare', '--strategies', 'linux-4.8,bogus'], /unknown strategy 'bogus'/],
    [['run', '--strategy', 'mc-shootdown:protocol=anycast'], /^lazytlb: mc-shootdown: protocol expects one of unicast, broadcast, multicast, numa-multicast, got 'anycast'\n$/],
    [['compare', '--strategies', 'linux-4.8,mc-shootdown:notify=doorbell'], /mc-shootdown: notify expects one of poll, ipi, got 'doorbell'/],
    [['explore', '--strategy', 'linux-4.8:protocol=unicast'], /strategy 'linux-4.8' takes no options/],
  ])('bad input %j gives one clear line and exit 2', (args, message) => {
    const r = cli(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /); // never a stack trace
  });
});

describe('lazytlb profiles', () => {
  test('lists the profiles and prints one with sources', () => {
    expect(cli('profiles').out.trim().split('\n')).toEqual(['skylake-sp-2s', 'zen3-1s', 'haswell-2s', 'opteron-8x4']);
    const sky = cli('profiles', 'skylake-sp-2s').out;
    expect(sky).toMatch(/transferRemote/);
    expect(sky).toMatch(/core-to-core-latency/);
  });
});

describe('lazytlb run and compare', () => {
  test('run prints a summary with the oracle verdict; --json has the documented keys', () => {
    const text = cli('run', '--strategy', 'linux-4.20', '--workload', 'madvise-mix', '--param', 'sockets=1', '--param', 'coresPerCcx=8', '--ms', '1');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/linux-4.20 on skylake-sp-2s, workload madvise-mix/);
    expect(text.out).toMatch(/violations \(whole run\): 0 stale translations, 0 freed page tables/);
    const json = JSON.parse(cli('run', '--strategy', 'linux-4.20', '--workload', 'madvise-mix', '--param', 'sockets=1', '--param', 'coresPerCcx=8', '--ms', '1', '--json').out);
    expect(Object.keys(json)).toEqual([
      'version', 'seed', 'config', 'simulated', 'ipis', 'flushes', 'contextSwitches', 'rates', 'perFlush', 'coherence', 'tlb', 'lazyMm', 'lru', 'kvm',
      'lazyCoverage', 'violationCounts', 'violations', 'strategy', 'workload', 'warnings', 'host',
    ]);
    expect(Object.keys(json.ipis)).toEqual(['sent', 'tlbFlush', 'toLazyCpus', 'avoidedLazy']);
    expect(Object.keys(json.flushes.latencyCycles)).toEqual(['p50', 'p90', 'p99', 'max', 'mean']);
    expect(Object.keys(json.rates)).toEqual(['contextSwitches', 'flushes', 'flushIpis']);
    expect(Object.keys(json.perFlush)).toEqual(['ipis', 'targets', 'posted', 'lazySkipped']);
    expect(json.lazyCoverage).toEqual({ quarantinedPages: 0, staleUsesAllowed: 0, prematureReuses: 0 }); // 4.20 flushes at once
    expect(Object.keys(json.strategy)).toEqual(['lazyCatchUpFlushes', 'lazyToInitMm']); // 4.20's own counters
    expect(json.flushes.count).toBeGreaterThanOrEqual(30);
    expect(json.warnings).toEqual([]);
    // The window is measured after the default warm-up (1 ms at 2.5 GHz).
    expect(json.simulated.cycles).toBe(2_500_000);
    expect(json.config.warmupCycles).toBe(2_500_000);
    // Rates and ratios are computed from the window's own counts.
    expect(json.rates.flushes).toBeCloseTo(json.flushes.count / json.simulated.seconds, -1);
    expect(json.perFlush.ipis).toBeCloseTo(json.ipis.tlbFlush / json.flushes.count, 2);
    expect(json.perFlush.lazySkipped).toBeCloseTo(json.ipis.avoidedLazy / json.flushes.count, 2);
    expect(json.config.workloadParams).toEqual({ pages: 256, madviseChance: 0.3, bigRangeChance: 0.2 });
  });

  test('a run that measured fewer than 30 flushes warns on stderr and in the JSON, and shows no latencies', () => {
    const r = cli('run', '--strategy', 'linux-4.20', '--param', 'sockets=1', '--param', 'coresPerCcx=4', '--ms', '0.02', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.flushes.count).toBeLessThan(30);
    expect(json.warnings).toHaveLength(1);
    expect(json.warnings[0]).toMatch(/^measured \d+ flush(es)? in 0\.020 simulated ms \(fewer than 30\)/);
    expect(r.err).toMatch(/^lazytlb: warning: measured \d+ flush/m);
    if (json.flushes.count === 0) expect(json.flushes.latencyCycles.p50).toBeNull();
    const table = cli('compare', '--strategies', 'linux-4.20', '--param', 'sockets=1', '--param', 'coresPerCcx=4', '--ms', '0.02', '--seeds', '1', '--jobs', '1');
    expect(table.out).toMatch(/^linux-4.20 \(!\)/m);
    expect(table.out).toMatch(/too few flushes measured/);
    expect(table.err).toMatch(/lazytlb: warning: linux-4.20: measured/);
  });

  test('--warmup-ms 0 measures from cycle 0, and the run itself is unchanged by where the window starts', () => {
    const base = ['run', '--strategy', 'linux-4.20', '--param', 'sockets=1', '--param', 'coresPerCcx=4', '--json'];
    const whole = JSON.parse(cli(...base, '--warmup-ms', '0', '--cycles', '600000').out);
    const tail = JSON.parse(cli(...base, '--warmup-cycles', '200000', '--cycles', '400000').out);
    expect(whole.config.warmupCycles).toBe(0);
    expect(tail.simulated.cycles).toBe(400_000);
    // Same machine, seed and end: the oracle (whole run) agrees; the window saw fewer switches.
    expect(tail.violationCounts).toEqual(whole.violationCounts);
    expect(tail.contextSwitches.count).toBeLessThan(whole.contextSwitches.count);
  });

  test('compare runs the chosen strategies on one seed and tabulates them', () => {
    const r = cli('compare', '--strategies', 'linux-4.8,linux-4.20', '--param', 'sockets=1', '--param', 'coresPerCcx=8', '--ms', '0.2', '--seeds', '1', '--jobs', '1');
    expect(r.code).toBe(0);
    const rows = r.out.split('\n').filter((l) => /^linux-/.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['linux-4.8', 'linux-4.20']);
  });
});

describe('lazytlb workloads and --wparam', () => {
  const EXAMPLE = path.join(__dirname, '../../examples/jit-wx-workload.ts');

  test('lists the workloads, and prints one with its parameters', () => {
    const list = cli('workloads');
    expect(list.code).toBe(0);
    for (const name of ['memcache', 'kbuild', 'madvise-mix', 'fork-cow', 'explore-mix']) expect(list.out).toMatch(new RegExp(`^${name}\\s`, 'm'));
    const one = cli('workloads', 'memcache');
    expect(one.out).toMatch(/^memcache: /);
    expect(one.out).toMatch(/^ {2}contextSwitchesPerSecond +default 300000; a number in \[1, 100000000\] \(per-second\)$/m);
    expect(one.out).toMatch(/^source: Rik van Riel/m);
    expect(one.out).toMatch(/^stats \(the result's workload section\):\n {2}counters: requests, purges, chunkUnmaps, epollLocks\.acquisitions, /m);
  });

  test('a user workload from a .ts file runs, takes --wparam, and lists its parameters', () => {
    expect(cli('workloads', EXAMPLE).out).toMatch(/^ {2}mutators +default 7;/m);
    expect(cli('workloads', EXAMPLE).out).toMatch(/^ {2}counters: compilations$/m);
    const r = cli('run', '--strategy', 'linux-4.20', '--workload', EXAMPLE, '--wparam', 'mutators=3', '--param', 'sockets=1', '--param', 'coresPerCcx=4', '--ms', '1', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.config.workloadParams).toEqual({ mutators: 3, codePages: 64, flipPages: 4, compileUs: 50 });
    // Three mutators run the code on their own CPUs: each flip interrupts all three.
    expect(json.perFlush.ipis).toBe(3);
  });

  test('a workload file whose stats differ from what it declares: one line naming the stat, exit 2', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-')), 'wrong-stats.ts');
    fs.writeFileSync(file, [
      "import { defineWorkload } from 'lazytlb';",
      "export default defineWorkload({ name: 'wrong-stats', description: '', sources: [], params: {}, stats: { hits: 'histogram' },",
      "  setup({ stats }): void { stats.counter('hits', 'hits'); } });",
      '',
    ].join('\n'));
    const r = cli('run', '--strategy', 'linux-4.20', '--workload', file, '--param', 'sockets=1', '--param', 'coresPerCcx=2', '--ms', '0.05');
    expect(r.code).toBe(2);
    expect(r.err.split('\n').filter((l) => l !== '')).toEqual(["lazytlb: workload 'wrong-stats': stat 'workload.hits' is registered as a counter but declared 'histogram'"]);
  });

  test.each([
    [['run', '--strategy', 'linux-4.20', '--wparam', 'contextSwitchesPerSecnd=5'], /^lazytlb: unknown parameter of workload memcache 'contextSwitchesPerSecnd' \(did you mean 'contextSwitchesPerSecond'\?\)$/m],
    [['run', '--strategy', 'linux-4.20', '--wparam', 'workers=-2'], /^lazytlb: workload memcache: parameter 'workers' = '-2': expected an integer in \[0, 4096\] \(count\)$/m],
    [['run', '--strategy', 'linux-4.20', '--wparam', 'oops'], /^lazytlb: --wparam expects key=value, got 'oops'$/m],
    [['run', '--strategy', 'linux-4.20', '--workload', 'examples/missing.ts'], /^lazytlb: --workload: no file examples\/missing.ts$/m],
    [['run', '--strategy', 'linux-4.20', '--warmup-ms', 'soon'], /^lazytlb: --warmup-ms expects a number >= 0, got 'soon'$/m],
    // Found by the CLI fuzz test: these named the run's 'cycles' and 'warmupCycles', not the option.
    [['run', '--strategy', 'linux-4.20', '--ms', '1e-12'], /^lazytlb: --ms 1e-12 is 0 cycles at 2.5 GHz: expected 1 to 9007199254740991 cycles$/m],
    [['run', '--strategy', 'linux-4.20', '--ms', '1e20'], /^lazytlb: --ms 100000000000000000000 is 2.5e\+26 cycles at 2.5 GHz: expected 1 to/m],
    [['run', '--strategy', 'linux-4.20', '--warmup-ms', '1e20'], /^lazytlb: --warmup-ms 100000000000000000000 is 2.5e\+26 cycles at 2.5 GHz: expected 0 to/m],
    [['workloads', 'nope'], /^lazytlb: unknown workload 'nope'/m],
  ])('bad input %j gives one clear line and exit 2', (args, message) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });
});
