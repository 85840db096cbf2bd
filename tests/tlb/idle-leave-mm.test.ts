import { linux413 } from '../../tlb/strategies/linux-4.13';
import { linux420 } from '../../tlb/strategies/linux-4.20';
import { linux48 } from '../../tlb/strategies/linux-4.8';
import { ROLES, flushScenario } from './scenario';

/** The `idleLeaveMm` option: leave_mm() in the idle loop, as intel_idle did before 4.13 and cpuidle does since 4.14. */
describe('idle leave_mm', () => {
  test('linux-4.8: the idle CPU has left the mm before the flush, so only the kernel-thread CPU is lazy in the mask', () => {
    const off = flushScenario(linux48());
    const on = flushScenario(linux48(), { options: { idleLeaveMm: true } });
    expect(off.targets).toEqual([ROLES.running, ROLES.lazyKthread, ROLES.lazyIdle]);
    expect(on.targets).toEqual([ROLES.running, ROLES.lazyKthread]);
    expect(on.violations).toEqual([]);
  });

  test('linux-4.20: a freed-tables flush no longer needs to interrupt the idle CPU', () => {
    const off = flushScenario(linux420(), { freedTables: true });
    const on = flushScenario(linux420(), { freedTables: true, options: { idleLeaveMm: true } });
    expect(off.targets).toContain(ROLES.lazyIdle);
    expect(on.targets).not.toContain(ROLES.lazyIdle);
    expect(on.cr3After[ROLES.lazyIdle]).toBe(0);
    expect(on.violations).toEqual([]);
  });

  test('linux-4.13 took leave_mm out of idle: the option changes nothing', () => {
    const off = flushScenario(linux413());
    const on = flushScenario(linux413(), { options: { idleLeaveMm: true } });
    expect(on.targets).toEqual(off.targets);
    expect(on.cr3After).toEqual(off.cr3After);
  });
});
