import { linux48 } from '../../../tlb/strategies/linux-4.8';
import { ROLES, flushScenario } from '../scenario';

describe('linux-4.8', () => {
  test('IPIs every CPU in mm_cpumask, lazy ones included; no violation', () => {
    const { targets, violations } = flushScenario(linux48());
    // cpu1 runs a; cpu2 and cpu3 are lazy on a and still in its mask; cpu5 switched away to b
    // (its bit was cleared at that switch); cpu4 never ran a.
    expect(targets).toEqual([ROLES.running, ROLES.lazyKthread, ROLES.lazyIdle]);
    expect(violations).toEqual([]);
  });

  test('a lazy CPU gets one IPI and leaves the mm: CR3 on init_mm, bit cleared', () => {
    const { cr3After } = flushScenario(linux48());
    expect(cr3After[ROLES.lazyKthread]).toBe(0); // leave_mm: CR3 on init_mm (swapper_pg_dir)
    expect(cr3After[ROLES.lazyIdle]).toBe(0);
    expect(cr3After[ROLES.running]).toBe(1); // still on a
  });
});
