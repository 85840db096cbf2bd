import type { SimMemory } from '../../mem/memory';
import type { AddressSpace } from '../../cpu/task';
import { Cpumask } from '../../cpu/cpumask';
import type { Spinlock } from '../../cpu/spinlock';

/** Pages per page-table page (a PTE page maps 2 MiB with 4 KiB pages). */
export const PTRS_PER_PTE = 512;
/** init_mm: the kernel's own page tables, which lazy CPUs switch to. */
export const INIT_MM_ID = 0;

/**
 * An address space: its page tables in simulated memory, the ground truth for the oracle, and
 * the `mm_struct` fields the strategies use.
 *
 * - PTEs are 8-byte words, eight to a line, in PTE pages of 512; the value is the page's version
 *   when present and 0 when not. PGD, PUD and PMD are one line each. A page walk reads them
 *   through the coherence model, so a PTE store by `munmap` on one CPU costs a walker elsewhere a
 *   line transfer.
 * - `lastChange[vpn]` (JS, not simulated) is the sequence number of the page's last PTE change:
 *   the oracle's ground truth, independent of any strategy's bookkeeping.
 * - `context.ctx_id` and `context.tlb_gen` share a line, as in `mm_context_t`; `mm_cpumask` has
 *   its own line(s); `next_trim_cpumask`, the global ASID and the ASID-transition flag share one.
 */
export class Mm implements AddressSpace {
  /** The mm_struct's identity (its "pointer"): reused after the mm is freed, as slab memory is. */
  readonly id: number;
  name: string;
  readonly nPages: number;
  readonly pteBase: number;
  readonly pgdAddr: number;
  readonly pudAddr: number;
  readonly pmdAddr: number;
  readonly cpumask: Cpumask;
  readonly ctxIdAddr: number;
  readonly tlbGenAddr: number;
  readonly nextTrimAddr: number;
  readonly globalAsidAddr: number;
  readonly asidTransitionAddr: number;
  /** `mm_users` (mm_struct's first line; `mm_count` too when the lazy reference is not modelled). */
  readonly usersAddr: number;
  /**
   * `mm_count` on a line of its own, as c1753fd02a00 ("mm: move mm_count into its own cache line")
   * lays it out; allocated only when the lazy reference is modelled (`mmRefcount` not `none`), so
   * that runs without it keep their memory layout. -1 otherwise.
   */
  readonly countAddr: number;
  /** `context.ctx_id`: unique for ever (last_mm_ctx_id), so a reused mm_struct is never mistaken for its previous life. */
  ctxId: number;
  /** mm_users, as the model counts it: tasks sharing the mm (threads, vfork children). */
  users: number;
  readonly lastChange: Float64Array;
  changeSeq: number;
  /** Cycle at which page-table pages of this mm were last freed (-1: never). */
  tablesFreedAt: number;
  /** Live PTE pages (freed ones must be re-allocated before their range is mapped again). */
  readonly ptePageLive: Uint8Array;
  /** mm->page_table_lock: installing and clearing page tables in the PMD (pmd_install, free_pgtables). */
  readonly ptl: Spinlock;
  /** Split PTE locks (USE_SPLIT_PTE_PTLOCKS): one per PTE page, taken by pte_offset_map_lock for its PTEs. */
  readonly pteLocks: readonly Spinlock[];
  /** Per page: its anonymous folio in the modelled LRU (tlb/mm/lru.ts; -1: none), or null while the LRU is not modelled. */
  folioOf: Int32Array | null;
  /** Pages of a shared file mapping, where a write fault maps the page-cache page and allocates nothing; null: none. */
  sharedFile: Uint8Array | null;

  constructor(id: number, name: string, nPages: number, ctxId: number, memory: SimMemory, nCpus: number, ptl: Spinlock, pteLocks: readonly Spinlock[], countLine = false) {
    this.id = id;
    this.name = name;
    this.nPages = nPages;
    this.ctxId = ctxId;
    this.usersAddr = memory.allocLines(`${name}.mm_struct`);
    this.countAddr = countLine ? memory.allocLines(`${name}.mm_count`) : -1;
    this.pgdAddr = memory.allocLines(`${name}.pgd`);
    this.pudAddr = memory.allocLines(`${name}.pud`);
    this.pmdAddr = memory.allocLines(`${name}.pmd`);
    this.pteBase = nPages > 0 ? memory.alloc(`${name}.pte`, nPages * 8, 64) : 0;
    this.cpumask = new Cpumask(memory, `${name}.mm_cpumask`, nCpus);
    const ctx = memory.allocLines(`${name}.context`);
    this.ctxIdAddr = ctx;
    this.tlbGenAddr = ctx + 8;
    const misc = memory.allocLines(`${name}.context.asid`);
    this.nextTrimAddr = misc;
    this.globalAsidAddr = misc + 8;
    this.asidTransitionAddr = misc + 16;
    this.users = 1;
    this.lastChange = new Float64Array(nPages);
    this.changeSeq = 0;
    this.tablesFreedAt = -1;
    this.ptePageLive = new Uint8Array(Math.ceil(nPages / PTRS_PER_PTE));
    this.ptl = ptl;
    if (pteLocks.length !== this.ptePageLive.length) throw new Error(`mm ${name}: ${pteLocks.length} PTE locks for ${this.ptePageLive.length} PTE pages`);
    this.pteLocks = pteLocks;
    this.folioOf = null;
    this.sharedFile = null;
    this.init(memory);
  }

  /**
   * mm_init() + init_new_context() on memory that may have held an earlier mm: the cpumask is
   * cleared, `tlb_gen` starts over, and the ASID fields are zero. The page tables are empty
   * already (the previous life ended in exit_mmap). `lastChange` and `changeSeq` carry on, so a
   * TLB entry left from the previous life is older than anything this one installs, and the
   * oracle still sees it as stale.
   */
  init(memory: SimMemory): void {
    memory.poke(this.ctxIdAddr, this.ctxId);
    // init_new_context() starts tlb_gen at 0; here it starts at 1, so that a per-CPU generation
    // that was never written (0) can never look current.
    memory.poke(this.tlbGenAddr, 1);
    memory.poke(this.usersAddr, 1);
    if (this.countAddr >= 0) memory.poke(this.countAddr, 1); // mm_init(): the users' reference
    this.cpumask.clearAll();
    memory.poke(this.nextTrimAddr, 0);
    memory.poke(this.globalAsidAddr, 0);
    memory.poke(this.asidTransitionAddr, 0);
    this.users = 1;
  }

  /** The same mm_struct reused for a new mm (mm_alloc from the slab). */
  reuse(name: string, ctxId: number, memory: SimMemory): void {
    for (let r = 0; r < this.ptePageLive.length; r++) {
      if (this.ptePageLive[r] !== 0) throw new Error(`mm ${this.name} is reused with live page tables`);
    }
    this.name = name;
    this.ctxId = ctxId;
    this.init(memory);
  }

  /**
   * Makes pages [start, end) present and writable before the run starts, outside simulated time:
   * a server that has been up for a while, or MAP_POPULATE. Page tables are allocated as needed;
   * each PTE gets a new version, as a fault would give it.
   */
  populate(memory: SimMemory, start: number, end: number): void {
    if (!(start >= 0 && end <= this.nPages && start <= end)) throw new Error(`mm ${this.name}: cannot populate [${start}, ${end}) of ${this.nPages} pages`);
    for (let vpn = start; vpn < end; vpn++) {
      const region = Math.floor(vpn / PTRS_PER_PTE);
      if (this.ptePageLive[region] === 0) {
        this.ptePageLive[region] = 1;
        memory.poke(this.pmdAddr + 8 * region, 1);
      }
      if (memory.peek(this.pteAddr(vpn)) !== 0) continue;
      const version = ++this.changeSeq;
      this.lastChange[vpn] = version;
      memory.poke(this.pteAddr(vpn), version * 2 + 1);
    }
  }

  /** pte_lockptr(): the lock of the PTE page holding `vpn`'s PTE. */
  ptlFor(vpn: number): Spinlock {
    return this.pteLocks[Math.floor(vpn / PTRS_PER_PTE)];
  }

  pteAddr(vpn: number): number {
    return this.pteBase + vpn * 8;
  }
}
