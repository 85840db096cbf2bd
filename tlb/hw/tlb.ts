import type { Counter } from '../../lib/stats/counter';
import type { StatGroup } from '../../lib/stats/group';
import { TlbArray } from './tlb-array';

/** Where a lookup hit. */
export const HIT_L1 = 1;
export const HIT_STLB = 2;
export const MISS = 0;

export interface TlbGeometry {
  l1dTlbEntries: number;
  l1dTlbWays: number;
  stlbEntries: number;
  stlbWays: number;
}

/**
 * One CPU's data TLBs: an L1 dTLB in front of the second-level TLB, both PCID-tagged, plus the
 * paging-structure cache (the upper page-table levels a walk can skip), which is tracked per
 * PCID as "valid since cycle X" for the oracle's freed-page-table check.
 */
export class Tlb {
  readonly l1: TlbArray;
  readonly stlb: TlbArray;
  /** The pseudo-ASID of global (kernel) entries: no PCID flush or CR3 write drops them. */
  readonly globalAsid: number;
  /** Per PCID: whether the paging-structure cache holds upper-level entries. */
  readonly pscValid: Uint8Array;
  /** Per PCID: the cycle its paging-structure cache was last flushed. */
  readonly pscFlushedAt: Float64Array;
  /** Per PCID: the cycle a walk last filled its (empty) paging-structure cache. */
  readonly pscFilledAt: Float64Array;
  /** The version and owner (ctx_id) of the entry found by the last `lookup`. */
  version: number;
  owner: number;
  readonly l1Hits: Counter;
  readonly l1Misses: Counter;
  readonly stlbHits: Counter;
  readonly stlbMisses: Counter;
  readonly kernelWalks: Counter;
  readonly invlpgs: Counter;
  readonly asidFlushes: Counter;
  readonly fullFlushes: Counter;

  constructor(g: TlbGeometry, nAsids: number, stats: StatGroup) {
    this.l1 = new TlbArray(g.l1dTlbEntries, g.l1dTlbWays, nAsids + 1);
    this.stlb = new TlbArray(g.stlbEntries, g.stlbWays, nAsids + 1);
    this.globalAsid = nAsids;
    this.pscValid = new Uint8Array(nAsids);
    this.pscFlushedAt = new Float64Array(nAsids);
    this.pscFilledAt = new Float64Array(nAsids);
    this.version = 0;
    this.owner = 0;
    const l1 = stats.group('l1d');
    this.l1Hits = l1.counter('hits', 'L1 dTLB hits');
    this.l1Misses = l1.counter('misses', 'L1 dTLB misses');
    const st = stats.group('stlb');
    this.stlbHits = st.counter('hits', 'second-level TLB hits');
    this.stlbMisses = st.counter('misses', 'second-level TLB misses (page walks)');
    this.kernelWalks = st.counter('kernelWalks', "walks for the kernel's own global translations (kernelTlbPages), apart from the user's misses");
    this.invlpgs = stats.counter('invlpgs', 'single-page invalidations (INVLPG, or an INVLPGB received)');
    this.asidFlushes = stats.counter('asidFlushes', 'flushes of one PCID (CR3 write without NOFLUSH, INVPCID)');
    this.fullFlushes = stats.counter('fullFlushes', 'flushes of every PCID (CR3 write without PCID support)');
  }

  /** L1, then STLB (which refills L1). Returns HIT_L1, HIT_STLB or MISS; `version` holds the entry's. */
  lookup(asid: number, vpn: number): number {
    if (this.l1.lookup(asid, vpn)) {
      this.l1Hits.value++;
      this.version = this.l1.version;
      this.owner = this.l1.owner;
      return HIT_L1;
    }
    this.l1Misses.value++;
    if (this.stlb.lookup(asid, vpn)) {
      this.stlbHits.value++;
      this.version = this.stlb.version;
      this.owner = this.stlb.owner;
      this.l1.fill(asid, vpn, this.version, this.owner);
      return HIT_STLB;
    }
    this.stlbMisses.value++;
    return MISS;
  }

  /** Whether either level holds an entry of `vpn` for `owner` from a PTE value below `pte` (the oracle's question; no side effects). */
  holdsOlder(vpn: number, owner: number, pte: number): boolean {
    return this.l1.holdsOlder(vpn, owner, pte) || this.stlb.holdsOlder(vpn, owner, pte);
  }

  fill(asid: number, vpn: number, version: number, owner: number): void {
    this.stlb.fill(asid, vpn, version, owner);
    this.l1.fill(asid, vpn, version, owner);
  }

  invalidatePage(asid: number, vpn: number, now: number): void {
    this.invlpgs.value++;
    this.l1.invalidatePage(asid, vpn);
    this.stlb.invalidatePage(asid, vpn);
    this.flushPsc(asid, now); // INVLPG also drops the PCID's paging-structure-cache entries (SDM 4.10.4.1)
  }

  flushAsid(asid: number, now: number): void {
    this.asidFlushes.value++;
    this.l1.flushAsid(asid);
    this.stlb.flushAsid(asid);
    this.flushPsc(asid, now);
  }

  flushAll(now: number): void {
    this.fullFlushes.value++;
    this.l1.flushAll();
    this.stlb.flushAsidsBelow(this.globalAsid); // global entries stay (CR4.PGE)
    for (let a = 0; a < this.pscValid.length; a++) this.flushPsc(a, now);
  }

  /**
   * Every translation, global ones too, and every paging-structure cache: INVVPID single-context,
   * which KVM's kvm_vcpu_flush_tlb_guest() runs for a vCPU before VM entry (cpu/host.ts).
   */
  flushVpid(now: number): void {
    this.fullFlushes.value++;
    this.l1.flushAll();
    this.stlb.flushAll();
    for (let a = 0; a < this.pscValid.length; a++) this.flushPsc(a, now);
  }

  /**
   * A kernel access through a global translation (kernel text and data are mapped global, so
   * no CR3 write drops them): it shares the STLB with user entries and pushes them out. Returns
   * whether it hit; a miss fills it (the caller charges the walk).
   */
  touchGlobal(vpn: number): boolean {
    if (this.stlb.lookup(this.globalAsid, vpn)) return true;
    this.kernelWalks.value++;
    this.stlb.fill(this.globalAsid, vpn, 0, 0);
    return false;
  }

  /** A walk cached the upper page-table levels of this PCID. */
  fillPsc(asid: number, now: number): void {
    this.pscValid[asid] = 1;
    this.pscFilledAt[asid] = now;
  }

  private flushPsc(asid: number, now: number): void {
    this.pscValid[asid] = 0;
    this.pscFlushedAt[asid] = now;
  }
}
