import { simulate, type RunJson } from '../../../bench/index';
import { cli } from '../../bench/run-cli';

/** The `mmRefcount` strategy option (tlb/mm/lazy-ref.ts, tlb/check/freed-mm.ts). */
const SMALL = { params: { sockets: 1, coresPerCcx: 4 }, ms: 0.5, warmupMs: 0.2, seed: 2 } as const;
const run = (strategy: string, workload: string, mmRefcount?: 'none' | 'atomic' | 'shoot-lazies'): RunJson =>
  simulate({ ...SMALL, strategy, workload, ...(mmRefcount === undefined ? {} : { strategyOptions: { mmRefcount } }) });

/** Everything but the host timing and the keys the option added. */
function figures(r: RunJson): unknown {
  const c = JSON.parse(JSON.stringify(r)) as Record<string, Record<string, unknown>>;
  delete c.host;
  delete c.lazyMm;
  delete c.violationCounts.freedMm;
  delete (c.config.strategyOptions as Record<string, unknown>).mmRefcount;
  return c;
}

describe('--mm-refcount', () => {
  test('atomic, x86\'s own, is the default; none costs nothing', () => {
    const dflt = run('linux-4.20', 'fork-cow');
    expect(dflt.config.strategyOptions.mmRefcount).toBe('atomic');
    expect(JSON.stringify(figures(run('linux-4.20', 'fork-cow', 'atomic')))).toBe(JSON.stringify(figures(dflt)));
    expect(dflt.lazyMm.grabs).toBeGreaterThan(0);
    const none = run('linux-4.20', 'fork-cow', 'none');
    expect(none.lazyMm).toEqual({ grabs: 0, drops: 0, shootCalls: 0, shootTargets: 0, shootSwitches: 0 });
  });

  test('atomic: a LOCK INC/DEC of mm_count per lazy entry and exit, on a line that bounces', () => {
    // memcache: workers block and wake, so CPUs go idle (lazy) on the server's mm and come back.
    const none = run('linux-6.15', 'memcache', 'none');
    const atomic = run('linux-6.15', 'memcache', 'atomic');
    expect(atomic.lazyMm.grabs).toBeGreaterThan(20);
    expect(atomic.lazyMm.drops).toBeGreaterThan(20);
    expect(atomic.lazyMm.shootCalls).toBe(0);
    // Per context switch (the two runs do different work in the window): more locked RMWs, and
    // more line transfers, as CPUs take the mm_count line from each other.
    const perSwitch = (r: RunJson, n: number) => n / r.contextSwitches.count;
    expect(perSwitch(atomic, atomic.coherence.rmw)).toBeGreaterThan(perSwitch(none, none.coherence.rmw));
    expect(perSwitch(atomic, atomic.coherence.lineTransfers)).toBeGreaterThan(perSwitch(none, none.coherence.lineTransfers));
    expect(atomic.violationCounts.freedMm).toBe(0);
  });

  test('shoot-lazies: no refcount RMWs, cleanup_lazy_tlbs at each final mmdrop through smp_call_function', () => {
    const r = run('linux-6.15', 'fork-cow', 'shoot-lazies');
    expect(r.lazyMm.shootCalls).toBeGreaterThan(5);
    // The exiting task is lazy on its own mm: do_shoot_lazy_tlb switches it (or a lazy CPU) to init_mm.
    expect(r.lazyMm.shootSwitches).toBeGreaterThanOrEqual(r.lazyMm.shootCalls);
    expect(r.violationCounts.freedMm).toBe(0);
  });

  test.each(['linux-4.8', 'linux-4.13', 'linux-4.20', 'linux-6.15', 'invlpgb', 'eager'])('atomic leaves no CPU on a freed mm (%s)', (s) => {
    expect(run(s, 'fork-cow', 'atomic').violationCounts.freedMm).toBe(0);
  });

  test('shoot-lazies with linux-4.13, whose lazy CPUs leave mm_cpumask, frees an mm a CPU still runs on (CR3)', () => {
    const r = run('linux-4.13', 'fork-cow', 'shoot-lazies');
    expect(r.violationCounts.freedMm).toBeGreaterThan(0);
    const v = r.violations.find((x) => x.kind === 'freed-mm');
    expect(v?.detail).toMatch(/active mm and CR3/);
    expect(v?.reproduce).toMatch(/--mm-refcount shoot-lazies/);
  });

  test('shoot-lazies with linux-4.20: the exit flush moves lazy CPUs to init_mm and clears their bit, leaving active_mm dangling (not CR3)', () => {
    // v4.20 flush_tlb_func_common(): a lazy CPU switches to init_mm, and switch_mm_irqs_off() clears
    // it from mm_cpumask; current->active_mm stays. CONFIG_DEBUG_VM_SHOOT_LAZIES would WARN.
    const r = run('linux-4.20', 'fork-cow', 'shoot-lazies');
    const found = r.violations.filter((x) => x.kind === 'freed-mm');
    expect(found.length).toBeGreaterThan(0);
    for (const v of found) expect(v.detail).toMatch(/active mm \(lazy/);
  });

  test('a bad mode is one line and exit 2, on the CLI and in the library', () => {
    const r = cli('run', '--strategy', 'linux-4.8', '--mm-refcount', 'sometimes');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--mm-refcount expects one of none, atomic, shoot-lazies, got 'sometimes'/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(() => simulate({ ...SMALL, strategy: 'linux-4.8', workload: 'fork-cow', strategyOptions: { mmRefcount: 'x' as 'atomic' } })).toThrow(/mmRefcount = 'x': expected one of none, atomic, shoot-lazies/);
  });
});
