import { wparam } from './params';
import { fileParams, setupTlbFlush, threadParams, TLB_FLUSH_STATS } from './will-it-scale-tlb';
import { defineWorkload } from './workload';

/**
 * will-it-scale's three TLB-flush tests in thread mode (tlb_flush1_threads, ...): one process,
 * one thread per CPU, each pinned, each running testcase() on its own mapping:
 *
 *     for each page: *(addr + i) = 1; madvise(addr + i, 4096, MADV_DONTNEED); assert(*(addr + i) == x); (*iteration)++;
 *     then munmap(addr, size) and mmap it again
 *
 * All threads share the mm and all run its user code, so no CPU is ever lazy: every madvise
 * flushes every other thread's CPU. This is the shootdown storm the LKP regressions and Amit's
 * and van Riel's patches were measured with. Each iteration is a user write (a fault when the
 * page is not present), the zap of one page and Mapping.flush, a user read (a fault), and the
 * file-backed extras after the access that faulted (will-it-scale-tlb.ts).
 *
 * Fault-around (do_read_fault → do_fault_around, fault_around_bytes = 64 KiB) is modelled, and
 * it matters for tlb_flush1: the read fault maps the rest of the 16-page window read-only from
 * the page cache, so the next page's write is no longer a fault on a none PTE but a write to a
 * present read-only PTE: do_wp_page → wp_page_copy → ptep_clear_flush, a second one-page flush.
 * So tlb_flush1 flushes about 1 + 15/16 times per iteration, tlb_flush2 and tlb_flush3 once
 * (tlb_flush3's fault-around maps its window writable on tmpfs, so those writes do not fault).
 *
 * PTE updates take the lock of their page table (split PTE locks, as the kernel has them), so 56
 * threads on their own regions do not serialize on one lock.
 *
 * Scaling: an mm has at most MAX_MM_PAGES pages, so 128 MiB per thread cannot be mapped; each
 * region is scaled down to fit (tlbFlushLayout says what that changes for page-table freeing).
 *
 * Simplified: the file is on tmpfs (no write-notify, so fault-around maps a shared page
 * writable) and the page cache holds all of it from the start (the steady state after the first
 * pass; the warm-up of a real run covers about one pass); the LRU and its lru_lock are modelled
 * only with `--lru` (van Riel found the LRU lock next in line once INVLPGB removed the IPIs);
 * mmap_lock, the zone and memcg locks are not;
 * every fault is charged the machine's pageFault, which is sized for an anonymous fault that
 * allocates and zeroes a page, though a read fault maps the zero page or a page-cache page and
 * tlb_flush3's write fault a page-cache page (an overcharge the parameters cannot take back);
 * the read fault and its fault-around take the PTE lock twice where the kernel takes it once;
 * the mmap() after each munmap costs nothing.
 */
const WIS = 'antonblanchard/will-it-scale';
const WIS_HARNESS = `${WIS} main.c at 0ca6627edff52ff8a76463997c2d8f7abb9f6bdb (thread mode: testcase() in -t threads of one process, task i pinned to hwloc core i mod cores; per-task iteration counters summed each second as min/max/total)`;
const FAULT_AROUND = 'Linux mm/memory.c do_read_fault() → do_fault_around() (fault_around_bytes = 65536) → filemap_map_pages(); do_wp_page() → wp_page_copy() → ptep_clear_flush() → flush_tlb_page()';
const LKP_6035152 = 'LKP (kernel test robot), 2022: 6035152d8eeb "x86/mm/tlb: Open-code on_each_cpu_cond_mask() for tlb_is_not_lazy()" -13.2% will-it-scale.tlb_flush1 thread mode, 100% tasks, 2-socket Xeon Platinum 8358 (128 threads): 6292-6508 → 5571-5639 ops';
const AMIT_GEN = 'Nadav Amit, aa44284960d5 "x86/mm/tlb: Avoid reading mm_tlb_gen when possible" (2022): up to +24% on will-it-scale tlb_flush1_threads, 56-core Skylake';
const RIEL_INVLPGB = 'Rik van Riel, "[PATCH v5 00/12] AMD broadcast TLB invalidation" (LKML, Jan 2025): will-it-scale tlb_flush2_threads on a 36-core Milan: vanilla 527k loops/s; TLB invalidation 40% of CPU time, ~4% with INVLPGB';

export const tlbFlush1 = defineWorkload({
  name: 'tlb-flush1',
  description: 'will-it-scale tlb_flush1, threads: per thread, write / madvise(DONTNEED) / read each page of a private file mapping; every madvise (and every COW of a fault-around page) flushes all threads\' CPUs',
  sources: [
    `${WIS} tests/tlb_flush1.c at 0f263649ff499ec07ae16cf2a791470d14ba87d7: "TLB flush of separated file private mapping", FILESIZE 128 MiB per thread, MAP_PRIVATE`,
    WIS_HARNESS,
    FAULT_AROUND,
    LKP_6035152,
    AMIT_GEN,
  ],
  params: {
    ...threadParams(32768, '128 MiB'),
    ...fileParams(),
    copyCycles: wparam.cycles(1_000,
      'A COW fault copies the 4 KiB file page where an anonymous fault zeroes one: reading the source. In the real test each thread cycles through 128 MiB, beyond any LLC, so it comes from DRAM [E: 4 KiB at ~10 GB/s single-core streaming ≈ 400 ns ≈ 1,000 cycles at 2.5 GHz].'),
  },
  stats: TLB_FLUSH_STATS,
  setup({ m, params, rng, stats }): void {
    setupTlbFlush(m, 'file-private', params, 32768, rng, stats, 'tlb-flush1');
  },
});

export const tlbFlush2 = defineWorkload({
  name: 'tlb-flush2',
  description: 'will-it-scale tlb_flush2, threads: per thread, write / madvise(DONTNEED) / read each page of 1 MiB of anonymous memory; every madvise flushes all threads\' CPUs',
  sources: [
    `${WIS} tests/tlb_flush2.c at 3368dc8be7f91c0521569a4b17b905e48b116afc: "TLB flush of anonymous memory private mapping", MEMORYSIZE 1 MiB per thread`,
    WIS_HARNESS,
    RIEL_INVLPGB,
  ],
  params: threadParams(256, '1 MiB'),
  stats: TLB_FLUSH_STATS,
  setup({ m, params, rng, stats }): void {
    setupTlbFlush(m, 'anon', params, 256, rng, stats, 'tlb-flush2');
  },
});

export const tlbFlush3 = defineWorkload({
  name: 'tlb-flush3',
  description: 'will-it-scale tlb_flush3, threads: per thread, write / madvise(DONTNEED) / read each page of a shared file mapping; every madvise flushes all threads\' CPUs',
  sources: [
    `${WIS} tests/tlb_flush3.c at 0f263649ff499ec07ae16cf2a791470d14ba87d7: "TLB flush of separated file shared mapping", FILESIZE 128 MiB per thread, MAP_SHARED`,
    WIS_HARNESS,
    FAULT_AROUND,
  ],
  params: {
    ...threadParams(32768, '128 MiB'),
    ...fileParams(),
    dirtyCycles: wparam.cycles(200,
      'do_shared_fault\'s extra over a read: fault_dirty_shared_page (folio_mark_dirty, file_update_time, balance_dirty_pages_ratelimited) [E: a locked bit op, a timestamp compare, a per-CPU counter ≈ 200 cycles].'),
  },
  stats: TLB_FLUSH_STATS,
  setup({ m, params, rng, stats }): void {
    setupTlbFlush(m, 'file-shared', params, 32768, rng, stats, 'tlb-flush3');
  },
});
