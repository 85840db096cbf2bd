import * as path from 'path';
import { explore, exploreConfig } from '../../bench/explore';
import { loadStrategy } from '../../bench/cli/load-strategy';
import { cli } from './run-cli';
import { smpMbStrategy } from './smp-mb-strategy';

describe('the liveness oracle', () => {
  // smp_mb() that never finishes: a CPU coming back from lazy mode spins for ever with interrupts off.
  const file = smpMbStrategy('spin', ['for (;;) yield k.delay(10);']);

  test('a flush that never returns is a lockup at its initiator, naming what it waits on; run exits 1', () => {
    const r = cli('run', '--strategy', file, '--workload', 'explore-mix', '--param', 'sockets=1', '--param', 'coresPerCcx=4', '--ms', '0.4', '--warmup-ms', '0', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.violationCounts.lockup).toBeGreaterThan(0);
    const v = j.violations.find((x: { kind: string }) => x.kind === 'lockup');
    // The initiator waits in csd_lock_wait for a CPU that never takes the IPI.
    expect(v.detail).toMatch(/^flush_tlb_mm_range on cpu\d has not returned \d+ cycles after it began: cpu\d: '.*': spinning on \[cfd_data\[\d\]\.csd@cpu\d\+8\]/);
    expect(v.reproduce).toContain('--strategy');
  });

  test('explore counts lockups like any other violation', () => {
    const spec = path.relative(process.cwd(), file);
    const r = explore(exploreConfig(spec), loadStrategy(file), 3, 1);
    expect(r.counts.lockup ?? 0).toBeGreaterThan(0);
    expect(r.first.map((v) => v.kind)).toContain('lockup');
  });

  test("a correct strategy's runs report none, even with exploration's timing noise", () => {
    const r = cli('run', '--strategy', 'linux-4.20', '--workload', 'explore-mix', '--param', 'sockets=1', '--param', 'coresPerCcx=4', '--ms', '0.4', '--warmup-ms', '0', '--perturb', '--json');
    expect(JSON.parse(r.out).violationCounts).toEqual({ staleTranslation: 0, freedPageTable: 0, lockup: 0 });
    expect(r.code).toBe(0);
  });
});
