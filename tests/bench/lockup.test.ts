import * as path from 'path';
import { explore, exploreConfig } from '../../bench/explore';
import { loadStrategy } from '../../bench/cli/load-strategy';
import { cli } from './run-cli';
import { lockupThresholds } from '../../bench/lockup-options';
import type { RunConfig } from '../../bench/run-config';
import { smpMbStrategy } from './smp-mb-strategy';

type Lockup = { kind: string; watchdog?: string; cpu: number; detail: string; reproduce: string };

describe('the liveness oracle', () => {
  // smp_mb() that never finishes: a CPU coming back from lazy mode spins for ever with interrupts off.
  const file = smpMbStrategy('spin', ['for (;;) yield k.delay(10);']);
  const RUN = ['--workload', 'explore-mix', '--param', 'sockets=1', '--param', 'coresPerCcx=4', '--ms', '0.4', '--warmup-ms', '0'];

  test('the spinning CPU is a hard lockup, its waiters a CSD and a flush lockup, each naming what it waits on; run exits 1', () => {
    const r = cli('run', '--strategy', file, ...RUN, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    const all = j.violations as Lockup[];
    expect(j.violationCounts.lockup).toBe(all.length);
    const of = (w: string) => all.filter((x) => x.kind === 'lockup' && x.watchdog === w);
    // The CPU stuck first is reported first: the one looping in smp_mb() with interrupts off.
    expect(all[0].watchdog).toBe('hard');
    expect(all[0].detail).toMatch(/^watchdog: Watchdog detected hard LOCKUP on cpu\d: interrupts off for \d+ cycles \(since cycle \d+\), .*executing, not waiting on anything$/);
    // The initiator waits in csd_lock_wait for a CPU that never takes the IPI.
    const csd = of('csd')[0];
    expect(csd.detail).toMatch(/^csd: Detected non-responsive CSD lock on CPU#(\d), waiting \d+ cycles \(since cycle \d+\) for CPU#(\d) flush_tlb_func\w*; cpu\2: interrupts off/);
    expect(of('flush')[0].detail).toMatch(/^flush_tlb_mm_range on cpu\d has not returned \d+ cycles after it began: cpu\d: '.*': spinning on \[cfd_data\[\d\]\.csd@cpu\d\+8\]/);
    expect(of('flush')[0].cpu).toBe(csd.cpu);
    for (const v of all) expect(v.reproduce).toContain(`--strategy ${file}`);
  });

  test('explore counts lockups like any other violation, each watchdog once with its reproducer', () => {
    const spec = path.relative(process.cwd(), file);
    const r = explore(exploreConfig(spec), loadStrategy(file), 2, 1);
    expect(r.counts.lockup ?? 0).toBeGreaterThan(0);
    expect(r.first.map((v) => `${v.kind} ${v.watchdog}`)).toEqual(expect.arrayContaining(['lockup hard', 'lockup csd', 'lockup flush']));
    expect(r.first.filter((v) => v.kind === 'lockup').reduce((n, v) => n + v.count, 0)).toBe(r.counts.lockup);
    const out = cli('explore', '--strategy', file, '--seeds', '2', '--jobs', '1');
    expect(out.code).toBe(1);
    expect(out.out).toMatch(/^ {2}lockup \(hard\): first at seed 1, cpu\d, cycle 1000000, mm \w+ \(\d+ violations in all\)\n {4}watchdog: Watchdog detected hard LOCKUP on cpu\d: .*\n {4}reproduce: npx lazytlb run .* --seed 1 .*--perturb$/m);
  });

  test('thresholds are parameters: longer than the run, no lockup; the reproducer carries them', () => {
    const off = cli('run', '--strategy', file, ...RUN, '--lockup-ms', '1', '--json');
    expect(JSON.parse(off.out).violationCounts.lockup).toBe(0);
    expect(off.code).toBe(0);
    const some = JSON.parse(cli('run', '--strategy', file, ...RUN, '--lockup-ms', '1', '--lockup-cycles', 'hard=100000', '--json').out);
    expect(new Set((some.violations as Lockup[]).map((v) => v.watchdog))).toEqual(new Set(['hard']));
    expect(some.violations[0].reproduce).toMatch(/ --lockup-cycles 2500000 --lockup-cycles hard=100000$/);
  });

  test.each([
    [['--lockup-ms', 'warm=1'], "lazytlb: --lockup-ms 'warm=1': unknown check 'warm' (expected one of hard, soft, stall, csd, flush, or no name for all)"],
    [['--lockup-ms', '0'], "lazytlb: --lockup-ms '0': expected [check=]value, a positive number of simulated ms"],
    [['--lockup-cycles', 'csd=1.5'], "lazytlb: --lockup-cycles 'csd=1.5': expected [check=]value, a positive whole number of cycles"],
  ])('bad thresholds %j: one line, exit 2', (args, line) => {
    const r = cli('run', '--strategy', 'linux-4.20', ...RUN, ...args);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(line);
  });

  test("a correct strategy's runs report none, even with exploration's timing noise", () => {
    const r = cli('run', '--strategy', 'linux-4.20', ...RUN, '--perturb', '--json');
    expect(JSON.parse(r.out).violationCounts).toEqual({ staleTranslation: 0, freedPageTable: 0, lockup: 0, freedMm: 0 });
    expect(r.code).toBe(0);
  });

  test("a strategy's flushWaitBound raises the flush check's default only, to four times the bound", () => {
    const params = { clockGhz: 2.5, hostPreemptsPerS: 0, hostPreemptNs: 0 };
    const cfg = { cycles: 10e6, warmupCycles: 2.5e6 } as RunConfig; // default: min(a quarter of the run, 0.5 ms) = 1,250,000
    const plain = lockupThresholds(cfg, params);
    expect(plain).toEqual({ hard: 1_250_000, soft: 1_250_000, stall: 1_250_000, csd: 1_250_000, flush: 1_250_000 });
    const polled = lockupThresholds(cfg, params, 2_500_000); // one tick at HZ=1000
    expect(polled).toEqual({ ...plain, flush: 10_000_000 });
    expect(lockupThresholds(cfg, params, 100)).toEqual(plain); // a bound below the default changes nothing
    // Thresholds the user set win over the bound.
    expect(lockupThresholds({ ...cfg, lockupCycles: 777 }, params, 2_500_000).flush).toBe(777);
    expect(lockupThresholds({ ...cfg, lockupThresholds: { flush: 555 } }, params, 2_500_000).flush).toBe(555);
    // A user strategy's bound that is not a number of cycles is named in one line.
    expect(() => lockupThresholds({ ...cfg, strategy: './mine.ts' }, params, NaN)).toThrow(/^strategy '\.\/mine\.ts': flushWaitBound gave NaN: expected a number of cycles, 0 or more$/);
    expect(() => lockupThresholds(cfg, params, -1)).toThrow(/flushWaitBound gave -1/);
    expect(lockupThresholds(cfg, params, 2_500_000.4).flush).toBe(10_000_002); // rounded to whole cycles
  });
});
