import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { TlbArray } from '../../tlb/hw/tlb-array';
import { Rng } from '../../lib/rng';
import { TlbMachine } from '../../tlb/machine';
import { linux420 } from '../../tlb/strategies/linux-4.20';
import type { Mm } from '../../tlb/mm/mm';
import type { TlbOps } from '../../tlb/hw/tlb-ops';
import { pteVersion, pteWritable } from '../../tlb/hw/mmu';

describe('TlbArray', () => {
  test('set-associative LRU: the least recently used way of a set is the victim', () => {
    const t = new TlbArray(8, 2, 4); // 4 sets x 2 ways
    t.fill(1, 0, 10, 1); // set 0
    t.fill(1, 4, 14, 1); // set 0
    expect(t.lookup(1, 0)).toBe(true); // 0 is now more recent than 4
    t.fill(1, 8, 18, 1); // set 0 again: evicts 4
    expect([t.lookup(1, 0), t.lookup(1, 4), t.lookup(1, 8)]).toEqual([true, false, true]);
    expect(t.version).toBe(18);
  });

  test('entries are tagged by ASID; flushes hit one page, one ASID or all', () => {
    const t = new TlbArray(16, 4, 8);
    t.fill(1, 3, 1, 1);
    t.fill(2, 3, 2, 1);
    t.fill(2, 5, 3, 1);
    t.invalidatePage(1, 3);
    expect([t.lookup(1, 3), t.lookup(2, 3)]).toEqual([false, true]);
    t.flushAsid(2);
    expect([t.lookup(2, 3), t.lookup(2, 5)]).toEqual([false, false]);
    t.fill(7, 1, 1, 1);
    t.flushAll();
    expect(t.lookup(7, 1)).toBe(false);
  });

  test('an ASID flush finds every entry of the ASID after refills, evictions and invalidations', () => {
    const t = new TlbArray(8, 2, 4); // 4 sets x 2 ways
    for (let vpn = 0; vpn < 8; vpn++) t.fill(1, vpn, 1, 1); // fills every way with ASID 1
    t.fill(1, 3, 2, 1); // a refill of a present entry
    t.fill(2, 0, 1, 1); // evicts an ASID-1 entry of set 0
    t.fill(2, 5, 1, 1); // and one of set 1
    t.invalidatePage(1, 6);
    t.flushAsid(1);
    for (let vpn = 0; vpn < 8; vpn++) expect(t.lookup(1, vpn)).toBe(false);
    expect([t.lookup(2, 0), t.lookup(2, 5)]).toEqual([true, true]);
    t.flushAsid(1); // nothing left: a no-op
    t.flushAsid(2);
    expect([t.lookup(2, 0), t.lookup(2, 5)]).toEqual([false, false]);
  });

  test('random fills, invalidations and flushes: an ASID flush removes exactly that ASID\'s entries', () => {
    const rng = new Rng('7', 'tlb-array');
    const t = new TlbArray(16, 4, 6); // 4 sets x 4 ways, ASIDs 0..5 (5 = global)
    // Every (ASID, page) the TLB holds, by an exhaustive probe (holdsOlder: no LRU update).
    const held = (): string[] => {
      const out: string[] = [];
      for (let asid = 0; asid < 6; asid++) for (let vpn = 0; vpn < 24; vpn++) if (t.holdsOlder(vpn, asid, Infinity)) out.push(`${asid}:${vpn}`);
      return out;
    };
    let flushes = 0;
    for (let step = 0; step < 5000; step++) {
      const asid = rng.int(6);
      const vpn = rng.int(24);
      const op = rng.int(20);
      if (op < 14) t.fill(asid, vpn, 1, asid); // owner = asid, so the probe can tell them apart
      else if (op < 17) t.invalidatePage(asid, vpn);
      else {
        const before = held();
        if (op < 19) t.flushAsid(asid);
        else t.flushAsidsBelow(5);
        const keep = (k: string) => (op < 19 ? Number(k.split(':')[0]) !== asid : Number(k.split(':')[0]) >= 5);
        expect(held()).toEqual(before.filter(keep));
        flushes++;
      }
    }
    expect(flushes).toBeGreaterThan(500);
  });
});

/** One task on cpu0 of a small machine, running `body` against mm `a` (1024 pages). */
function single(body: (m: TlbMachine, k: TlbOps, a: Mm) => Generator<number, void, number>, pcid = true) {
  const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }), seed: 1, strategy: linux420(), strategyOptions: { pcid } });
  const a = m.createMm('a', 1024);
  m.sched.createTask('t', a, 0, function* ({ k }): Sim {
    yield* body(m, k, a);
  });
  m.sched.start();
  m.engine.run({ maxCycles: 1e8 });
  return { m, a };
}

describe('translation and mapping operations', () => {
  test('a first touch faults and installs a writable PTE; the second hits the L1 dTLB', () => {
    let walkHit = 0;
    const { m, a } = single(function* (mm, k) {
      const task = mm.sched.rqs[0].curr;
      yield* mm.sched.touch(task, 5, true);
      const t0 = mm.engine.now;
      yield* mm.sched.touch(task, 5, false);
      walkHit = mm.engine.now - t0;
      void k;
    });
    const pte = m.memory.peek(a.pteAddr(5));
    expect(pteWritable(pte)).toBe(true);
    expect(pteVersion(pte)).toBe(a.lastChange[5]);
    expect(walkHit).toBe(m.config.params.l1Hit); // an L1 dTLB hit costs the data access only
    const tlb = (m.stats.dump() as any).cpu0.tlb;
    // The first touch misses, faults, and walks again after the fault (the instruction restarts).
    expect(tlb.stlb.misses).toBe(2);
    expect(tlb.l1d.hits).toBe(1);
  });

  test('a walk whose lines are all in L1 costs pageWalk', () => {
    let walk = 0;
    const { m } = single(function* (mm, k) {
      const task = mm.sched.rqs[0].curr;
      for (let p = 0; p < 3; p++) yield* mm.sched.touch(task, p, true);
      yield k.invlpg(2); // drops page 2 and this PCID's paging-structure cache
      const t0 = mm.engine.now;
      yield* mm.sched.touch(task, 2, false);
      walk = mm.engine.now - t0;
    });
    const p = m.config.params;
    expect(walk).toBe(p.pageWalk + p.l1Hit); // the walk, then the data access
  });

  test('munmap of a whole PTE page frees it (a freed-tables flush), and the range faults again later', () => {
    const { m, a } = single(function* (mm, k, a) {
      const task = mm.sched.rqs[0].curr;
      yield* mm.sched.touch(task, 700, true);
      yield* mm.mapping.munmap(k, mm.sched.cpuOf(task), a, 512, 1024);
      expect([a.ptePageLive[1], mm.memory.peek(a.pteAddr(700))]).toEqual([0, 0]);
      yield* mm.sched.touch(task, 700, true); // pte_alloc, then a fresh page
    });
    expect(a.ptePageLive[1]).toBe(1);
    expect(a.tablesFreedAt).toBeGreaterThan(0);
    expect(pteWritable(m.memory.peek(a.pteAddr(700)))).toBe(true);
    expect(m.oracle.violations).toEqual([]);
  });

  test('without PCID every CR3 write flushes all; with PCID a NOFLUSH write keeps the entries', () => {
    for (const pcid of [false, true]) {
      const { m } = single(function* (mm, k) {
        const task = mm.sched.rqs[0].curr;
        yield* mm.sched.touch(task, 1, true);
        const asid = mm.unit.cr3Asid[0];
        yield k.writeCr3(mm.unit.cr3Mm[0], asid, true);
      }, pcid);
      const tlb = (m.stats.dump() as any).cpu0.tlb;
      expect([pcid, tlb.fullFlushes > 0]).toEqual([pcid, !pcid]);
    }
  });

  test('fork write-protects the parent, and a write to a COW page gets a new version and a flush', () => {
    const { m } = single(function* (mm, k, a) {
      const task = mm.sched.rqs[0].curr;
      yield* mm.sched.touch(task, 9, true);
      const child = mm.createMm('child', 1024);
      yield* mm.mapping.forkCopy(k, mm.sched.cpuOf(task), a, child);
      expect(pteWritable(mm.memory.peek(a.pteAddr(9)))).toBe(false);
      expect(pteWritable(mm.memory.peek(child.pteAddr(9)))).toBe(false);
      const before = a.lastChange[9];
      yield* mm.sched.touch(task, 9, true); // COW break
      expect(a.lastChange[9]).toBeGreaterThan(before);
      expect(pteWritable(mm.memory.peek(a.pteAddr(9)))).toBe(true);
    });
    expect((m.stats.dump() as any).flushes.count).toBe(2); // fork's flush_tlb_mm, the COW break's flush_tlb_page
    expect(m.oracle.violations).toEqual([]);
  });
});
