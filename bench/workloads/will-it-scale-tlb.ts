import type { Sim } from '../../lib/engine/ops';
import { ConfigError } from '../../lib/errors';
import type { Rng } from '../../lib/rng';
import type { Counter } from '../../lib/stats/counter';
import type { Histogram } from '../../lib/stats/histogram';
import type { StatGroup } from '../../lib/stats/group';
import type { StatShapeGroup } from '../../lib/stats/shape';
import { CpuSet } from '../../cpu/cpuset';
import type { TlbMachine } from '../../tlb/machine';
import { PTRS_PER_PTE, type Mm } from '../../tlb/mm/mm';
import { MAX_MM_PAGES } from '../../tlb/mm/mm-lifecycle';
import { wparam } from './params';
import type { TlbTaskEnv } from '../../tlb/task-env';

/**
 * The engine of will-it-scale's tlb_flush1/2/3 in thread mode (will-it-scale.ts declares the
 * three). Each thread loops over its own mapping: write a byte (a fault), madvise(MADV_DONTNEED)
 * the page (a one-page flush of the whole process's CPUs), read it back (a fault), count an
 * iteration; after the last page it unmaps the mapping and maps it again.
 */

/** What backs the mapping: tlb_flush1 (MAP_PRIVATE file), tlb_flush2 (anonymous), tlb_flush3 (MAP_SHARED file). */
export type Backing = 'file-private' | 'anon' | 'file-shared';

/**
 * What `setupTlbFlush` registers, for all three tests: one shape, so their results compare key
 * for key. cowBreaks stays 0 for tlb_flush2 (no fault-around) and tlb_flush3 (it maps writable).
 */
export const TLB_FLUSH_STATS = {
  iterations: 'counter', threadIterationsMin: 'formula', threadIterationsMax: 'formula', iterationCycles: 'histogram',
  munmaps: 'counter', faults: 'counter', cowBreaks: 'counter', regionPages: 'formula', threads: 'formula',
} as const satisfies StatShapeGroup;

/** The thread-placement and size parameters all three share. */
export function threadParams(realPages: number, size: string) {
  return {
    threads: wparam.count(0, 0, 4096, 'Threads (will-it-scale -t); 0 for one per CPU of `cpus`.'),
    cpus: wparam.cpuList('CPUs in pinning order: thread i is pinned to the (i mod size)-th CPU of the list, as will-it-scale pins task i to hwloc core i mod cores. Default: every CPU.'),
    regionPages: wparam.pages(0, 0, MAX_MM_PAGES,
      `Pages each thread maps (the test maps ${realPages}, ${size}); 0 for that size if threads × it fits in one mm (MAX_MM_PAGES = ${MAX_MM_PAGES}), else the largest share that fits. Scaled down, the munmap (and its full flush) comes once per this many iterations instead of once per ${realPages}.`),
  };
}

/** The extra kernel work of a file-backed fault over the anonymous fault the machine's `pageFault` charges. */
export function fileParams() {
  return {
    faultAroundPages: wparam.count(16, 1, 512,
      'fault_around_bytes / 4 KiB (default 64 KiB): a read fault on a file mapping also maps the pages of its aligned window that are in the page cache (do_fault_around). Rounded down to a power of two, as the kernel\'s setter does; 1 turns it off.'),
    pageCacheCycles: wparam.cycles(300,
      'Page-cache lookup of a file fault (filemap_fault / the first page of filemap_map_pages): xarray walk, folio_try_get, trylock and unlock [E: ~4 locked RMWs of ~20 cycles and ~3 dependent L2/LLC misses of ~50].'),
    mapAroundCycles: wparam.cycles(80,
      'Per further page that fault-around maps: next xarray entry, folio ref and trylock, set_pte, file rmap increment [E: ~3 locked RMWs and a few loads].'),
  };
}

export interface TlbFlushParams {
  readonly threads: number;
  readonly cpus: string;
  readonly regionPages: number;
  readonly faultAroundPages?: number;
  readonly pageCacheCycles?: number;
  readonly mapAroundCycles?: number;
  readonly copyCycles?: number;
  readonly dirtyCycles?: number;
}

/** Where each thread's mapping lies, and on which CPU the thread runs. */
export interface Layout {
  readonly threads: number;
  readonly cpuOf: number[];
  readonly regionPages: number;
  /** Pages of the mm: the regions plus the random page offset of the top, rounded up to page tables. */
  readonly mmPages: number;
  /** First page of each thread's region. */
  readonly start: number[];
}

/**
 * Top-down mmap packing, as the kernel's default layout places the threads' mmap() calls: the
 * first region ends at the top of the mmap area and each next one ends where the previous one
 * starts. mmap_base is randomized at page granularity (x86-64 ASLR), so the top is drawn at a
 * random page offset within its page table (from the slack the mm leaves). Which thread gets
 * which slot does not matter: all regions have one size, so a thread that unmaps and maps again
 * gets a slot of the same shape even when threads trade holes.
 *
 * Page tables. The kernel's munmap frees a PTE page when no other VMA lies in its 2 MiB
 * (free_pgtables' floor and ceiling); ours frees the PTE pages the range covers completely. With
 * packed regions the two agree: a region's partial page tables at either end are shared with its
 * neighbours' regions, so neither frees them, and the tables wholly inside a region are freed by
 * both. A 128 MiB region (tlb_flush1/3) has 63 or 64 such tables; tlb_flush2's 1 MiB regions
 * have none (two or three threads share each table). Scaled to fit MAX_MM_PAGES, a region of 512
 * or more pages (8 threads or fewer) still frees its interior tables; a smaller one (the default
 * on a 56- or 64-CPU machine: 73 or 64 pages) frees none, which is tlb_flush2's situation but not
 * tlb_flush1/3's. The one deviation: nothing lies below the lowest region, so the kernel would
 * also free its bottom partial table, and ours does not. Neither matters to the flush targets
 * here: no CPU is lazy, so a flush with freed_tables interrupts the same CPUs as one without.
 */
export function tlbFlushLayout(nCpus: number, p: TlbFlushParams, realPages: number, rng: Rng, workload: string): Layout {
  const set = p.cpus === '' ? CpuSet.all(nCpus) : CpuSet.parse(p.cpus, nCpus, `workload ${workload}: parameter 'cpus'`);
  const list = set.toArray();
  const threads = p.threads === 0 ? list.length : p.threads;
  const region = p.regionPages !== 0 ? p.regionPages : Math.max(1, Math.min(realPages, Math.floor(MAX_MM_PAGES / threads)));
  if (threads * region > MAX_MM_PAGES) {
    throw new ConfigError(`workload ${workload}: ${threads} threads × regionPages ${region} = ${threads * region} pages exceed one mm (${MAX_MM_PAGES}); lower regionPages or threads`);
  }
  const slack = MAX_MM_PAGES - threads * region;
  const offset = rng.int(Math.min(PTRS_PER_PTE - 1, slack) + 1);
  const mmPages = Math.ceil((threads * region + offset) / PTRS_PER_PTE) * PTRS_PER_PTE; // <= MAX_MM_PAGES
  const top = mmPages - offset; // the end of the first region, `offset` pages below a page-table boundary
  const cpuOf: number[] = [];
  const start: number[] = [];
  for (let i = 0; i < threads; i++) {
    cpuOf.push(list[i % list.length]);
    start.push(top - (i + 1) * region);
  }
  return { threads, cpuOf, regionPages: region, mmPages, start };
}

/**
 * Per-thread iteration counts, kept as two formulas (the slowest and the fastest thread, as
 * will-it-scale prints min and max) rather than a counter per thread. The run resets the stats
 * after its warm-up; the total counter going back to a value we did not leave it at is how we
 * notice, and the per-thread counts are rebased then.
 */
export class ThreadIterations {
  private readonly counts: Float64Array;
  private readonly base: Float64Array;
  private shadow: number;
  readonly total: Counter;

  constructor(stats: StatGroup, threads: number) {
    this.counts = new Float64Array(threads);
    this.base = new Float64Array(threads);
    this.shadow = 0;
    this.total = stats.counter('iterations', 'loop iterations, all threads (will-it-scale\'s total)');
    stats.formula('threadIterationsMin', 'iterations of the slowest thread (will-it-scale\'s min)', () => this.extreme(Math.min, Infinity));
    stats.formula('threadIterationsMax', 'iterations of the fastest thread (will-it-scale\'s max)', () => this.extreme(Math.max, -Infinity));
  }

  add(thread: number): void {
    if (this.total.value !== this.shadow) this.rebase();
    this.total.value++;
    this.shadow++;
    this.counts[thread]++;
  }

  private rebase(): void {
    this.base.set(this.counts);
    this.shadow = this.total.value;
  }

  private extreme(pick: (a: number, b: number) => number, start: number): number {
    if (this.total.value !== this.shadow) this.rebase();
    let v = start;
    for (let i = 0; i < this.counts.length; i++) v = pick(v, this.counts[i] - this.base[i]);
    return this.counts.length === 0 ? 0 : v;
  }
}

/** Everything the threads share, built once. */
interface Shared {
  readonly m: TlbMachine;
  readonly mm: Mm;
  readonly backing: Backing;
  readonly layout: Layout;
  readonly iterations: ThreadIterations;
  readonly iterationCycles: Histogram;
  readonly munmaps: Counter;
  readonly faults: Counter;
  readonly cowBreaks: Counter;
  readonly faultAround: number;
  /** Extra cycles after a write fault on a page that was not present. */
  readonly writeExtra: number;
  /** Extra cycles after the read fault (before the fault-around pages' own cost). */
  readonly readExtra: number;
  readonly mapAroundCycles: number;
  /** Extra cycles after a COW break of a page that fault-around mapped read-only. */
  readonly copyCycles: number;
}

/** Builds the process, its threads and the stats. */
export function setupTlbFlush(m: TlbMachine, backing: Backing, p: TlbFlushParams, realPages: number, rng: Rng, stats: StatGroup, workload: string): void {
  const layout = tlbFlushLayout(m.topology.nCpus, p, realPages, rng, workload);
  const mm = m.createMm(workload, layout.mmPages);
  // A shared file mapping's write faults map page-cache pages: with the LRU modelled, nothing is allocated.
  if (backing === 'file-shared') mm.sharedFile = new Uint8Array(layout.mmPages).fill(1);
  const file = backing !== 'anon';
  const fa = file ? 2 ** Math.floor(Math.log2(p.faultAroundPages ?? 1)) : 1;
  const pageCache = file ? (p.pageCacheCycles ?? 0) : 0;
  const st: Shared = {
    m, mm, backing, layout,
    iterations: new ThreadIterations(stats, layout.threads),
    iterationCycles: stats.histogram('iterationCycles', 'cycles of one iteration of one thread: write, madvise(MADV_DONTNEED), read back'),
    munmaps: stats.counter('munmaps', 'munmap of a whole region (then mapped again)'),
    faults: stats.counter('faults', 'touches that faulted: a PTE that was not present, or a write to a read-only one (COW)'),
    cowBreaks: stats.counter('cowBreaks', 'writes to a page fault-around had mapped read-only: COW with a flush (wp_page_copy)'),
    faultAround: fa,
    writeExtra: backing === 'file-private' ? pageCache + (p.copyCycles ?? 0) : backing === 'file-shared' ? pageCache + (p.dirtyCycles ?? 0) : 0,
    readExtra: pageCache,
    mapAroundCycles: file ? (p.mapAroundCycles ?? 0) : 0,
    copyCycles: p.copyCycles ?? 0,
  };
  stats.formula('regionPages', 'pages each thread maps (the resolved regionPages)', () => layout.regionPages);
  stats.formula('threads', 'threads of the process', () => layout.threads);
  const n = m.topology.nCpus;
  for (let i = 0; i < layout.threads; i++) {
    const cpu = layout.cpuOf[i];
    m.sched.createTask(`${workload}/${i}`, mm, cpu, tlbFlushThread(st, i), CpuSet.of(n, [cpu]));
  }
}

/** One thread's testcase(). */
function tlbFlushThread(st: Shared, thread: number) {
  return function* ({ k, task, sched }: TlbTaskEnv): Sim {
    const { m, mm, backing } = st;
    const engine = m.engine;
    const lo = st.layout.start[thread];
    const hi = lo + st.layout.regionPages;
    // A read fault maps the zero page (anon) or the file page; fault-around maps the rest of its
    // window read-only for a private mapping (a later write breaks COW) and writable for a shared
    // one on tmpfs (no write-notify: the write does not fault).
    const aroundWritable = backing === 'file-shared';
    // [aroundLo, aroundHi): the window the last read fault mapped.
    let aroundLo = 0;
    let aroundHi = 0;
    for (;;) {
      for (let p = lo; p < hi; p++) {
        const t0 = engine.now;
        // *(addr + i) = 1: a fault if the page is not present, a COW break if fault-around mapped it read-only.
        const mapped = p > aroundLo && p < aroundHi;
        const before = mm.lastChange[p];
        yield* sched.touch(task, p, true);
        if (mm.lastChange[p] !== before) {
          st.faults.value++;
          if (mapped && !aroundWritable) {
            st.cowBreaks.value++; // do_wp_page → wp_page_copy: a copy, not a zeroed page
            if (st.copyCycles > 0) yield k.compute(st.copyCycles);
          } else if (st.writeExtra > 0) {
            yield k.compute(st.writeExtra); // do_cow_fault / do_shared_fault over do_anonymous_page
          }
        }
        yield* m.mapping.madviseDontneed(k, sched.cpuOf(task), mm, p, p + 1); // madvise(addr + i, pgsize, MADV_DONTNEED)
        // assert(*(addr + i) == 0), or == 1 for the shared mapping: a read fault, and fault-around
        const faulted = mm.lastChange[p];
        yield* sched.touch(task, p, false);
        if (mm.lastChange[p] !== faulted) {
          st.faults.value++;
          if (st.readExtra > 0) yield k.compute(st.readExtra);
          if (st.faultAround > 1) {
            const w0 = p - (p % st.faultAround);
            aroundLo = w0 > lo ? w0 : lo;
            aroundHi = w0 + st.faultAround < hi ? w0 + st.faultAround : hi;
            const n = yield* m.mapping.mapAround(k, sched.cpuOf(task), mm, p, aroundLo, aroundHi, aroundWritable);
            if (n > 0 && st.mapAroundCycles > 0) yield k.compute(n * st.mapAroundCycles);
          }
        }
        st.iterations.add(thread);
        st.iterationCycles.record(engine.now - t0);
      }
      yield* m.mapping.munmap(k, sched.cpuOf(task), mm, lo, hi); // munmap(addr, FILESIZE); mmap again
      aroundLo = aroundHi = 0;
      st.munmaps.value++;
    }
  };
}
