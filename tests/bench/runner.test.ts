import { resolveMachine } from '../../lib/machine/resolve';
import { runSimulation, type RunConfig } from '../../bench/runner';
import { STRATEGIES } from '../../tlb/strategies/index';

const CFG: RunConfig = {
  machine: resolveMachine('skylake-sp-2s', { sockets: '1', coresPerCcx: '4' }), params: { sockets: '1', coresPerCcx: '4' }, strategy: 'linux-4.20', workload: 'memcache', workloadParams: {},
  cycles: 500_000, warmupCycles: 100_000, seed: '3', strategyOptions: {}, perturb: false,
};

/** Everything but the host's own timing. */
const simulated = (r: ReturnType<typeof runSimulation>): string => JSON.stringify({ ...r, host: null });

describe('runSimulation progress', () => {
  test('a watched run reports its simulated cycles as they pass, and gives the same result as an unwatched one', () => {
    const seen: [number, number][] = [];
    const watched = runSimulation(CFG, STRATEGIES['linux-4.20'], undefined, (done, total) => seen.push([done, total]));
    const plain = runSimulation(CFG, STRATEGIES['linux-4.20']);
    expect(simulated(watched)).toBe(simulated(plain));
    const total = CFG.warmupCycles + CFG.cycles;
    expect(seen.length).toBeGreaterThanOrEqual(150);
    expect(seen.every(([, t]) => t === total)).toBe(true);
    expect(seen.every(([d], i) => i === 0 || d > seen[i - 1][0])).toBe(true);
    expect(seen[seen.length - 1]).toEqual([total, total]);
  });
});
