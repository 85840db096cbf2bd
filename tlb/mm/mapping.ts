import type { Engine } from '../../lib/engine/engine';
import type { Sim } from '../../lib/engine/ops';
import type { Cpu } from '../../cpu/cpu';
import type { FlushStats } from '../check/flush-stats';
import { PTRS_PER_PTE, type Mm } from './mm';
import type { Oracle } from '../check/oracle';
import type { FlushReason, Strategy } from '../strategies/strategy';
import type { TlbOps } from '../hw/tlb-ops';
import type { TlbUnit } from '../hw/tlb-unit';
import { NO_FOLIO, type Lru } from './lru';

/** What the mapping system calls cost beyond their loads, stores, locks and flush (machine parameters). */
export interface MappingCosts {
  syscallEntryExit: number;
  faultEntryExit: number;
  pageFault: number;
  flushTlbFixed: number;
}

/**
 * The kernel operations that change mappings, each ending in `flush_tlb_mm_range` as in
 * mm/memory.c and mm/mprotect.c: the PTE updates happen under the mm's page-table lock, in
 * simulated memory, and move the oracle's ground truth with them; then the strategy flushes.
 * The oracle brackets every flush, so its guarantee is checked whatever the strategy does.
 */
export class Mapping {
  private readonly engine: Engine;
  private readonly unit: TlbUnit;
  private readonly oracle: Oracle;
  private readonly flushStats: FlushStats;
  private readonly strategy: Strategy;
  private readonly costs: MappingCosts;
  /** The modelled LRU (strategy option `lru`), or null: zapped pages are freed through it after the flush. */
  lru: Lru | null;

  constructor(engine: Engine, unit: TlbUnit, oracle: Oracle, flushStats: FlushStats, strategy: Strategy, costs: MappingCosts) {
    this.engine = engine;
    this.unit = unit;
    this.oracle = oracle;
    this.flushStats = flushStats;
    this.strategy = strategy;
    this.costs = { syscallEntryExit: costs.syscallEntryExit, faultEntryExit: costs.faultEntryExit, pageFault: costs.pageFault, flushTlbFixed: costs.flushTlbFixed };
    this.lru = null;
  }

  /**
   * flush_tlb_mm_range(), bracketed by the oracle and the flush statistics: its fixed per-call
   * part (`flushTlbFixed`: the code, flush_tlb_info setup, preempt and irq handling that the
   * strategy does not stage op by op; Hansen 2017), then the strategy. The mapping
   * operations run with preemption disabled (as under the page-table lock and get_cpu()), so the
   * task cannot move to another CPU in the middle and `cpu` stays the one it runs on. `reason`
   * says whether the pages leave the address space (munmap, MADV_DONTNEED: LATR flushes those
   * lazily).
   */
  *flush(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, freedTables: boolean, reason: FlushReason = 'other'): Sim {
    const t0 = this.engine.now;
    const id = this.oracle.beginFlush(cpu.id, mm, start, end, freedTables, t0);
    this.flushStats.begin(cpu.id, mm);
    const broadcasts = this.unit.invlpgbIssued[cpu.id];
    yield k.compute(this.costs.flushTlbFixed);
    yield* this.strategy.flushTlbMmRange(k, cpu, mm, start, end, freedTables, reason);
    this.flushStats.end(cpu.id, this.engine.now - t0, this.unit.invlpgbIssued[cpu.id] !== broadcasts);
    this.oracle.endFlush(id, this.engine.now);
  }

  /**
   * zap_pmd_range() → zap_pte_range(): clears the present PTEs of [start, end), one PTE page at a
   * time under its own lock (pte_offset_map_lock), skipping PTE pages that do not exist
   * (pmd_none); returns how many it cleared. The pages they mapped go into `gather` (the
   * mmu_gather's batch: __tlb_remove_page), to be freed after the flush.
   */
  *zap(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, gather: number[]): Sim<number> {
    const folios = this.lru !== null ? this.lru.folioTable(mm) : null;
    let n = 0;
    for (let lo = start; lo < end; ) {
      const r = Math.floor(lo / PTRS_PER_PTE);
      const hi = Math.min(end, (r + 1) * PTRS_PER_PTE);
      if (mm.ptePageLive[r] !== 0) {
        const ptl = mm.pteLocks[r];
        yield* ptl.lock(k, cpu.id);
        for (let vpn = lo; vpn < hi; vpn++) {
          if ((yield k.load(mm.pteAddr(vpn))) === 0) continue;
          mm.lastChange[vpn] = ++mm.changeSeq;
          yield k.xchg(mm.pteAddr(vpn), 0); // ptep_get_and_clear(): xchg on x86 SMP, a full barrier
          n++;
          if (folios !== null && folios[vpn] !== NO_FOLIO) {
            gather.push(folios[vpn]);
            folios[vpn] = NO_FOLIO;
          }
        }
        yield* ptl.unlock(k, cpu.id);
      }
      lo = hi;
    }
    return n;
  }

  /** munmap(): zap, free the PTE pages the range covers completely (free_pgtables), flush. */
  *munmap(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number): Sim {
    yield k.compute(this.costs.syscallEntryExit);
    yield k.preemptAdd(1);
    if (this.strategy.unmapping !== undefined) yield* this.strategy.unmapping(k, cpu, mm, true);
    const gather: number[] = [];
    yield* this.zap(k, cpu, mm, start, end, gather);
    let freed = false;
    yield* mm.ptl.lock(k, cpu.id);
    for (let r = Math.ceil(start / PTRS_PER_PTE); (r + 1) * PTRS_PER_PTE <= end; r++) {
      if (mm.ptePageLive[r] === 0) continue;
      mm.ptePageLive[r] = 0;
      yield k.store(mm.pmdAddr + 8 * r, 0); // pmd_clear(); the page goes back after the flush
      freed = true;
    }
    yield* mm.ptl.unlock(k, cpu.id);
    if (freed) mm.tablesFreedAt = this.engine.now;
    yield* this.flush(k, cpu, mm, start, end, freed, 'unmap');
    if (this.lru !== null) yield* this.lru.releasePages(k, cpu, gather);
    if (this.strategy.unmapping !== undefined) yield* this.strategy.unmapping(k, cpu, mm, false);
    yield k.preemptAdd(-1);
  }

  /** madvise(MADV_DONTNEED): zap the pages, keep the page tables. */
  *madviseDontneed(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number): Sim {
    yield k.compute(this.costs.syscallEntryExit);
    yield k.preemptAdd(1);
    if (this.strategy.unmapping !== undefined) yield* this.strategy.unmapping(k, cpu, mm, true);
    const gather: number[] = [];
    yield* this.zap(k, cpu, mm, start, end, gather);
    yield* this.flush(k, cpu, mm, start, end, false, 'unmap');
    if (this.lru !== null) yield* this.lru.releasePages(k, cpu, gather);
    if (this.strategy.unmapping !== undefined) yield* this.strategy.unmapping(k, cpu, mm, false);
    yield k.preemptAdd(-1);
  }

  /** mprotect(): change_pte_range() rewrites present PTEs with new permissions (a new version each), per PTE page under its lock, then flush. */
  *mprotect(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, writable: boolean): Sim {
    yield k.compute(this.costs.syscallEntryExit);
    yield k.preemptAdd(1);
    for (let lo = start; lo < end; ) {
      const r = Math.floor(lo / PTRS_PER_PTE);
      const hi = Math.min(end, (r + 1) * PTRS_PER_PTE);
      if (mm.ptePageLive[r] !== 0) {
        yield* mm.pteLocks[r].lock(k, cpu.id);
        for (let vpn = lo; vpn < hi; vpn++) yield* this.rewrite(k, mm, vpn, writable, true);
        yield* mm.pteLocks[r].unlock(k, cpu.id);
      }
      lo = hi;
    }
    yield* this.flush(k, cpu, mm, start, end, false);
    yield k.preemptAdd(-1);
  }

  /** wp_page_copy(): a write to a COW page gets a private copy; the old translation is flushed. */
  *cowBreak(k: TlbOps, cpu: Cpu, mm: Mm, vpn: number): Sim {
    yield k.preemptAdd(1);
    yield k.compute(this.costs.faultEntryExit + this.costs.pageFault); // the #PF that found the PTE read-only, and the copy
    yield* mm.ptlFor(vpn).lock(k, cpu.id);
    // The copy joins the LRU (folio_add_lru_vma); the old page (none for a page-cache page) loses this mapping after the flush.
    const folios = this.lru !== null ? this.lru.folioTable(mm) : null;
    const old = folios !== null ? folios[vpn] : NO_FOLIO;
    if (folios !== null) folios[vpn] = yield* (this.lru as Lru).allocAdd(k, cpu);
    yield* this.rewrite(k, mm, vpn, true, false);
    yield* mm.ptlFor(vpn).unlock(k, cpu.id);
    yield* this.flush(k, cpu, mm, vpn, vpn + 1, false); // ptep_clear_flush → flush_tlb_page
    if (this.lru !== null) yield* this.lru.put(k, cpu, old);
    yield k.preemptAdd(-1);
  }

  /** migrate_pages() of one page (by whichever CPU runs the migration). */
  *migratePage(k: TlbOps, cpu: Cpu, mm: Mm, vpn: number): Sim {
    yield k.preemptAdd(1);
    yield* mm.ptlFor(vpn).lock(k, cpu.id);
    yield* this.rewrite(k, mm, vpn, null, true);
    yield* mm.ptlFor(vpn).unlock(k, cpu.id);
    yield* this.flush(k, cpu, mm, vpn, vpn + 1, false);
    yield k.preemptAdd(-1);
  }

  /**
   * do_fault_around() → filemap_map_pages(): after a read fault of `vpn` on a file mapping, under
   * the PTE lock, every page of [w0, w1) but `vpn` whose PTE is none gets one (writable or not).
   * The window must lie in `vpn`'s PTE page (the kernel aligns it to its power-of-two size).
   * Outside simulated flush paths: mapping new pages needs no flush. Returns how many it mapped.
   */
  *mapAround(k: TlbOps, cpu: Cpu, mm: Mm, vpn: number, w0: number, w1: number, writable: boolean): Sim<number> {
    const r = Math.floor(vpn / PTRS_PER_PTE);
    if (Math.floor(w0 / PTRS_PER_PTE) !== r || Math.floor((w1 - 1) / PTRS_PER_PTE) !== r) throw new Error(`fault-around window [${w0}, ${w1}) leaves the PTE page of ${vpn}`);
    yield k.preemptAdd(1);
    if (this.strategy.beforeReuse !== undefined) yield* this.strategy.beforeReuse(k, cpu, mm, w0, w1); // the lazy-flush reuse gate
    yield* mm.pteLocks[r].lock(k, cpu.id);
    let mapped = 0;
    for (let v = w0; v < w1; v++) {
      if (v === vpn || (yield k.load(mm.pteAddr(v))) !== 0) continue;
      this.oracle.reuse(mm, v);
      const version = ++mm.changeSeq;
      mm.lastChange[v] = version;
      yield k.store(mm.pteAddr(v), version * 2 + (writable ? 1 : 0));
      mapped++;
    }
    yield* mm.pteLocks[r].unlock(k, cpu.id);
    yield k.preemptAdd(-1);
    return mapped;
  }

  /**
   * dup_mmap() for fork: copy_pte_range() per PTE page of the parent, under the child's and the
   * parent's PTE locks: every present page becomes read-only in both (COW); then the parent's
   * whole mm is flushed (flush_tlb_mm).
   */
  *forkCopy(k: TlbOps, cpu: Cpu, parent: Mm, child: Mm): Sim {
    yield k.preemptAdd(1);
    for (let r = 0; r < parent.ptePageLive.length; r++) {
      if (parent.ptePageLive[r] === 0) continue;
      if (child.ptePageLive[r] === 0) {
        child.ptePageLive[r] = 1;
        yield k.store(child.pmdAddr + 8 * r, 1); // pte_alloc() in the child
      }
      yield* child.pteLocks[r].lock(k, cpu.id);
      yield* parent.pteLocks[r].lock(k, cpu.id);
      for (let vpn = r * PTRS_PER_PTE; vpn < Math.min(parent.nPages, (r + 1) * PTRS_PER_PTE); vpn++) {
        const old = yield k.load(parent.pteAddr(vpn));
        if (old === 0) continue;
        yield* this.rewrite(k, parent, vpn, false, true);
        if (this.lru !== null) {
          // copy_present_pte(): the child maps the same page (folio_get).
          const f = this.lru.folioTable(parent)[vpn];
          this.lru.folioTable(child)[vpn] = f;
          yield* this.lru.share(k, f);
        }
        const version = ++child.changeSeq;
        child.lastChange[vpn] = version;
        yield k.store(child.pteAddr(vpn), version * 2);
      }
      yield* parent.pteLocks[r].unlock(k, cpu.id);
      yield* child.pteLocks[r].unlock(k, cpu.id);
    }
    yield* this.flush(k, cpu, parent, 0, parent.nPages, false);
    yield k.preemptAdd(-1);
  }

  /** exit_mmap(): zap everything, free every page table, one full flush with freed_tables. */
  *exitMmap(k: TlbOps, cpu: Cpu, mm: Mm): Sim {
    yield k.preemptAdd(1);
    const gather: number[] = [];
    yield* this.zap(k, cpu, mm, 0, mm.nPages, gather);
    yield* mm.ptl.lock(k, cpu.id);
    for (let r = 0; r < mm.ptePageLive.length; r++) {
      if (mm.ptePageLive[r] === 0) continue;
      mm.ptePageLive[r] = 0;
      yield k.store(mm.pmdAddr + 8 * r, 0);
    }
    yield* mm.ptl.unlock(k, cpu.id);
    mm.tablesFreedAt = this.engine.now;
    yield* this.flush(k, cpu, mm, 0, mm.nPages, true);
    if (this.lru !== null) yield* this.lru.releasePages(k, cpu, gather);
    yield k.preemptAdd(-1);
  }

  /**
   * A new PTE version for a page (present only unless `anyState`): `writable` null keeps the
   * permission. Caller holds the page-table lock.
   */
  private *rewrite(k: TlbOps, mm: Mm, vpn: number, writable: boolean | null, presentOnly: boolean): Sim {
    const old = yield k.load(mm.pteAddr(vpn));
    if (old === 0 && presentOnly) return;
    const version = ++mm.changeSeq;
    mm.lastChange[vpn] = version;
    const w = writable === null ? old % 2 : writable ? 1 : 0;
    yield k.xchg(mm.pteAddr(vpn), version * 2 + w); // ptep_modify_prot_start/commit: get_and_clear, then set
  }
}
