import { resolveMachine } from '../../../lib/machine/resolve';
import { runSimulation, type RunConfig } from '../../../bench/runner';
import { kbuild } from '../../../bench/workloads/kbuild';
import { STRATEGIES } from '../../../tlb/strategies/index';

/** 16 CPUs, short compiles: many chains start, exec and exit within a few ms. */
function config(strategy: string, overrides: Partial<RunConfig> = {}): RunConfig {
  return {
    machine: resolveMachine('skylake-sp-2s', { sockets: '1', coresPerCcx: '16' }), params: { sockets: '1', coresPerCcx: '16' }, strategy, workload: 'kbuild',
    workloadParams: { compileMs: 2, assembleMs: 0.3, driverMs: 0.1 },
    cycles: 10_000_000, warmupCycles: 2_500_000, seed: '3', strategyOptions: {}, perturb: false, ...overrides,
  };
}

describe('kbuild', () => {
  test('chains of short-lived processes: files compile at the rate the job times allow, most flushes are single-page and local', () => {
    const r = runSimulation(config('linux-4.20'), STRATEGIES['linux-4.20'], kbuild);
    const w = r.workload as { files: number; jobs: number; programFlushes: number };
    // 16 slots, each a chain of gcc (0.1 ms before and after), cc1 (2 ms) and as (0.3 ms), over 4 ms:
    // at most 16 × 4 / 2.5 files, fewer for exec, fault and wait costs.
    const bound = (16 * 4) / (2 + 0.3 + 0.2);
    expect(w.files).toBeLessThanOrEqual(Math.ceil(bound) + 16);
    expect(w.files).toBeGreaterThan(0.6 * bound);
    expect(r.violations).toEqual([]);
    expect(r.flushes.local / r.flushes.count).toBeGreaterThan(0.9);
    // Every flush is a program's (Hansen's sizes) or an exit's (the whole mm, with freed tables).
    expect(r.flushes.count).toBeGreaterThanOrEqual(w.programFlushes);
    // Single-page flushes are INVLPGs: at least Hansen's 56.9% of the programs' flushes, within noise.
    expect(r.tlb.invlpgs).toBeGreaterThan(0.5 * w.programFlushes);
  });

  test('the flush rate follows the compile time: shorter compiles mean more execs and more start-up flushes', () => {
    const slow = runSimulation(config('linux-4.20', { workloadParams: { compileMs: 8, assembleMs: 0.3, driverMs: 0.1 } }), STRATEGIES['linux-4.20'], kbuild);
    const fast = runSimulation(config('linux-4.20'), STRATEGIES['linux-4.20'], kbuild);
    expect(fast.rates.flushes).toBeGreaterThan(1.5 * slow.rates.flushes);
    expect((fast.workload as { files: number }).files).toBeGreaterThan(2 * (slow.workload as { files: number }).files);
  });

  test.each(Object.keys(STRATEGIES).filter((n) => !n.startsWith('rfc2016') && n !== 'linux-4.13'))('%s: no violation', (name) => {
    const r = runSimulation(config(name, { params: { sockets: '1', coresPerCcx: '4' }, cycles: 5_000_000 }), STRATEGIES[name], kbuild);
    expect(r.violations).toEqual([]);
  });
});
