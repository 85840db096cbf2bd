import { OP_FIRST_EXTENSION } from '../../lib/engine/ops';
import { KernelOps } from '../../cpu/kernel-ops';

/**
 * The TLB-maintenance instructions a strategy may execute. Their costs come from the machine
 * profile (`cr3Write`, `invlpg`, `invpcid`, `invlpgbIssue`, `tlbsync`); a strategy never charges
 * cycles itself. CR3 writes, INVLPG and INVPCID are serializing: they wait for the store buffer.
 */
export const OP_WRITE_CR3 = OP_FIRST_EXTENSION + 16;
export const OP_INVLPG = OP_FIRST_EXTENSION + 17;
export const OP_INVPCID_CTX = OP_FIRST_EXTENSION + 18;
export const OP_INVLPGB = OP_FIRST_EXTENSION + 19;
/** INVLPGB's "all ASIDs, all addresses, not global" form (invlpgb_flush_all_nonglobals()). */
export const INVLPGB_ALL_NONGLOBALS = -1;
export const OP_TLBSYNC = OP_FIRST_EXTENSION + 20;
/** Intel RAR: one ICR write with delivery mode RAR (tlb/hw/rar.ts). */
export const OP_RAR_SEND = OP_FIRST_EXTENSION + 21;
/** INVPCID individual-address: one page of any PCID. */
export const OP_INVPCID_ADDR = OP_FIRST_EXTENSION + 22;

export const TLB_OP_NAMES: Readonly<Record<number, string>> = {
  [OP_WRITE_CR3]: 'write cr3',
  [OP_INVLPG]: 'invlpg',
  [OP_INVPCID_CTX]: 'invpcid',
  [OP_INVLPGB]: 'invlpgb',
  [OP_TLBSYNC]: 'tlbsync',
  [OP_RAR_SEND]: 'rar send',
  [OP_INVPCID_ADDR]: 'invpcid addr',
};

export class TlbOps extends KernelOps {
  /**
   * MOV to CR3: load `mmId`'s page tables (0 = init_mm) with PCID `asid`. Without `noflush` (or
   * without PCID) the TLB and paging-structure-cache entries of that PCID are flushed.
   */
  writeCr3(mmId: number, asid: number, noflush: boolean): number {
    return this.stage(OP_WRITE_CR3, mmId, asid, noflush ? 1 : 0, 0);
  }
  /** INVLPG: one page of the current PCID (and, as the SDM says, its PCID's paging-structure caches). */
  invlpg(vpn: number): number {
    return this.stage(OP_INVLPG, vpn, 0, 0, 0);
  }
  /** INVPCID single-context: every entry of PCID `asid`. */
  invpcidContext(asid: number): number {
    return this.stage(OP_INVPCID_CTX, asid, 0, 0, 0);
  }
  /**
   * INVLPGB: broadcast invalidation of `pages` pages from `vpn` for ASID `asid` on every CPU
   * (AMD); `pages` = INVLPGB_ALL_NONGLOBALS drops every non-global entry of every ASID.
   */
  invlpgb(asid: number, vpn: number, pages: number): number {
    return this.stage(OP_INVLPGB, asid, vpn, pages, 0);
  }
  /** TLBSYNC: wait until this CPU's INVLPGBs have completed everywhere. */
  tlbsync(): number {
    return this.stage(OP_TLBSYNC, 0, 0, 0, 0);
  }
  /** INVPCID individual-address: page `vpn` of PCID `asid` (and that PCID's paging-structure caches). */
  invpcidAddr(asid: number, vpn: number): number {
    return this.stage(OP_INVPCID_ADDR, asid, vpn, 0, 0);
  }
  /** Intel RAR: signal CPU `target` (one ICR write, delivery mode RAR); needs the machine's `rar` = 1. */
  rarSend(target: number): number {
    return this.stage(OP_RAR_SEND, target, 0, 0, 0);
  }
}
