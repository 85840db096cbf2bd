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

  // What each exploration machine is for: invlpgb's broadcast and intel-rar's RAR need an mm with a
  // global ASID; mc-shootdown's multicast needs aggregators that forward to the members of their domain.
  const reached: Record<string, [string, (strategy: Record<string, any>) => boolean]> = {
    invlpgb: ['gives mm A a global ASID', (s) => s.globalAsidsAssigned > 0],
    'intel-rar': ['gives mm A a global ASID', (s) => s.globalAsidsAssigned > 0],
    'mc-shootdown': ['makes an aggregator forward a shootdown', (s) => s.mc.forwarded > 0],
  };
  test('every exploration machine says what it is for', () => {
    expect(Object.keys(EXPLORE_MACHINES).sort()).toEqual(Object.keys(reached).sort());
  });

  test.each(Object.keys(EXPLORE_MACHINES))('%s: its exploration machine reaches its own path in some of seeds 1..10', (name) => {
    const cfg = exploreConfig(name);
    let seeds = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const m = new TlbMachine({ config: cfg.machine, seed, strategy: STRATEGIES[name](), perturb: PERTURBATION, ipiJitterMax: PERTURBATION.ipiJitterMax });
      const w = workloadByName(cfg.workload);
      w.setup({ m, params: resolveWorkloadParams(w.name, w.params, cfg.workloadParams), rng: m.rng.stream('workload'), stats: m.stats.group('workload') });
      m.sched.start();
      m.engine.run({ until: cfg.cycles, maxEvents: 1e8 });
      if (reached[name][1]((m.stats.dump() as { strategy: Record<string, any> }).strategy)) seeds++;
    }
    expect([reached[name][0], seeds > 0]).toEqual([reached[name][0], true]);
  });

  test('explore-mix refuses a spread beyond the machine in one line', () => {
    const cfg = exploreConfig('linux-6.15');
    expect(() => runSimulation({ ...cfg, workloadParams: { spread: 5 } }, STRATEGIES['linux-6.15']))
      .toThrow(/^workload explore-mix: parameter 'spread' = 5: expected at most the machine's 4 CPUs$/);
  });
});
