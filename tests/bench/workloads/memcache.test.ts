import { resolveMachine } from '../../../lib/machine/resolve';
import { runSimulation, type RunConfig } from '../../../bench/runner';
import { memcache } from '../../../bench/workloads/memcache';
import { STRATEGIES } from '../../../tlb/strategies/index';

function config(overrides: Partial<RunConfig> = {}): RunConfig {
  return {
    machine: resolveMachine('skylake-sp-2s'), params: {}, strategy: 'linux-4.20', workload: 'memcache', workloadParams: {},
    cycles: 25_000_000, warmupCycles: 2_500_000, seed: '1', strategyOptions: {}, perturb: false, ...overrides,
  };
}

describe('memcache', () => {
  test('its defaults reach van Riel\'s 2018 rates on skylake-sp-2s: ~300,000 switches/s and ~19,000 flushes/s (±20%)', () => {
    const r = runSimulation(config(), STRATEGIES['linux-4.20'], memcache);
    const defaults = { cs: memcache.params.contextSwitchesPerSecond.default, fl: memcache.params.flushesPerSecond.default };
    expect(defaults).toEqual({ cs: 300_000, fl: 19_000 });
    expect(r.rates.contextSwitches).toBeGreaterThan(0.8 * defaults.cs);
    expect(r.rates.contextSwitches).toBeLessThan(1.2 * defaults.cs);
    expect(r.rates.flushes).toBeGreaterThan(0.8 * defaults.fl);
    expect(r.rates.flushes).toBeLessThan(1.2 * defaults.fl);
    expect(r.warnings).toEqual([]);
    expect(r.violations).toEqual([]);
    // Its mechanisms are at work: requests served, purges and chunk unmaps, workers on lazy CPUs.
    const w = r.workload as { requests: number; purges: number; chunkUnmaps: number; nic: { packets: number; drops: number } };
    expect(w.requests).toBeGreaterThan(500);
    expect(w.purges + w.chunkUnmaps).toBe(r.flushes.count);
    expect(w.nic.drops).toBe(0);
    expect(r.ipis.avoidedLazy).toBeGreaterThan(r.flushes.count); // most CPUs are lazy on the server's mm
  });

  test('the rates follow their parameters', () => {
    const r = runSimulation(config({ workloadParams: { contextSwitchesPerSecond: 100_000, flushesPerSecond: 40_000 } }), STRATEGIES['linux-4.20'], memcache);
    expect(r.rates.contextSwitches).toBeGreaterThan(80_000);
    expect(r.rates.contextSwitches).toBeLessThan(120_000);
    expect(r.rates.flushes).toBeGreaterThan(32_000);
    expect(r.rates.flushes).toBeLessThan(48_000);
  });

  test('a load so low that arrivals lie beyond the engine horizon still runs (the Poisson gap is redrawn)', () => {
    const r = runSimulation(config({ workloadParams: { contextSwitchesPerSecond: 1 }, cycles: 2_500_000 }), STRATEGIES['linux-4.20'], memcache);
    expect(r.contextSwitches.count).toBe(0);
    expect(r.warnings).toHaveLength(1);
  });

  test('instances: one process per socket keeps the offered load, and a flush reaches only its own socket\'s CPUs', () => {
    const one = runSimulation(config(), STRATEGIES['linux-4.20'], memcache);
    const two = runSimulation(config({ workloadParams: { instances: 2 } }), STRATEGIES['linux-4.20'], memcache);
    expect(two.rates.contextSwitches).toBeGreaterThan(0.8 * 300_000);
    expect(two.rates.flushes).toBeGreaterThan(0.8 * 19_000);
    expect(two.violations).toEqual([]);
    // Each mm spans one socket's 28 CPUs instead of 56, so a flush finds fewer CPUs to interrupt.
    const perFlush = (r: typeof one): number => r.ipis.tlbFlush / r.flushes.count;
    expect(perFlush(two)).toBeLessThan(0.75 * perFlush(one));
  });

  test('more instances than sockets is refused in one line naming the parameter', () => {
    expect(() => runSimulation(config({ workloadParams: { instances: 3 } }), STRATEGIES['linux-4.20'], memcache))
      .toThrow(/^workload memcache: parameter 'instances' = 3: expected at most the machine's 2 sockets$/);
  });
});
