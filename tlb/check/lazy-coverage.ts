import type { Counter } from '../../lib/stats/counter';
import type { StatGroup } from '../../lib/stats/group';
import type { SimMemory } from '../../mem/memory';
import type { Mm } from '../mm/mm';
import type { TlbUnit } from '../hw/tlb-unit';
import type { FlushInfo } from './violation';

/** How the quarantine reports a stale use after reuse (the oracle records it as a stale translation). */
export type LazyViolation = (cpu: number, now: number, mm: string, vpn: number, by: FlushInfo, detail: string) => void;

/**
 * The oracle's quarantine for flushes whose remote part is applied lazily (LATR, Kumar et al.,
 * ASPLOS 2018; docs/reference/beyond-mainline.md §4.3). The contract, per page p of an mm whose
 * change a lazily posted flush F covered:
 *
 * - until p is *reused* (a new PTE is installed for it: a fault or fault-around), i.e. while its
 *   PTE is still the one F covered and not present, a CPU may still use a TLB entry older than
 *   F's change: allowed, counted as `staleUsesAllowed` (the SDM's
 *   "Delayed Invalidation", Vol. 3A §4.10.4.4: INVLPG may be delayed if software does not
 *   re-allocate that part of the linear-address space);
 * - once p has been reused, such a use is a stale-translation violation: the range was given out
 *   again before this CPU applied F;
 * - a reuse while some CPU still holds such an entry is counted as `prematureReuses`, so a
 *   strategy that releases a range too early is caught even when no CPU touches it afterwards.
 *
 * The pending set is the oracle's own: a CPU is pending for F exactly while its TLB holds an
 * entry of p older than F's change (asked of the TLB arrays, `Tlb.holdsOlder`), never the
 * strategy's cpumask, so a strategy that under-reports its targets cannot hide a stale entry.
 * Reuse is read from the ground truth too: p is reused once `lastChange[p]` moved past the
 * version F covered (the model has no frame identity; re-mapping is the only reuse it has).
 */
export class LazyCoverage {
  readonly staleUsesAllowed: Counter;
  readonly prematureReuses: Counter;
  readonly quarantined: Counter;
  private readonly unit: TlbUnit;
  private readonly memory: SimMemory;
  private readonly report: LazyViolation;
  /** Per mm and page: the PTE version the latest lazily covered change moved it to (0: none). */
  private readonly versions: Map<Mm, Float64Array>;
  /** Per mm and page: the lazy flush that covered it. */
  private readonly by: Map<Mm, (FlushInfo | null)[]>;

  constructor(unit: TlbUnit, memory: SimMemory, stats: StatGroup, report: LazyViolation) {
    this.unit = unit;
    this.memory = memory;
    this.report = report;
    this.versions = new Map();
    this.by = new Map();
    this.quarantined = stats.counter('quarantinedPages', 'page changes covered by lazily posted flushes (quarantined until reuse)');
    this.staleUsesAllowed = stats.counter('staleUsesAllowed', 'user accesses through an entry a lazy flush has yet to remove, before the page was reused (allowed)');
    this.prematureReuses = stats.counter('prematureReuses', 'pages given a new translation while some CPU still held an entry a lazy flush had to remove');
  }

  /** A lazily posted flush returned: its snapshot of `lastChange` over [info.start, info.end). */
  quarantine(mm: Mm, info: FlushInfo, snapshot: Float64Array): void {
    let q = this.versions.get(mm);
    let by = this.by.get(mm);
    if (q === undefined || by === undefined) {
      q = new Float64Array(mm.nPages);
      by = new Array<FlushInfo | null>(mm.nPages).fill(null);
      this.versions.set(mm, q);
      this.by.set(mm, by);
    }
    for (let i = 0; i < snapshot.length; i++) {
      const v = snapshot[i];
      if (v > q[info.start + i]) {
        q[info.start + i] = v;
        by[info.start + i] = info;
        this.quarantined.value++;
      }
    }
  }

  /** A use the ordinary rule allowed (`version` at least what returned flushes covered). */
  checkUse(cpu: number, mm: Mm, vpn: number, version: number, now: number): void {
    if (this.versions.size === 0) return;
    const q = this.versions.get(mm);
    if (q === undefined || version >= q[vpn]) return;
    // Reused: the PTE moved on, or F's own snapshot was already a present PTE (mapped again between
    // the zap and the flush, which mmap_sem rules out for munmap but not for MADV_DONTNEED).
    if (mm.lastChange[vpn] === q[vpn] && this.memory.peek(mm.pteAddr(vpn)) === 0) {
      this.staleUsesAllowed.value++;
      return;
    }
    const f = (this.by.get(mm) as (FlushInfo | null)[])[vpn] as FlushInfo;
    this.report(cpu, now, mm.name, vpn, f,
      `used a TLB entry of PTE version ${version} after the page was reused (now version ${mm.lastChange[vpn]}): lazy flush ${f.id} (returned at cycle ${f.returnCycle}) covered the change to version ${q[vpn]}, and this CPU had not applied it`);
  }

  /** Page `vpn` of `mm` is about to get a new PTE: count it if a CPU still holds an entry F must remove. */
  reuse(mm: Mm, vpn: number): void {
    if (this.versions.size === 0) return;
    const q = this.versions.get(mm);
    if (q === undefined || q[vpn] === 0 || mm.lastChange[vpn] !== q[vpn]) return; // not quarantined, or reused already
    const tlbs = this.unit.tlbs;
    const pte = q[vpn] * 2; // PTE values below this are of older versions
    for (let c = 0; c < tlbs.length; c++) {
      if (tlbs[c].holdsOlder(vpn, mm.ctxId, pte)) {
        this.prematureReuses.value++;
        return;
      }
    }
  }
}
