import { EXPLORE_MACHINES, EXPLORE_TARGETS, explore, exploreConfig, missedTargets } from '../../bench/explore';
import { PERTURBATION, runSimulation } from '../../bench/runner';
import { workloadByName } from '../../bench/workloads/index';
import { resolveWorkloadParams } from '../../bench/workloads/params';
import { TlbMachine } from '../../tlb/machine';
import { STRATEGIES } from '../../tlb/strategies/index';

/**
 * The exploration targets of issue #4, in their short form: 60 seeds per strategy here; the
 * bench (`npm run bench:explore`) runs 10,000.
 */
const SEEDS = 60;

describe('exploration targets', () => {
  test('every shipped strategy has a target', () => {
    expect(Object.keys(STRATEGIES).filter((s) => EXPLORE_TARGETS[s] === undefined)).toEqual([]);
  });

  test.each(Object.keys(STRATEGIES))('%s', (name) => {
    const report = explore(exploreConfig(name), STRATEGIES[name], SEEDS, 1);
    expect(missedTargets(report)).toEqual([]);
    for (const v of report.first) {
      expect(v.reproduce).toContain(`--strategy ${name}`);
      expect(v.reproduce).toContain(`--seed ${v.seed}`);
    }
  });

  // Their own path (broadcast, RAR) needs an mm with a global ASID: the exploration machine must reach one.
  test.each(Object.keys(EXPLORE_MACHINES))('%s: its exploration machine gives mm A a global ASID in some of seeds 1..10', (name) => {
    const cfg = exploreConfig(name);
    let seeds = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const m = new TlbMachine({ config: cfg.machine, seed, strategy: STRATEGIES[name](), perturb: PERTURBATION, ipiJitterMax: PERTURBATION.ipiJitterMax });
      const w = workloadByName(cfg.workload);
      w.setup({ m, params: resolveWorkloadParams(w.name, w.params, cfg.workloadParams), rng: m.rng.stream('workload'), stats: m.stats.group('workload') });
      m.sched.start();
      m.engine.run({ until: cfg.cycles, maxEvents: 1e8 });
      if ((m.stats.dump() as { strategy: { globalAsidsAssigned: number } }).strategy.globalAsidsAssigned > 0) seeds++;
    }
    expect(seeds).toBeGreaterThan(0);
  });

  test('explore-mix refuses a spread beyond the machine in one line', () => {
    const cfg = exploreConfig('linux-6.15');
    expect(() => runSimulation({ ...cfg, workloadParams: { spread: 5 } }, STRATEGIES['linux-6.15']))
      .toThrow(/^workload explore-mix: parameter 'spread' = 5: expected at most the machine's 4 CPUs$/);
  });
});
