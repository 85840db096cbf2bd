import { runSimulation, type RunConfig } from '../../../bench/runner';
import type { WorkloadStats } from '../../../bench/workloads/index';
import { tlbFlush1, tlbFlush2, tlbFlush3 } from '../../../bench/workloads/will-it-scale';
import { tlbFlushLayout } from '../../../bench/workloads/will-it-scale-tlb';
import type { Workload } from '../../../bench/workloads/workload';
import { ConfigError } from '../../../lib/errors';
import { resolveMachine } from '../../../lib/machine/resolve';
import { Rng } from '../../../lib/rng';
import { MAX_MM_PAGES } from '../../../tlb/mm/mm-lifecycle';
import { STRATEGIES } from '../../../tlb/strategies/index';

// One socket of eight Skylake-SP cores: eight threads, each flush reaches seven other CPUs.
const SMALL = { sockets: '1', coresPerCcx: '8' };
const GHZ = 2.5;

/** A run's settings, the machine by profile name (resolved with `params`, as the CLI resolves it). */
type Overrides = Omit<Partial<RunConfig>, 'machine'> & { profile?: string };

function config(workload: Workload, { profile = 'skylake-sp-2s', ...overrides }: Overrides = {}): RunConfig {
  const params = overrides.params ?? SMALL;
  return {
    params, strategy: 'linux-4.20', workload: workload.name, workloadParams: {},
    cycles: 1.5 * GHZ * 1e6, warmupCycles: 0.5 * GHZ * 1e6, seed: '1', strategyOptions: {}, perturb: false, ...overrides, machine: resolveMachine(profile, params),
  };
}

// The three declare one shape (the run checks it).
type Stats = WorkloadStats<'tlb-flush1'>;

const run = (w: Workload, o: Partial<RunConfig> = {}) => {
  const r = runSimulation(config(w, o), STRATEGIES[o.strategy ?? 'linux-4.20'], w);
  return { r, w: r.workload as unknown as Stats };
};

// Flushes and iterations are counted when they end: at the window's edges each thread may have
// one of either still open, so equalities hold up to the thread count.
const near = (a: number, b: number, slack: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(slack);

describe('will-it-scale tlb_flush1/2/3 (threads)', () => {
  const pageFault = resolveMachine('skylake-sp-2s', SMALL).params.pageFault;

  test.each([
    ['tlb_flush2', tlbFlush2, 256],
    ['tlb_flush3', tlbFlush3, 512],
    ['tlb_flush1', tlbFlush1, 512],
  ] as const)('%s: one thread per CPU, every flush reaches every other thread\'s CPU, the flushes and faults its loop implies', (_name, wl, region) => {
    const { r, w } = run(wl as Workload);
    expect(r.violations).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(w.threads).toBe(8);
    expect(w.regionPages).toBe(region); // the test's own size, or the 8th of an mm
    expect(w.iterations).toBeGreaterThan(500);
    expect(w.iterationCycles.count).toBe(w.iterations);
    // will-it-scale's threads run the process's user code all the time: nobody is lazy, so each
    // flush interrupts all seven other CPUs; an IPI goes only to a queue that was empty.
    expect(r.perFlush.targets).toBe(7);
    expect(r.ipis.toLazyCpus).toBe(0);
    expect(r.ipis.avoidedLazy).toBe(0);
    expect(r.perFlush.ipis).toBeGreaterThan(0);
    expect(r.perFlush.ipis).toBeLessThanOrEqual(7);
    // The threads progress evenly: the slowest within a third of the fastest.
    expect(w.threadIterationsMin).toBeGreaterThan(0.66 * w.threadIterationsMax);
    // One munmap per regionPages iterations per thread.
    near(w.munmaps, w.iterations / region, w.threads);
    const cow = w.cowBreaks;
    if (wl === tlbFlush2) {
      // write fault, madvise, read fault: one flush and two faults; no fault-around, so no COW.
      expect(cow).toBe(0);
      near(r.flushes.count, w.iterations + w.munmaps, w.threads);
      near(w.faults, 2 * w.iterations, 2 * w.threads);
    } else if (wl === tlbFlush3) {
      // Fault-around maps the window writable (tmpfs): only a window's first write faults, and none breaks COW.
      expect(cow).toBe(0);
      near(r.flushes.count, w.iterations + w.munmaps, w.threads);
      near(w.faults, w.iterations + w.iterations / 16, 2 * w.threads);
    } else {
      // Fault-around maps the window read-only: the next 15 writes break COW, each a flush.
      near(cow, (15 / 16) * w.iterations, 2 * w.threads);
      near(r.flushes.count, w.iterations + cow + w.munmaps, w.threads);
      near(w.faults, 2 * w.iterations, 2 * w.threads);
    }
    // An iteration holds at least its flush(es) and its faults.
    const flushesPerIteration = r.flushes.count / w.iterations;
    expect(w.iterationCycles.mean).toBeGreaterThan(flushesPerIteration * (r.flushes.latencyCycles.mean as number) + (w.faults / w.iterations) * pageFault);
    // The measured rates over the 1.5-ms window.
    expect(r.rates.flushes / (r.flushes.count / 1.5e-3)).toBeCloseTo(1, 3);
  });

  test('parameters: fewer threads interrupt fewer CPUs; a smaller region unmaps more often; fault-around off removes tlb_flush1\'s COW flushes', () => {
    const four = run(tlbFlush2, { cycles: 1 * GHZ * 1e6, workloadParams: { cpus: '0-3' } });
    expect(four.w.threads).toBe(4);
    expect(four.r.perFlush.targets).toBe(3);
    expect(four.w.regionPages).toBe(256);

    const short = { cycles: 1 * GHZ * 1e6 };
    const small = run(tlbFlush2, { ...short, workloadParams: { regionPages: 16, cpus: '0-3' } });
    expect(small.w.regionPages).toBe(16);
    near(small.w.munmaps, small.w.iterations / 16, small.w.threads);
    near(small.r.flushes.count, small.w.iterations + small.w.munmaps, small.w.threads);

    const noAround = run(tlbFlush1, { ...short, workloadParams: { faultAroundPages: 1, cpus: '0-3' } });
    expect(noAround.w.cowBreaks).toBe(0);
    near(noAround.r.flushes.count, noAround.w.iterations + noAround.w.munmaps, noAround.w.threads);
    // The file-fault costs are charged: a dearer COW copy makes the iteration longer.
    const dear = run(tlbFlush1, { ...short, workloadParams: { faultAroundPages: 1, copyCycles: 20_000, cpus: '0-3' } });
    expect(dear.w.iterationCycles.mean).toBeGreaterThan(noAround.w.iterationCycles.mean + 15_000);
  });

  test('the layout packs the regions top-down in one mm, scaled to fit MAX_MM_PAGES', () => {
    const big = tlbFlushLayout(56, { threads: 0, cpus: '', regionPages: 0 }, 32768, new Rng('1', 't'), 'tlb-flush1');
    expect(big.threads).toBe(56);
    expect(big.regionPages).toBe(Math.floor(MAX_MM_PAGES / 56)); // 73
    expect(big.cpuOf).toEqual(Array.from({ length: 56 }, (_, i) => i));
    for (let i = 0; i < 56; i++) {
      expect(big.start[i]).toBeGreaterThanOrEqual(0);
      expect(big.start[i] + big.regionPages).toBeLessThanOrEqual(big.mmPages);
      if (i > 0) expect(big.start[i]).toBe(big.start[i - 1] - big.regionPages); // each below the last
    }
    expect(big.mmPages).toBeLessThanOrEqual(MAX_MM_PAGES);
    // A cpulist pins thread i to its (i mod size)-th CPU, as will-it-scale does with cores.
    const listed = tlbFlushLayout(8, { threads: 6, cpus: '2,5-6', regionPages: 0 }, 256, new Rng('1', 't'), 'tlb-flush2');
    expect(listed.cpuOf).toEqual([2, 5, 6, 2, 5, 6]);
    expect(listed.regionPages).toBe(256);
    expect(() => tlbFlushLayout(8, { threads: 8, cpus: '', regionPages: 1024 }, 32768, new Rng('1', 't'), 'tlb-flush1')).toThrow(ConfigError);
    expect(() => tlbFlushLayout(8, { threads: 0, cpus: '9', regionPages: 0 }, 256, new Rng('1', 't'), 'tlb-flush2')).toThrow(ConfigError);
  });

  test('zen3-1s: under invlpgb the process gets a global ASID and its flushes send no IPIs', () => {
    // Four threads (the kernel's threshold) on CCX 0 of the full socket; idle CPUs cost little. The
    // kernel considers a global ASID only when pid & 31 == jiffies & 31: here the first thread's
    // pid (64, after the 64 idle tasks) matches the first jiffy.
    const cfg = (strategy: string) => config(tlbFlush2, { profile: 'zen3-1s', params: {}, strategy, workloadParams: { cpus: '0-3' }, cycles: 4.5e6, warmupCycles: 1.5e6 });
    const ipi = runSimulation(cfg('linux-6.15'), STRATEGIES['linux-6.15'], tlbFlush2);
    const bcast = runSimulation(cfg('invlpgb'), STRATEGIES.invlpgb, tlbFlush2);
    expect(ipi.perFlush.targets).toBe(3);
    expect(bcast.perFlush.ipis).toBe(0);
    expect(bcast.perFlush.targets).toBe(0);
    expect(bcast.flushes.latencyCycles.p50 as number).toBeLessThan(ipi.flushes.latencyCycles.p50 as number);
    expect(bcast.violations).toEqual([]);
  });

  // Four CPUs, short regions so munmap comes often; every thread faults, zaps and breaks COW.
  // invlpgb runs on 4 of 32 Zen 3 CPUs, so that a thread's pid (32.., after the idle tasks) matches
  // the first jiffy and the mm gets its global ASID at once: the broadcast path is the one checked.
  const checked = Object.keys(STRATEGIES).filter((s) => !s.startsWith('rfc2016') && s !== 'linux-4.13');
  test.each(checked)('%s: tlb_flush1 without a violation', (name) => {
    const zen = name === 'invlpgb';
    const r = runSimulation(config(tlbFlush1, {
      profile: zen ? 'zen3-1s' : 'skylake-sp-2s', params: zen ? { ccxPerSocket: '4', coresPerCcx: '8' } : { sockets: '1', coresPerCcx: '4' },
      strategy: name, workloadParams: { regionPages: 24, cpus: '0-3' }, cycles: 1.5e6, warmupCycles: 0.5e6,
    }), STRATEGIES[name], tlbFlush1);
    expect(r.violationCounts).toEqual({ staleTranslation: 0, freedPageTable: 0, lockup: 0, freedMm: 0 });
    expect(r.flushes.count).toBeGreaterThan(40);
    expect((r.workload as unknown as Stats).munmaps).toBeGreaterThan(2);
    if (zen) expect(r.ipis.tlbFlush).toBeLessThan(r.flushes.count);
  });
});
