import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { llistAddContention } from '../../bench/contention-run';

describe('bench:contention (llist_add on one line)', () => {
  test('alone, every add hits in the own cache: no failure, no transfer, the gap plus L1 hits', () => {
    const r = llistAddContention(1, 50, 2000);
    expect(r.failedPerAdd).toBe(0);
    expect(r.transfersPerAdd).toBe(0);
    expect(r.cyclesPerAdd).toBeGreaterThan(2000);
    expect(r.cyclesPerAdd).toBeLessThan(2100);
  });

  test('two CPUs with long gaps collide only at their common start: about one transfer per add', () => {
    const r = llistAddContention(2, 50, 20_000);
    expect(r.failedPerAdd * 100).toBeLessThanOrEqual(1); // the first add of the later one
    expect(r.transfersPerAdd).toBeCloseTo(1, 1);
  });

  test('many CPUs at once: every add still completes, and each failed CMPXCHG cost a transfer', () => {
    const r = llistAddContention(28, 20, 0);
    expect(r.addsPerUs).toBeGreaterThan(0);
    expect(r.failedPerAdd).toBeGreaterThan(0);
    expect(r.transfersPerAdd).toBeGreaterThanOrEqual(r.failedPerAdd);
  });
  test('a bad argument is one line naming it, and exit 2', () => {
    const script = path.join(__dirname, '../../dist/bench/contention-run.js');
    for (const [args, message] of [
      [['--owner-window'], "bench:contention: unknown argument '--owner-window' (expected --adds N, --gap C, --no-owner-window)"],
      [['--adds', '0'], 'bench:contention: --adds expects a positive integer and --gap a non-negative integer of cycles'],
    ] as const) {
      const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`${message}\n`);
    }
  });
});
