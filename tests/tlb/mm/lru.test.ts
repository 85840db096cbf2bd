import { simulate, type RunJson } from '../../../bench/index';
import { LRU_BATCH } from '../../../tlb/mm/lru';
import { cli } from '../../bench/run-cli';

/** The `lru` strategy option (tlb/mm/lru.ts): anonymous pages through the LRU and its lru_lock. */
const SMALL = { machine: 'zen3-1s', params: { sockets: 1, ccxPerSocket: 2, coresPerCcx: 4 }, ms: 0.5, warmupMs: 0.2, seed: 1 } as const;
const run = (strategy: string, workload: string, lru?: 'none' | 'drain' | 'batch'): RunJson =>
  simulate({ ...SMALL, strategy, workload, ...(lru === undefined ? {} : { strategyOptions: { lru } }) });

/** Everything but the host timing and the keys the option added. */
function figures(r: RunJson): string {
  const c = JSON.parse(JSON.stringify(r)) as Record<string, Record<string, unknown>>;
  delete c.host;
  delete c.lru;
  delete (c.config.strategyOptions as Record<string, unknown>).lru;
  return JSON.stringify(c);
}

describe('--lru', () => {
  test('none, the default, models nothing and changes nothing', () => {
    const dflt = run('linux-6.15', 'tlb-flush2');
    expect(dflt.config.strategyOptions.lru).toBe('none');
    expect(dflt.lru).toEqual({ added: 0, freed: 0, batchMoves: 0, drains: 0, lockAcquisitions: 0, lockContended: 0, lockWaitCycles: null });
    expect(figures(run('linux-6.15', 'tlb-flush2', 'none'))).toBe(figures(dflt));
  });

  test('drain: a page freed right after its fault goes onto the LRU and off again, two lru_lock holds each', () => {
    const r = run('linux-6.15', 'tlb-flush2', 'drain');
    const w = r.workload as Record<string, number>;
    // One write fault (a new page) and one madvise (its free) per iteration; the read maps the zero page.
    expect(r.lru.added).toBeGreaterThan(100);
    expect(Math.abs(r.lru.added - w.iterations)).toBeLessThanOrEqual(w.threads);
    expect(Math.abs(r.lru.freed - r.lru.added)).toBeLessThanOrEqual(w.threads);
    // One drain per free, but a release in flight at either edge of the window is counted on one side only.
    expect(Math.abs(r.lru.drains - r.lru.freed)).toBeLessThanOrEqual(w.threads);
    // Every drain moves a batch of one: a lock for the add, a lock for the free.
    expect(r.lru.batchMoves).toBeGreaterThanOrEqual(r.lru.drains - w.threads);
    expect(r.lru.lockAcquisitions).toBeGreaterThan(1.9 * r.lru.freed);
    expect(r.lru.lockAcquisitions).toBeLessThan(2.1 * r.lru.freed + 2 * w.threads);
    expect(r.violationCounts.staleTranslation).toBe(0);
  });

  test('batch: the lock is taken about three times per full batch', () => {
    const batch = run('linux-6.15', 'tlb-flush2', 'batch');
    expect(batch.lru.drains).toBe(0);
    expect(batch.lru.added).toBeGreaterThan(100);
    // Per batch: the move, the free of the pages already unmapped, and the free of the page that
    // was still mapped when its fault filled the batch (it is on the LRU by its madvise).
    expect(batch.lru.lockAcquisitions).toBeLessThanOrEqual(3 * Math.ceil(batch.lru.added / LRU_BATCH) + 2 * 8);
    expect(batch.lru.lockAcquisitions).toBeLessThan(0.3 * batch.lru.added);
    // Pages wait in their batch: at most a batch per CPU is still allocated.
    expect(batch.lru.added - batch.lru.freed).toBeLessThanOrEqual(8 * LRU_BATCH);
  });

  test('on 32 CPUs lru_lock is the bottleneck with drain, and batch doubles the loops (van Riel: 527k → 731k)', () => {
    const big = (lru: 'drain' | 'batch') => simulate({ ...SMALL, params: { sockets: 1, ccxPerSocket: 4 }, strategy: 'linux-6.15', workload: 'tlb-flush2', strategyOptions: { lru } });
    const drain = big('drain');
    const batch = big('batch');
    const it = (r: RunJson) => (r.workload as Record<string, number>).iterations;
    expect(it(batch)).toBeGreaterThan(1.5 * it(drain));
    // The bottleneck is the time spent waiting in all: drain takes the lock twice per loop, batch once per 31 pages.
    const waited = (r: RunJson) => r.lru.lockAcquisitions * (r.lru.lockWaitCycles as number);
    expect(waited(drain)).toBeGreaterThan(10 * waited(batch));
  });

  test('two sockets: a lruvec and a lru_lock per node, counted together', () => {
    const r = simulate({ machine: 'skylake-sp-2s', params: { coresPerCcx: 4 }, ms: 0.3, warmupMs: 0.1, strategy: 'linux-4.20', workload: 'tlb-flush2', strategyOptions: { lru: 'drain' } });
    expect(r.lru.added).toBeGreaterThan(50);
    expect(r.lru.lockAcquisitions).toBeGreaterThan(1.9 * r.lru.freed);
  });

  test('fork and COW share and drop pages without losing or double-freeing one', () => {
    const r = run('linux-4.20', 'fork-cow', 'drain');
    expect(r.lru.added).toBeGreaterThan(0);
    expect(r.lru.freed).toBeGreaterThan(0);
    expect(r.lru.freed).toBeLessThanOrEqual(r.lru.added + 8 * LRU_BATCH);
    expect(r.violationCounts.staleTranslation).toBe(0);
  });

  test('a shared file mapping allocates nothing; a private one copies on write', () => {
    expect(run('linux-4.20', 'tlb-flush3', 'drain').lru.added).toBe(0);
    const private1 = run('linux-4.20', 'tlb-flush1', 'drain');
    expect(private1.lru.added).toBeGreaterThan(0);
  });

  test('a bad mode is one line naming the option', () => {
    const r = cli('run', '--lru', 'sometimes', '--ms', '0.1');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toEqual([expect.stringContaining("--lru expects one of none, drain, batch, got 'sometimes'")]);
  });
});
