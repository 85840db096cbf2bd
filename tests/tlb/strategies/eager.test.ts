import { Eager, eager } from '../../../tlb/strategies/eager';
import { ROLES, flushScenario } from '../scenario';

describe('eager (no lazy TLB mode)', () => {
  test('IPIs only the CPU running the mm: lazy CPUs already left it', () => {
    const { targets, violations } = flushScenario(eager());
    // cpu2 (kernel thread) and cpu3 (idle) switched to init_mm when they stopped running a;
    // cpu5 switched to b; cpu4 never ran a. Only cpu1 is left in mm_cpumask(a).
    expect(targets).toEqual([ROLES.running]);
    expect(violations).toEqual([]);
  });

  test('CPUs that stopped running the mm are on init_mm and out of its mask', () => {
    const { cr3After, m } = flushScenario(eager());
    expect(cr3After[ROLES.lazyKthread]).toBe(0);
    expect(cr3After[ROLES.lazyIdle]).toBe(0);
    expect(cr3After[ROLES.running]).toBe(1);
    // At the end every user thread has exited and its CPU runs idle on init_mm: no mask keeps a
    // CPU (under linux-4.8 the lazy CPUs would still be in a's and b's masks).
    expect(m.mms.map((mm) => mm.cpumask.toArray())).toEqual([[], [], []]);
    expect(Array.from(m.unit.cr3Mm)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('freed page tables: still only cpu1 is IPIed, and no CPU keeps CR3 on the freed tables', () => {
    const { targets, violations, cr3After } = flushScenario(eager(), { freedTables: true });
    expect(targets).toEqual([ROLES.running]);
    expect(violations).toEqual([]);
    expect(cr3After[ROLES.lazyKthread]).toBe(0);
    expect(cr3After[ROLES.lazyIdle]).toBe(0);
  });

  test('every switch between a user mm and a kernel thread or idle writes CR3', () => {
    const s = new Eager();
    const { m } = flushScenario(s);
    const d = m.stats.dump() as Record<string, any>;
    const cr3Writes = m.cpu.cpus.map((c) => d[c.name].tlb.fullFlushes as number);
    // cpu2: a2 in, kworker/2 (init_mm), idle (already init_mm: none), a2 back (a again), idle.
    // linux-4.8 does 3 here (a2 in, leave_mm on the flush IPI, a2 back) and the RFC 2.
    expect(cr3Writes[ROLES.lazyKthread]).toBe(4);
    // cpu5: a5 in, b5, idle, a5 back, idle: five mm changes, five CR3 writes.
    expect(cr3Writes[ROLES.switchedAway]).toBe(5);
    // cpu6 and cpu7 never ran a task.
    expect(cr3Writes[6]).toBe(0);
    expect(s.name).toBe('eager');
    expect(s.supportsPcid).toBe(false);
  });
});
