import { EXPLORE_TARGETS, explore, exploreConfig, missedTargets } from '../../bench/explore';
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
});
