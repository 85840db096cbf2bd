import type { Counter } from '../../lib/stats/counter';
import { PTRS_PER_PTE } from '../../tlb/mm/mm';

const PAGE_SHIFT = 12;
/** A PTE page maps 2 MiB: PMD_SHIFT. */
const PMD_SHIFT = 21;

/**
 * Places a process's real virtual addresses (47 bits) in a model mm of `slots` page-table pages
 * (8 at most: MAX_MM_PAGES). Each 2 MiB region the trace names gets a slot the first time it
 * appears, round robin once all are taken (two regions then share a page table, which only
 * matters when one of them is unmapped whole). A page keeps its offset inside its region, so a
 * range keeps its page count, and with it the INVLPG-or-full-flush decision, unless it runs past
 * the end of its region: then it is cut there (`clipped`); past the flush ceiling it is a full
 * flush either way.
 */
export class AddressMap {
  private readonly slots: number;
  private readonly regions: Map<number, number>;
  private next: number;
  private readonly clipped: Counter;

  constructor(slots: number, clipped: Counter) {
    this.slots = slots;
    this.regions = new Map();
    this.next = 0;
    this.clipped = clipped;
  }

  /** The model's page range [start, end) for the bytes [addr, addr + len), or null if empty. */
  range(addr: number, len: number): [number, number] | null {
    if (!(len > 0)) return null;
    const first = Math.floor(addr / 2 ** PAGE_SHIFT);
    const pages = Math.ceil((addr + len) / 2 ** PAGE_SHIFT) - first;
    const region = Math.floor(addr / 2 ** PMD_SHIFT);
    let slot = this.regions.get(region);
    if (slot === undefined) {
      slot = this.next;
      this.next = (this.next + 1) % this.slots;
      this.regions.set(region, slot);
    }
    const start = slot * PTRS_PER_PTE + (first % PTRS_PER_PTE);
    const limit = (slot + 1) * PTRS_PER_PTE;
    if (start + pages > limit) this.clipped.value++;
    return [start, Math.min(start + pages, limit)];
  }
}
