import type { Sim } from '../../lib/engine/ops';
import type { Engine } from '../../lib/engine/engine';
import type { Counter } from '../../lib/stats/counter';
import type { StatGroup } from '../../lib/stats/group';
import { growArray, type SimMemory } from '../../mem/memory';
import type { Cpu } from '../../cpu/cpu';
import type { KernelOps } from '../../cpu/kernel-ops';
import { Spinlock, spinlockStats } from '../../cpu/spinlock';
import type { Mm } from './mm';

/**
 * How the kernel's page freeing meets the LRU (strategy option `lru`):
 * - `none`: not modelled (pages cost only the machine's `pageFault`);
 * - `drain`: free_pages_and_swap_cache() first calls lru_add_drain(), so a page freed right after
 *   its fault goes onto the LRU and off it again: two lru_lock acquisitions per page, as in every
 *   kernel before 1aa43598c03b ("mm: remove unnecessary calls to lru_add_drain", van Riel; in
 *   v6.14: Linus merged it with mm-stable-2025-01-26);
 * - `batch`: after that commit: a page freed while in its CPU's lru_add batch is freed when the
 *   batch moves, so the lock is taken twice per PAGEVEC_SIZE pages.
 */
export const LRU_MODES = ['none', 'drain', 'batch'] as const;
export type LruMode = (typeof LRU_MODES)[number];
export const DEFAULT_LRU: LruMode = 'none';

/** PAGEVEC_SIZE (include/linux/pagevec.h): the per-CPU lru_add batch. */
export const LRU_BATCH = 15;

/** A folio's place: free (in a per-CPU or per-node free list), in its CPU's lru_add batch, on the LRU. */
const FREE = 0;
const IN_BATCH = 1;
const ON_LRU = 2;
/**
 * The words of a `struct page` this model writes (include/linux/mm_types.h, x86-64): its flags,
 * `lru.next` and `lru.prev`, and the `_mapcount`/`_refcount` word. The head line of a node's list
 * holds `next` and `prev` at the first two of these offsets.
 */
const PG_FLAGS = 0;
const PG_LRU_NEXT = 8;
const PG_LRU_PREV = 16;
const PG_REFCOUNT = 48;
/** Bits of `flags` that lru_add changes atomically (enum pageflags of 6.13; the positions cost nothing). */
const PG_LRU = 5;
const PG_UNEVICTABLE = 18;
/** No folio (an empty list end, a page with no folio of its own: the zero page, a file page). */
export const NO_FOLIO = -1;

/**
 * The anonymous pages' way through the LRU (mm/swap.c, mm/swap_state.c; 4.20 and 6.x alike in
 * what they cost): a page a fault allocates joins its CPU's lru_add batch (folio_add_lru); a
 * full batch moves onto its node's LRU list under `lru_lock` (folio_batch_move_lru); a page freed
 * after a zap (release_pages / folios_put, after the flush) comes off the list under the lock.
 * The list is a real doubly linked list whose links live in each page's `struct page` line, so
 * list_add and list_del store to the neighbours' lines: a page another CPU added last costs its
 * line's transfer, as on hardware. One lruvec per node (one memory cgroup); `lru_lock` is taken
 * with interrupts off (spin_lock_irqsave). Free pages go back to the freeing CPU (its per-CPU page
 * list) and are reused last-in first-out, so a page's line mostly stays where it is used.
 *
 * Not modelled: the LRU's aging and reclaim, memcg charging, the zone lock behind the per-CPU
 * page lists, large folios.
 */
export class Lru {
  readonly mode: LruMode;
  private readonly memory: SimMemory;
  private readonly nodeOfCpu: Int32Array;
  /** Per node: lru_lock and the list head line (lruvec->lists[] and the LRU size counters). */
  private readonly locks: Spinlock[];
  private readonly heads: number[];
  /** Per node: the first folio on its list (NO_FOLIO: empty). */
  private readonly first: Int32Array;
  /** Per folio: its struct page line, node, state, references (mappings and a batch's), list links. */
  private line: Float64Array;
  private node: Int32Array;
  private state: Uint8Array;
  private refs: Int32Array;
  private next: Int32Array;
  private prev: Int32Array;
  private folios: number;
  /** Per CPU: its lru_add batch and its free pages (a stack: the last freed is the next allocated). */
  private readonly batch: Int32Array[];
  private readonly batchLen: Int32Array;
  private readonly pcp: number[][];
  /** Per node: free pages a CPU of another node freed (the buddy allocator's). */
  private readonly nodeFree: number[][];
  private readonly added: Counter;
  private readonly freed: Counter;
  private readonly moves: Counter;
  private readonly drains: Counter;

  constructor(mode: LruMode, memory: SimMemory, engine: Engine, nodeOfCpu: Int32Array, nodes: number, stats: StatGroup) {
    this.mode = mode;
    this.memory = memory;
    this.nodeOfCpu = nodeOfCpu;
    const lockStats = spinlockStats(stats.group('lock'), 'lru_lock (every node\'s)');
    this.locks = [];
    this.heads = [];
    for (let n = 0; n < nodes; n++) {
      this.locks.push(new Spinlock(`node${n}.lru_lock`, memory, engine, lockStats));
      this.heads.push(memory.allocLines(`node${n}.lruvec`));
    }
    this.first = new Int32Array(nodes).fill(NO_FOLIO);
    this.line = new Float64Array(64);
    this.node = new Int32Array(64);
    this.state = new Uint8Array(64);
    this.refs = new Int32Array(64);
    this.next = new Int32Array(64);
    this.prev = new Int32Array(64);
    this.folios = 0;
    const nCpus = nodeOfCpu.length;
    this.batch = Array.from({ length: nCpus }, () => new Int32Array(LRU_BATCH));
    this.batchLen = new Int32Array(nCpus);
    this.pcp = Array.from({ length: nCpus }, () => []);
    this.nodeFree = Array.from({ length: nodes }, () => []);
    this.added = stats.counter('added', 'pages allocated by faults and added to the LRU (folio_add_lru)');
    this.freed = stats.counter('freed', 'pages freed after a zap or a COW (release_pages)');
    this.moves = stats.counter('batchMoves', 'lru_add batches moved onto the LRU under lru_lock (full, or drained)');
    this.drains = stats.counter('drains', 'lru_add_drain() calls from free_pages_and_swap_cache (mode drain)');
  }

  /**
   * A fault's new anonymous page (alloc_page, then folio_add_lru under the PTE lock, as
   * do_anonymous_page and wp_page_copy call it): the allocator's writes to its struct page, then
   * the lru_add batch, moved onto the LRU when full. Returns the folio, mapped once.
   */
  *allocAdd(k: KernelOps, cpu: Cpu): Sim<number> {
    const c = cpu.id;
    const f = this.alloc(c);
    this.refs[f] = 2; // the mapping's and the batch's (folio_get before folio_batch_add)
    this.state[f] = IN_BATCH;
    yield k.store(this.line[f] + PG_REFCOUNT, 2); // prep_new_page → set_page_refcounted, and the batch's folio_get
    this.added.value++;
    this.batch[c][this.batchLen[c]++] = f;
    if (this.batchLen[c] === LRU_BATCH) yield* this.moveBatch(k, cpu);
    return f;
  }

  /** `mm`'s page → folio table, made on first use (every page starts with none). */
  folioTable(mm: Mm): Int32Array {
    if (mm.folioOf === null) mm.folioOf = new Int32Array(mm.nPages).fill(NO_FOLIO);
    return mm.folioOf;
  }

  /** Another mapping of the same page (fork's copy_present_pte: folio_get). */
  *share(k: KernelOps, f: number): Sim {
    if (f === NO_FOLIO) return;
    this.refs[f]++;
    yield k.xadd(this.line[f] + PG_REFCOUNT, 1);
  }

  /**
   * free_pages_and_swap_cache() for the pages a zap gathered, after the flush (tlb_finish_mmu →
   * tlb_batch_pages_flush): `drain` first empties this CPU's lru_add batch; then release_pages()
   * drops each mapping's reference and takes the pages that reach zero off the LRU, under one
   * hold of the lock per node run (folio_lruvec_relock_irqsave), before freeing them.
   */
  *releasePages(k: KernelOps, cpu: Cpu, folios: readonly number[]): Sim {
    if (folios.length === 0) return;
    if (this.mode === 'drain') {
      this.drains.value++;
      if (this.batchLen[cpu.id] > 0) yield* this.moveBatch(k, cpu);
    }
    yield* this.putAll(k, cpu, folios, folios.length);
  }

  /** The old page of a COW break: wp_page_copy drops the mapping's reference (folio_put). */
  *put(k: KernelOps, cpu: Cpu, f: number): Sim {
    if (f === NO_FOLIO) return;
    yield* this.putAll(k, cpu, [f], 1);
  }

  /** Drops one reference of the first `len` folios: those that reach zero leave the LRU (under its lock) and are freed. */
  private *putAll(k: KernelOps, cpu: Cpu, folios: ArrayLike<number>, len: number): Sim {
    let held = -1;
    let irqs = false;
    for (let i = 0; i < len; i++) {
      const f = folios[i];
      yield k.xadd(this.line[f] + PG_REFCOUNT, -1); // folio_put_testzero
      if (--this.refs[f] > 0) continue;
      if (this.state[f] === ON_LRU) {
        const n = this.node[f];
        if (held !== n) {
          if (held >= 0) yield* this.unlock(k, cpu, held, irqs);
          irqs = yield* this.lock(k, cpu, n);
          held = n;
        }
        yield* this.listDel(k, f);
      }
      this.free(cpu.id, f);
    }
    if (held >= 0) yield* this.unlock(k, cpu, held, irqs);
  }

  /**
   * folio_batch_move_lru(): under the lock, every page of this CPU's batch goes onto its node's
   * list (lru_add: list_add at the head); then folios_put() drops the batch's references, and the
   * pages already unmapped (`batch` mode) come off again and are freed.
   */
  private *moveBatch(k: KernelOps, cpu: Cpu): Sim {
    const c = cpu.id;
    const b = this.batch[c];
    const len = this.batchLen[c];
    this.batchLen[c] = 0;
    this.moves.value++;
    let held = -1;
    let irqs = false;
    for (let i = 0; i < len; i++) {
      const f = b[i];
      const n = this.node[f];
      if (held !== n) {
        if (held >= 0) yield* this.unlock(k, cpu, held, irqs);
        irqs = yield* this.lock(k, cpu, n);
        held = n;
      }
      yield* this.listAdd(k, f, n);
    }
    if (held >= 0) yield* this.unlock(k, cpu, held, irqs);
    // The batch array is free again, but nothing refills it meanwhile: this CPU runs without
    // preemption here, and no interrupt handler allocates pages.
    yield* this.putAll(k, cpu, b, len);
  }

  /**
   * lru_add() under the lock: folio_test_clear_unevictable() and folio_batch_move_lru()'s
   * folio_set_lru() are atomic bit operations on the page's flags (LOCK BTR, LOCK BTS); then
   * lruvec_add_folio → list_add(&folio->lru, &lruvec->lists[lru]): the head, the page, the old
   * first page.
   */
  private *listAdd(k: KernelOps, f: number, n: number): Sim {
    const old = this.first[n];
    this.state[f] = ON_LRU;
    this.prev[f] = NO_FOLIO;
    this.next[f] = old;
    this.first[n] = f;
    if (old !== NO_FOLIO) this.prev[old] = f;
    yield k.lockBtr(this.line[f] + PG_FLAGS, PG_UNEVICTABLE);
    yield k.store(this.line[f] + PG_LRU_NEXT, old); // folio->lru
    yield k.store(this.heads[n] + PG_LRU_NEXT, f); // head->next, and the LRU size beside it (update_lru_size)
    if (old !== NO_FOLIO) yield k.store(this.line[old] + PG_LRU_PREV, f); // old->lru.prev
    yield k.lockBts(this.line[f] + PG_FLAGS, PG_LRU);
  }

  /** lruvec_del_folio → list_del: the neighbours' links (the head's when at an end), the page's own. */
  private *listDel(k: KernelOps, f: number): Sim {
    const n = this.node[f];
    const p = this.prev[f];
    const x = this.next[f];
    if (p === NO_FOLIO) this.first[n] = x;
    else this.next[p] = x;
    if (x !== NO_FOLIO) this.prev[x] = p;
    yield k.store((p === NO_FOLIO ? this.heads[n] : this.line[p]) + PG_LRU_NEXT, x); // prev->next
    yield k.store((x === NO_FOLIO ? this.heads[n] : this.line[x]) + PG_LRU_PREV, p); // next->prev
    yield k.store(this.line[f] + PG_FLAGS, 0); // PG_lru cleared (and LIST_POISON in folio->lru, on the same line)
  }

  /** spin_lock_irqsave(&lruvec->lru_lock); returns whether interrupts were on. */
  private *lock(k: KernelOps, cpu: Cpu, n: number): Sim<boolean> {
    const irqs = cpu.irqsOn;
    if (irqs) yield k.irqDisable();
    yield* this.locks[n].lock(k, cpu.id);
    return irqs;
  }

  private *unlock(k: KernelOps, cpu: Cpu, n: number, irqs: boolean): Sim {
    yield* this.locks[n].unlock(k, cpu.id);
    if (irqs) yield k.irqEnable();
  }

  /** A free page of this CPU's node: its own last freed, else the node's, else a new struct page. */
  private alloc(cpu: number): number {
    const own = this.pcp[cpu].pop();
    if (own !== undefined) return own;
    const n = this.nodeOfCpu[cpu];
    const shared = this.nodeFree[n].pop();
    if (shared !== undefined) return shared;
    const f = this.folios++;
    if (f === this.line.length) this.growFolios();
    this.line[f] = this.memory.allocLines(`node${n}.page${f}`);
    this.node[f] = n;
    return f;
  }

  /** free_unref_folios: to this CPU's per-CPU list when the page is of its node, else back to its node. */
  private free(cpu: number, f: number): void {
    this.freed.value++;
    this.state[f] = FREE;
    if (this.node[f] === this.nodeOfCpu[cpu]) this.pcp[cpu].push(f);
    else this.nodeFree[this.node[f]].push(f);
  }

  private growFolios(): void {
    const n = 2 * this.line.length;
    this.line = growArray(this.line, n, 0);
    this.node = growArray(this.node, n, 0);
    this.state = growArray(this.state, n, FREE);
    this.refs = growArray(this.refs, n, 0);
    this.next = growArray(this.next, n, NO_FOLIO);
    this.prev = growArray(this.prev, n, NO_FOLIO);
  }
}
