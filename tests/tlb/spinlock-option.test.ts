import { simulate, type RunJson } from '../../bench/index';
import { cli } from '../bench/run-cli';

/** The `spinlock` strategy option (`--spinlock`): every spinlock of the machine ticket or queued (cpu/qspinlock.ts). */
const SMALL = { machine: 'zen3-1s', params: { sockets: 1, ccxPerSocket: 2, coresPerCcx: 4 }, ms: 0.5, warmupMs: 0.2, seed: 1 } as const;

describe('--spinlock', () => {
  test('queued: the same work gets done through the other lock, with no violation', () => {
    const run = (spinlock: 'ticket' | 'queued'): RunJson =>
      simulate({ ...SMALL, strategy: 'linux-6.15', workload: 'tlb-flush2', strategyOptions: { lru: 'drain', spinlock } });
    const ticket = run('ticket');
    const queued = run('queued');
    expect(queued.config.strategyOptions.spinlock).toBe('queued');
    expect(JSON.stringify(queued.coherence)).not.toBe(JSON.stringify(ticket.coherence)); // another lock ran
    expect(queued.violationCounts).toEqual({ staleTranslation: 0, freedPageTable: 0, lockup: 0, freedMm: 0 });
    // lru_lock is taken twice per loop either way (the drain), within the loop count's spread.
    expect(queued.lru.lockAcquisitions / ticket.lru.lockAcquisitions).toBeGreaterThan(0.9);
    expect(queued.lru.lockAcquisitions / ticket.lru.lockAcquisitions).toBeLessThan(1.1);
  });

  test.each(['linux-4.20', 'linux-6.15'])('%s explores clean with queued spinlocks (perturbed timing, 12 seeds)', (strategy) => {
    for (let seed = 1; seed <= 12; seed++) {
      const r = simulate({ strategy, workload: 'explore-mix', params: { sockets: 1, coresPerCcx: 4 }, ms: 0.4, warmupMs: 0, seed, perturb: true, strategyOptions: { spinlock: 'queued' } });
      expect([seed, r.violationCounts]).toEqual([seed, { staleTranslation: 0, freedPageTable: 0, lockup: 0, freedMm: 0 }]);
    }
  });

  test('a bad kind from the library names the option', () => {
    expect(() => simulate({ ...SMALL, strategy: 'linux-4.20', workload: 'memcache', strategyOptions: { spinlock: 'mcs' as never } }))
      .toThrow("strategy option spinlock = 'mcs': expected one of ticket, queued");
  });

  test('a bad kind is one line naming the option', () => {
    const r = cli('run', '--spinlock', 'mcs', '--ms', '0.1');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toEqual([expect.stringContaining("--spinlock expects one of ticket, queued, got 'mcs'")]);
  });
});
