import type { Counter } from '../../lib/stats/counter';
import type { StatGroup } from '../../lib/stats/group';
import type { SimMemory } from '../../mem/memory';
import type { Mm } from '../mm/mm';
import type { TlbUnit } from '../hw/tlb-unit';
import { LazyCoverage } from './lazy-coverage';
import type { FlushInfo, LockupWatchdog, Violation, ViolationKind } from './violation';

export type { FlushInfo, LockupWatchdog, Violation, ViolationKind } from './violation';

interface OpenFlush {
  info: FlushInfo;
  mmRef: Mm;
  snapshot: Float64Array;
  /** When the tables this flush covers were freed (a later free belongs to a later flush). */
  freedAt: number;
  /** Reported as a lockup already. */
  lockupReported: boolean;
  /** Its remote part is applied lazily (`postedLazily`): its changes go to the quarantine. */
  lazy: boolean;
}

/** A freed-table check postponed until a CPU finishes the context switch it is in. */
interface Deferred {
  info: FlushInfo;
  mm: Mm;
  freedAt: number;
}

/** How many violations are kept in full; the rest are only counted. */
const KEEP = 64;

/**
 * The correctness oracle. Its ground truth is the page tables (`Mm.lastChange`), never a
 * strategy's own bookkeeping:
 * - stale translation: once `flush_tlb_mm_range(mm, range)` has returned on its initiator, a
 *   user access by any CPU that hits a TLB entry filled before a PTE change the flush covered is
 *   a violation;
 * - freed page tables: once a flush with `freed_tables` has returned, any CPU whose CR3 still
 *   points at that mm's page tables and whose paging-structure cache (for its PCID) still holds
 *   entries cached before the tables were freed is a violation (a speculative walk may read
 *   freed memory);
 * - lazy coverage (LATR, only for a strategy with `lazyCoverage`): a flush the strategy posted
 *   lazily covers nothing at its return; its changes are quarantined until the pages are reused
 *   (tlb/check/lazy-coverage.ts), and its freed tables are judged when a PTE page of the mm is
 *   installed again.
 */
export class Oracle {
  readonly violations: Violation[];
  reproduce: string;
  private readonly unit: TlbUnit;
  /** Per mm: the PTE version each page must have reached in any TLB entry used. */
  private readonly covered: Map<Mm, Float64Array>;
  /** Per mm and page: the flush that covered its latest change (a violation names it). */
  private readonly coveredBy: Map<Mm, (FlushInfo | null)[]>;
  /** Flushes begun so far: the next one's id. Only flushes that still cover a page are kept. */
  private flushCount: number;
  private readonly open: Map<number, OpenFlush>;
  private readonly counts: Record<ViolationKind, Counter>;
  private readonly checks: Counter;
  /** Whether a CPU is inside switch_mm (interrupts off, CR3 about to change). */
  private readonly switching: (cpu: number) => boolean;
  private readonly deferred: Deferred[][];
  /** Per CPU: the id of the flush it is inside, or -1 (flushes do not nest on a CPU). */
  private readonly openOn: Int32Array;
  /** The lazy-coverage quarantine, or null when the strategy never flushes lazily. */
  readonly lazy: LazyCoverage | null;
  /** Per mm: lazily posted flushes that freed page tables, judged at the next pmd_install. */
  private readonly lazyFreed: Map<Mm, Deferred[]>;

  /** `lazyMemory`: the machine's memory when the strategy flushes lazily (`Strategy.lazyCoverage`), else null. */
  constructor(unit: TlbUnit, stats: StatGroup, switching: (cpu: number) => boolean, lazyMemory: SimMemory | null = null) {
    this.unit = unit;
    this.openOn = new Int32Array(unit.cr3Mm.length).fill(-1);
    this.lazyFreed = new Map();
    this.switching = switching;
    this.deferred = Array.from({ length: unit.cr3Mm.length }, () => []);
    this.violations = [];
    this.reproduce = '';
    this.covered = new Map();
    this.coveredBy = new Map();
    this.flushCount = 0;
    this.open = new Map();
    this.counts = {
      'stale-translation': stats.counter('staleTranslations', 'user accesses through a TLB entry a returned flush should have removed'),
      'freed-page-table': stats.counter('freedPageTables', 'CPUs left with CR3 on freed page tables after the flush returned'),
      'freed-mm': stats.counter('freedMms', 'CPUs whose active mm or CR3 was an mm_struct being freed (tlb/check/freed-mm.ts)'),
      lockup: stats.counter('lockups', 'lockups at the end of the run: a CPU with interrupts off, spinning or not switching with a task waiting, a CSD not released, a flush not returned, past its threshold'),
    };
    this.checks = stats.counter('checkedAccesses', 'user accesses the oracle checked');
    // Registered after every other violation stat, and only for a lazy strategy: the others' dumps stay as they were.
    this.lazy = lazyMemory !== null ? new LazyCoverage(unit, lazyMemory, stats.group('lazy'), (cpu, now, mm, vpn, by, detail) => this.record('stale-translation', cpu, now, mm, vpn, by, detail)) : null;
  }

  /** `flush_tlb_mm_range` was entered: remember each page's latest change in the range. */
  beginFlush(initiator: number, mm: Mm, start: number, end: number, freedTables: boolean, now: number): number {
    const id = this.flushCount++;
    const info: FlushInfo = { id, mm: mm.name, start, end, freedTables, initiator, startCycle: now, returnCycle: -1 };
    this.open.set(id, { info, mmRef: mm, snapshot: mm.lastChange.slice(start, end), freedAt: mm.tablesFreedAt, lockupReported: false, lazy: false });
    this.openOn[initiator] = id;
    return id;
  }

  /** The flush open on `cpu` posts its remote part lazily (StrategyContext.postedLazily). */
  postedLazily(cpu: number): void {
    const f = this.open.get(this.openOn[cpu]);
    if (this.lazy === null || f === undefined) throw new Error(`postedLazily on cpu${cpu}: ${this.lazy === null ? 'the strategy does not declare lazyCoverage' : 'no flush is open there'}`);
    f.lazy = true;
  }

  /** `flush_tlb_mm_range` returned: its changes are now covered, and freed tables must be unreachable. */
  endFlush(id: number, now: number): void {
    const f = this.open.get(id) as OpenFlush;
    this.open.delete(id);
    f.info.returnCycle = now;
    this.openOn[f.info.initiator] = -1;
    const mm = f.mmRef;
    if (f.lazy) {
      // Nothing is covered yet: stale entries stay allowed until the pages are reused.
      (this.lazy as LazyCoverage).quarantine(mm, f.info, f.snapshot);
      if (f.info.freedTables && f.freedAt >= 0) {
        const list = this.lazyFreed.get(mm);
        if (list === undefined) this.lazyFreed.set(mm, [{ info: f.info, mm, freedAt: f.freedAt }]);
        else list.push({ info: f.info, mm, freedAt: f.freedAt });
      }
      return;
    }
    let cov = this.covered.get(mm);
    let by = this.coveredBy.get(mm);
    if (cov === undefined || by === undefined) {
      cov = new Float64Array(mm.nPages);
      by = new Array<FlushInfo | null>(mm.nPages).fill(null);
      this.covered.set(mm, cov);
      this.coveredBy.set(mm, by);
    }
    for (let i = 0; i < f.snapshot.length; i++) {
      const v = f.snapshot[i];
      if (v > cov[f.info.start + i]) {
        cov[f.info.start + i] = v;
        by[f.info.start + i] = f.info;
      }
    }
    if (!f.info.freedTables || f.freedAt < 0) return;
    if (this.lazyFreed.size !== 0) this.lazyFreed.delete(mm); // judged now, with everything freed before
    for (let c = 0; c < this.unit.cr3Mm.length; c++) {
      // A CPU inside switch_mm has interrupts off: it holds off the grace period after which the
      // tables are really reused, and its CR3 is about to change. Judge it when the switch is done.
      if (this.switching(c)) this.deferred[c].push({ info: f.info, mm, freedAt: f.freedAt });
      else this.checkFreed(c, f.info, mm, f.freedAt, now);
    }
  }

  /**
   * A page of `mm` is about to get a new translation (a fault or fault-around installs its PTE):
   * the reuse the lazy contract waits for. Costs nothing unless a lazy flush quarantined it.
   */
  reuse(mm: Mm, vpn: number): void {
    if (this.lazy !== null) this.lazy.reuse(mm, vpn);
  }

  /**
   * PTE page `region` of `mm` is installed again (pmd_install): tables freed by a lazily posted
   * flush may be reused now, so every CPU still walking through them is judged, as at the return
   * of an ordinary flush with freed tables.
   */
  reuseTable(mm: Mm, now: number): void {
    if (this.lazyFreed.size === 0) return;
    const list = this.lazyFreed.get(mm);
    if (list === undefined) return;
    this.lazyFreed.delete(mm);
    for (const d of list) {
      for (let c = 0; c < this.unit.cr3Mm.length; c++) {
        if (this.switching(c)) this.deferred[c].push(d);
        else this.checkFreed(c, d.info, mm, d.freedAt, now);
      }
    }
  }

  /** The scheduler finished switch_mm on `cpu`: run the freed-table checks postponed for it. */
  afterMmSwitch(cpu: number, now: number): void {
    const list = this.deferred[cpu];
    if (list.length === 0) return;
    for (const d of list) this.checkFreed(cpu, d.info, d.mm, d.freedAt, now);
    list.length = 0;
  }

  private checkFreed(c: number, info: FlushInfo, mm: Mm, freedAt: number, now: number): void {
    const u = this.unit;
    if (u.cr3Mm[c] !== mm.id) return;
    const asid = u.cr3Asid[c];
    const tlb = u.tlbs[c];
    // Hazardous only if the paging-structure cache holds entries cached before the free: an empty
    // one, or one filled after it (from the cleared PMD), sends a walk nowhere near the freed page.
    if (tlb.pscValid[asid] === 0 || tlb.pscFilledAt[asid] >= freedAt) return;
    this.record('freed-page-table', c, now, mm.name, -1, info,
      `CR3 still points at ${mm.name}'s page tables, freed at cycle ${freedAt}, and the paging-structure cache of PCID ${asid} holds entries cached at cycle ${tlb.pscFilledAt[asid]} (last flushed at cycle ${tlb.pscFlushedAt[asid]})`);
  }

  /**
   * A user access on `cpu` in `mm` hit a TLB entry holding PTE version `version`, filled by a walk
   * of the address space with ctx_id `owner`.
   */
  checkUse(cpu: number, mm: Mm, vpn: number, version: number, owner: number, now: number): void {
    this.checks.value++;
    if (owner !== mm.ctxId) {
      this.record('stale-translation', cpu, now, mm.name, vpn, null,
        `used a TLB entry filled for another address space (ctx_id ${owner}; this mm's is ${mm.ctxId}): its PCID was reused without a flush`);
      return;
    }
    const cov = this.covered.get(mm);
    if (cov === undefined || version >= cov[vpn]) {
      if (this.lazy !== null) this.lazy.checkUse(cpu, mm, vpn, version, now);
      return;
    }
    const by = (this.coveredBy.get(mm) as (FlushInfo | null)[])[vpn] as FlushInfo;
    this.record('stale-translation', cpu, now, mm.name, vpn, by,
      `used a TLB entry of PTE version ${version}; flush ${by.id} covered the change to version ${cov[vpn]} and returned at cycle ${by.returnCycle}`);
  }

  /** User code of `mm` ran on a CPU whose CR3 points at another mm's page tables. */
  wrongMm(cpu: number, mm: Mm, vpn: number, cr3Mm: number, now: number): void {
    this.checks.value++;
    this.record('stale-translation', cpu, now, mm.name, vpn, null, `user code of ${mm.name} ran with CR3 on mm ${cr3Mm}`);
  }

  /**
   * The flush liveness check: a flush still open `thresholdCycles` after it began, whose
   * initiator has been waiting on one thing (a parked spin, a lock) for that long too, is a
   * `lockup` at the initiator. An initiator still making progress (retrying, running) is slow,
   * not stuck. `waiting(cpu)` gives the cycle the CPU's wait began and what it waits on, or null.
   */
  checkLockups(now: number, thresholdCycles: number, waiting: (cpu: number) => { since: number; what: string } | null): void {
    for (const f of this.open.values()) {
      if (f.lockupReported || now - f.info.startCycle < thresholdCycles) continue;
      const w = waiting(f.info.initiator);
      if (w === null || now - w.since < thresholdCycles) continue;
      f.lockupReported = true;
      this.record('lockup', f.info.initiator, now, f.mmRef.name, -1, f.info,
        `flush_tlb_mm_range on cpu${f.info.initiator} has not returned ${now - f.info.startCycle} cycles after it began: ${w.what}`, 'flush');
    }
  }

  /** A lockup found by one of the CPU-level checks of tlb/check/liveness.ts (`mm`: the CPU's CR3 mm). */
  recordLockup(watchdog: LockupWatchdog, cpu: number, now: number, mm: string, detail: string): void {
    this.record('lockup', cpu, now, mm, -1, null, detail, watchdog);
  }

  /** An mm_struct was freed while `cpu` still had it as its active mm or its CR3 (tlb/check/freed-mm.ts). */
  recordFreedMm(cpu: number, now: number, mm: string, detail: string): void {
    this.record('freed-mm', cpu, now, mm, -1, null, detail);
  }

  count(kind: ViolationKind): number {
    return this.counts[kind].value;
  }

  private record(kind: ViolationKind, cpu: number, cycle: number, mm: string, page: number, flush: FlushInfo | null, detail: string, watchdog?: LockupWatchdog): void {
    this.counts[kind].value++;
    if (this.violations.length < KEEP) {
      const v: Violation = { kind, cpu, cycle, mm, page, flush: flush === null ? null : { ...flush }, detail, reproduce: this.reproduce };
      if (watchdog !== undefined) v.watchdog = watchdog;
      this.violations.push(v);
    }
  }
}
