import { resolveMachine } from '../../../lib/machine/resolve';
import { compare, runSimulation, simulate, sweep, Linux420, STRATEGIES, type RunConfig, type RunJson } from '../../../bench/index';

const GRID = { params: { sockets: 1, coresPerCcx: 4 }, ms: 0.2, warmupMs: 0.05 } as const;
const SMALL = { ...GRID, workload: 'madvise-mix' } as const;

describe('the library API', () => {
  test('simulate() runs with defaults for what is left out, numbers as numbers, and the strategy it names', () => {
    const r: RunJson = simulate({ ...SMALL, strategy: 'linux-4.20', seed: 3 });
    expect(r.config.strategy).toBe('linux-4.20');
    expect(r.config.machine.params.sockets).toBe(1);
    expect(r.seed).toBe('3');
    expect(r.simulated.cycles).toBe(Math.round(0.2 * 2.5e6));
    // A class runs under its own name: a label can never disagree with what ran.
    expect(simulate({ ...SMALL, strategy: Linux420 }).config.strategy).toBe('linux-4.20');
    expect(JSON.stringify(simulate({ ...SMALL, strategy: Linux420 }).ipis)).toBe(JSON.stringify(simulate({ ...SMALL, strategy: 'linux-4.20', seed: 1 }).ipis));
  });

  test('runSimulation: numbers as parameters; a run that could never end, or a label naming another strategy, is refused', () => {
    const cfg: RunConfig = { machine: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 4 }), params: { sockets: 1, coresPerCcx: 4 }, strategy: 'linux-4.20', workload: 'madvise-mix',
      workloadParams: {}, cycles: 200_000, warmupCycles: 0, seed: '1', strategyOptions: {}, perturb: false };
    expect(runSimulation(cfg, STRATEGIES['linux-4.20']).config.machine.params.coresPerCcx).toBe(4);
    expect(() => runSimulation({ ...cfg, cycles: undefined as unknown as number }, STRATEGIES['linux-4.20'])).toThrow(/^cycles = undefined: expected a positive whole number/);
    expect(() => runSimulation({ ...cfg, strategy: 'linux-6.15' }, STRATEGIES['linux-4.20'])).toThrow(/labelled 'linux-6.15', but its factory builds 'linux-4.20'/);
  });

  test('bad configs name the key at fault', () => {
    expect(() => simulate({ ...SMALL, params: { socket: 2 } as never })).toThrow(/unknown machine parameter 'socket' \(did you mean 'sockets'\?/);
    expect(() => simulate({ ...SMALL, stratgy: 'x' } as never)).toThrow(/unknown simulate config key 'stratgy' \(did you mean 'strategy'\?/);
    expect(() => simulate({ ...SMALL, ms: -1 })).toThrow(/^ms = -1: expected a positive number$/);
    expect(() => simulate({ ...SMALL, strategy: 'linux-9' })).toThrow(/unknown strategy 'linux-9'/);
  });

  test('simulate() takes a PCT search like --search pct: recorded, repeatable, and only with perturb', () => {
    const cfg = { ...SMALL, strategy: 'rfc2016-naive', perturb: true, search: { mode: 'pct' as const } };
    const a = simulate(cfg);
    expect(a.config.search).toEqual({ mode: 'pct', depth: 3, steps: expect.any(Number) });
    expect(a.violations.every((v) => v.reproduce.includes('--search pct --pct-depth 3'))).toBe(true);
    const { host: _h1, ...ra } = a;
    const { host: _h2, ...rb } = simulate(cfg);
    expect(JSON.stringify(rb)).toBe(JSON.stringify(ra));
    expect(JSON.stringify(simulate({ ...cfg, search: undefined }).coherence)).not.toBe(JSON.stringify(a.coherence));
    expect(() => simulate({ ...cfg, perturb: false })).toThrow(/^search: PCT replaces the timing noise of a perturbed run: set perturb: true as well$/);
    expect(() => simulate({ ...cfg, search: { mode: 'pct', depth: 0 } })).toThrow(/^search.depth = 0: expected an integer in \[1, 64\]$/);
  });

  test('compare() summarizes each group over its seeds, reports progress, and stops when aborted', async () => {
    const seen: number[] = [];
    const res = await compare({ ...GRID, workloads: ['madvise-mix'], strategies: ['linux-4.8', 'linux-4.20'], seeds: 3, jobs: 1, baseline: 'linux-4.8', onProgress: (done) => seen.push(done) });
    expect(res.runs).toHaveLength(6);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(res.groups).toHaveLength(1);
    const [b, o] = res.groups[0].strategies;
    expect([b.strategy, o.strategy]).toEqual(['linux-4.8', 'linux-4.20']);
    expect(o.seeds).toEqual(['1', '2', '3']);
    expect(o.metrics['flushes.count']?.n).toBe(3);
    expect(o.vsBaseline?.['ipis.toLazyCpus']).toBeDefined();
    const ac = new AbortController();
    ac.abort();
    await expect(compare({ ...GRID, workloads: ['madvise-mix'], strategies: ['linux-4.20'], seeds: 2, jobs: 1, signal: ac.signal })).rejects.toThrow(/abort/i);
    await expect(compare({ ...GRID, workloads: ['madvise-mix'], strategies: [Linux420], seeds: 2, jobs: 2 })).rejects.toThrow(/jobs > 1 runs on worker threads/);
  });

  test('sweep() runs the grid; two shards hold the unsharded runs between them', async () => {
    const cfg = { ...GRID, workload: 'madvise-mix', axes: { cpus: [2, 4], flushCeiling: [1, 33] }, strategies: ['linux-4.20'], seeds: 2, jobs: 1 };
    const whole = await sweep(cfg);
    expect(whole.runs).toHaveLength(8);
    expect(whole.summary?.map((p) => p.point)).toEqual([
      { cpus: '2', flushCeiling: '1' }, { cpus: '2', flushCeiling: '33' }, { cpus: '4', flushCeiling: '1' }, { cpus: '4', flushCeiling: '33' },
    ]);
    const a = await sweep({ ...cfg, shard: { index: 1, count: 2 } });
    const b = await sweep({ ...cfg, shard: { index: 2, count: 2 } });
    const strip = (r: RunJson) => JSON.stringify({ ...r, host: null });
    const joined = [...a.runs, ...b.runs].sort((x, y) => x.index - y.index).map((r) => strip(r.result));
    expect(joined).toEqual(whole.runs.map((r) => strip(r.result)));
    await expect(sweep({ ...cfg, axes: {} })).rejects.toThrow(/axes: expected at least one axis/);
  });
});
