import type { Sim } from '../../lib/engine/ops';
import { ConfigError } from '../../lib/errors';
import { ProbePoint } from '../../lib/probe';
import type { Counter } from '../../lib/stats/counter';
import type { StatGroup } from '../../lib/stats/group';
import type { Engine } from '../../lib/engine/engine';
import type { SimMemory } from '../../mem/memory';
import type { Cpu } from '../../cpu/cpu';
import type { Scheduler } from '../../cpu/sched';
import { Spinlock, spinlockStats, type SpinlockStats } from '../../cpu/spinlock';
import type { AddressSpace } from '../../cpu/task';
import type { LazyMmRefcount } from './lazy-ref';
import type { Mapping } from './mapping';
import { Mm, PTRS_PER_PTE } from './mm';
import type { Strategy } from '../strategies/strategy';
import type { TlbOps } from '../hw/tlb-ops';

const MM_LIVE = 0;
const MM_DEAD = 1;
const MM_FREED = 2;

/** Most pages an mm may have: the PMD line holds 8 entries of 512-page PTE pages. */
export const MAX_MM_PAGES = 8 * PTRS_PER_PTE;

/**
 * The life of an mm_struct (kernel/fork.c): created by mm_alloc() + init_new_context(); shared
 * by its users (`mm_users`: threads, a vfork child); torn down by exit_mmap() when the last user
 * drops it (mmput); and freed only when no CPU holds it as its active mm any more (`mm_count`:
 * a CPU lazy on an exited process keeps it, and its page-table root, until it switches to another
 * user mm). A freed mm_struct goes back to a pool by size and is reused for the next mm of that
 * size with a fresh ctx_id, as the slab reuses memory, so fork-heavy runs do not grow memory.
 */
export class MmLifecycle {
  readonly all: Mm[];
  private readonly memory: SimMemory;
  private readonly engine: Engine;
  private readonly nCpus: number;
  private readonly strategy: Strategy;
  private readonly group: StatGroup;
  private readonly pteLockStats: SpinlockStats;
  /** Freed mm_structs by page count. */
  private readonly pools: Map<number, Mm[]>;
  /** Per CPU: the id of its active mm. */
  private readonly cpuActive: Int32Array;
  /** Per mm id: how many CPUs have it as their active mm. */
  private readonly activeCpus: number[];
  /** Per mm id: MM_LIVE, MM_DEAD (exit_mmap done, waiting for mm_count to drop) or MM_FREED. */
  private readonly state: number[];
  /** last_mm_ctx_id: init_mm has 1, each new mm the next. */
  private lastCtxId: number;
  private booted: boolean;
  /** Whether mm_count has a line of its own (the lazy reference is modelled). */
  private readonly countLine: boolean;
  /** The modelled lazy reference (`mmRefcount` atomic or shoot-lazies), or null (none). */
  lazyRef: LazyMmRefcount | null;
  /** An mm_struct is about to be freed (__mmdrop): the freed-mm check listens. */
  readonly freeing: ProbePoint<Mm>;
  readonly created: Counter;
  readonly reused: Counter;
  readonly freed: Counter;

  constructor(memory: SimMemory, engine: Engine, nCpus: number, strategy: Strategy, stats: StatGroup, countLine = false) {
    this.all = [];
    this.memory = memory;
    this.engine = engine;
    this.nCpus = nCpus;
    this.strategy = strategy;
    this.group = stats;
    this.pteLockStats = spinlockStats(stats.group('pteLocks'), 'split PTE locks of every mm');
    this.pools = new Map();
    this.cpuActive = new Int32Array(nCpus);
    this.activeCpus = [];
    this.state = [];
    this.lastCtxId = 0;
    this.booted = false;
    this.countLine = countLine;
    this.lazyRef = null;
    this.freeing = new ProbePoint('mm.freeing');
    this.created = stats.counter('created', 'mms created (mm_alloc)');
    this.reused = stats.counter('reused', 'mms created on a freed mm_struct');
    this.freed = stats.counter('freed', 'mm_structs freed (mm_count reached zero)');
  }

  /**
   * Once the strategy is attached: every CPU runs on `initMm` (which needs no init_new_context),
   * the scheduler reports each CPU's active mm from then on, and new mms get the strategy's hook.
   */
  boot(initMm: Mm, sched: Scheduler): void {
    this.booted = true;
    this.cpuActive.fill(initMm.id);
    this.activeCpus[initMm.id] = this.nCpus;
    sched.activeMmProbe.attach((cpu, mm) => this.onActive(cpu, mm));
  }

  /** mm_alloc() + init_new_context(): a new mm of `nPages` pages, on a freed mm_struct of that size if there is one. */
  create(name: string, nPages: number): Mm {
    if (!(Number.isInteger(nPages) && nPages >= 0 && nPages <= MAX_MM_PAGES)) throw new ConfigError(`mm ${name}: ${nPages} pages is out of range [0, ${MAX_MM_PAGES}]`);
    const ctxId = ++this.lastCtxId; // ctx_id: init_mm's is 1, new ones count up (arch/x86/mm/tlb.c)
    const pooled = this.pools.get(nPages)?.pop();
    let mm: Mm;
    if (pooled !== undefined) {
      pooled.reuse(name, ctxId, this.memory);
      mm = pooled;
      this.reused.value++;
    } else {
      const id = this.all.length;
      const ptl = new Spinlock(`mm${id}.page_table_lock`, this.memory, this.engine, this.group.group(`mm${id}_ptl`));
      const pteLocks = Array.from({ length: Math.ceil(nPages / PTRS_PER_PTE) }, (_, r) => new Spinlock(`mm${id}.pte${r}.ptl`, this.memory, this.engine, this.pteLockStats));
      mm = new Mm(id, name, nPages, ctxId, this.memory, this.nCpus, ptl, pteLocks, this.countLine);
      this.all.push(mm);
      this.activeCpus[id] = 0;
    }
    this.state[mm.id] = MM_LIVE;
    this.created.value++;
    if (this.booted && this.strategy.initNewContext !== undefined) this.strategy.initNewContext(mm);
    return mm;
  }

  /** A user added outside simulated time: a task created at setup that shares an existing mm. */
  addUser(mm: Mm): void {
    mm.users++;
    this.memory.poke(mm.usersAddr, mm.users);
  }

  /** mmget(): another user of the mm (a thread, a vfork child): LOCK INC of mm_users. */
  *mmget(k: TlbOps, mm: Mm): Sim {
    mm.users++;
    yield k.xadd(mm.usersAddr, 1);
  }

  /**
   * mmput(): LOCK DEC of mm_users; the last user runs exit_mmap() (unmap everything, free the
   * page tables, flush with freed_tables), and the mm_struct then waits for the CPUs that hold it
   * as their active mm.
   */
  *mmput(k: TlbOps, cpu: Cpu, mm: Mm, mapping: Mapping): Sim {
    mm.users--;
    yield k.xadd(mm.usersAddr, -1);
    if (mm.users > 0) return;
    yield* mapping.exitMmap(k, cpu, mm);
    this.state[mm.id] = MM_DEAD;
    // shoot-lazies: the users' mmdrop is the final one, and __mmdrop frees after cleanup_lazy_tlbs,
    // whether or not every lazy CPU was in mm_cpumask.
    if (this.lazyRef !== null && (yield* this.lazyRef.mmputDrop(k, cpu, mm))) this.free(mm);
    else this.maybeFree(mm);
  }

  /** The id of the mm `cpu` holds as its active mm (current->active_mm). */
  activeOn(cpu: number): number {
    return this.cpuActive[cpu];
  }

  /** Whether the mm is alive (not yet through exit_mmap). */
  live(mm: Mm): boolean {
    return this.state[mm.id] === MM_LIVE;
  }

  private onActive(cpu: number, mm: AddressSpace): void {
    const before = this.cpuActive[cpu];
    if (before === mm.id) return;
    this.cpuActive[cpu] = mm.id;
    this.activeCpus[mm.id]++;
    this.activeCpus[before]--;
    if (this.state[before] === MM_DEAD) this.maybeFree(this.all[before]);
  }

  /** __mmdrop(): once dead and no CPU holds it, destroy_context() and back to the pool. */
  private maybeFree(mm: Mm): void {
    if (this.activeCpus[mm.id] !== 0 || this.state[mm.id] !== MM_DEAD) return;
    if (this.lazyRef?.mode === 'shoot-lazies') return; // lazy CPUs hold no reference: mmput frees it
    this.free(mm);
  }

  private free(mm: Mm): void {
    this.freeing.notify(mm);
    this.state[mm.id] = MM_FREED;
    if (this.strategy.destroyContext !== undefined) this.strategy.destroyContext(mm);
    let pool = this.pools.get(mm.nPages);
    if (pool === undefined) this.pools.set(mm.nPages, (pool = []));
    pool.push(mm);
    this.freed.value++;
  }
}
