import type { Sim } from '../../lib/engine/ops';
import { ConfigError } from '../../lib/errors';
import { CpuSet } from '../../cpu/cpuset';
import { PTRS_PER_PTE } from '../../tlb/mm/mm';
import { MAX_MM_PAGES } from '../../tlb/mm/mm-lifecycle';
import { wparam } from './params';
import { defineWorkload } from './workload';
import type { TlbTaskEnv } from '../../tlb/task-env';

/** A spinner's compute burst: interruptible, so its length only bounds the events it costs. */
const SPIN_BURST = 1_000_000;

/**
 * The shape of the published shootdown microbenchmarks: one thread (the initiator) changes a
 * mapping and touches it again, in a loop, while `n` other threads of the same process spin in
 * user code on other CPUs. The spinners never sleep, so none of their CPUs is ever lazy: every
 * flush must reach all of them, and the initiator's iteration is one shootdown to n CPUs plus
 * the fault (or TLB refill) that brings the page back.
 *
 * - `munmap`: munmap(page) then touch it (the real loop also mmaps it again; the VMA work of
 *   mmap/munmap is not modelled). A 512-page operation covers the whole page table, which munmap
 *   frees: a flush with freed_tables, and a pte_alloc on the way back.
 * - `madvise`: madvise(MADV_DONTNEED) then touch it: the same PTE work, never frees a table.
 * - `mprotect`: mprotect(PROT_READ), mprotect(PROT_READ|PROT_WRITE), then a write: two flushes per
 *   iteration and no fault, only TLB refills (the model flushes on the upgrade too, as x86 did
 *   before pte_needs_flush() let an RO→RW change skip it).
 *
 * Two variants for LATR's benchmark (sslab-gatech/latr microbenchmark/mmap_micro, main.cc):
 * - `vaSlots` > 1: iteration i changes slot i mod vaSlots (`pages` pages each) and touches the
 *   next slot, as a real mmap returns a fresh address; with 1 it unmaps and re-touches one range.
 * - `barrier` = 1: the spinners are the artifact's reference threads. Each iteration the initiator
 *   wakes them, each touches every page of the current slot and reports, the last one wakes the
 *   initiator, and they go to sleep (idle, lazy on the mm) until the next iteration; the initiator
 *   then changes the slot while they sleep. `opCycles` is the timed munmap; `touchCycles` is the
 *   reference phase, from the wake-ups to the last report.
 *
 * Placement: by default the initiator is on CPU 0 and the spinners on the next n CPUs, which on
 * skylake-sp-2s (28 cores per socket) and for n ≤ 27 is one socket, and on zen3-1s (8 cores per
 * CCX) for n ≤ 7 is one CCX. To measure across sockets give spinnerCpus=28-34 on skylake-sp-2s;
 * across CCXs on zen3-1s, spinnerCpus=8,16,24,32,40,48,56 (one per other CCX).
 *
 * What an iteration costs (default, skylake-sp-2s, linux-4.20, measured): 9,630 cycles = 3.9 µs.
 * The munmap is 7,050 of it (with its syscallEntryExit, 100), of which the flush is 6,860
 * (2.7 µs): flush_tlb_mm_range's fixed part (flushTlbFixed, 416), then the sending (the local
 * INVLPG, the tlb_gen XADD, then per spinner a remote is_lazy read, csd_lock, the llist_add on its
 * call_single_queue and an ICR write: ~500 cycles a target) and the wait for the handlers
 * (delivery 1,200, interrupt entry, the handler's tlb_gen read and INVLPG, the CSD release seen
 * by the initiator). The touch is 2,580: the fault (faultEntryExit 1,050 + pageFault 1,450) and
 * the walk. So the loop is the shootdown plus one fault, as intended; nothing else is in it. Each
 * further spinner adds ~500 cycles (n = 27: 16,970-cycle flush); seven spinners on the other
 * socket make the flush 14,920. The literature's order of magnitude (about 1 µs of IPI plus about
 * 200 ns per receiver) gives 2.4 µs for 7 receivers: the model's 2.7 µs is in line. Lutomirski's 13.4 µs
 * (21.6 µs before PCID) is a single-thread loop that migrates to another CPU each iteration:
 * most of it is the migration, which this loop does not have.
 */
export const munmapMicro = defineWorkload({
  name: 'munmap-micro',
  description: 'one thread munmaps (or madvises, mprotects) a page and touches it again in a loop while n threads of its process spin on other CPUs: a shootdown to n CPUs per iteration',
  sources: [
    'Andy Lutomirski, v4 cover letter of the x86 PCID series (LKML, June 2017; "PCID and improved laziness"): a loop of MADV_DONTNEED, touch the page, migrate CPU with sched_setaffinity ("nearly worst-case"): 21.6 µs → 13.4 µs per iteration',
    'Kumar, Maass, Kashyap, Veselý, Yan, Kim, Bhattacharjee, Kim, "LATR: Lazy Translation Coherence", ASPLOS 2018: munmap latency with the process on other cores, -70.8% on 2 sockets',
    'Amit, "Optimizing the TLB Shootdown Algorithm with Page Access Tracking", USENIX ATC 2017: "TLB shootdown can take microseconds"',
    'lazytlb reference cost-parameters.md §2-3: an ICR write of ~150 cycles per target, delivery ~0.5 µs, interrupt entry+exit 800 cycles, INVLPG ~200 cycles, one-page local flush_tlb_mm_range 692 cycles (Hansen 2017)',
  ],
  params: {
    n: wparam.count(7, 0, 4095, 'Spinning threads of the same process, each on its own CPU: the CPUs every flush must reach (0: a local flush alone).'),
    initiatorCpu: wparam.cpuList("The initiator's CPU (one CPU). Default: CPU 0."),
    spinnerCpus: wparam.cpuList("The spinners' CPUs: exactly n CPUs, without the initiator's. Default: the n CPUs after the initiator's, wrapping around."),
    op: wparam.choice('munmap', ['munmap', 'madvise', 'mprotect'] as const, 'The mapping change of each iteration.'),
    spinnerReadCycles: wparam.cycles(0,
      "0: the spinners only compute (the benchmark). Otherwise each spinner reads one of the initiator's pages after every this many cycles, so their TLBs hold its translations and the oracle can catch a flush that misses them (it may also fault a page back before the initiator does)."),
    pages: wparam.pages(1, 1, PTRS_PER_PTE,
      'Pages per operation, from a page-table-aligned start; above the flush ceiling (33) the flush is a full one; 512 covers a whole page table (munmap frees it).'),
    vaSlots: wparam.count(1, 1, MAX_MM_PAGES,
      'Address ranges of `pages` pages the loop cycles through: each iteration changes one and then touches the next (a fresh mmap address); 1: the same range every time. vaSlots x pages must not exceed 4096.'),
    barrier: wparam.count(0, 0, 1,
      "1: the spinners sleep on a barrier and touch the current range once per iteration, the initiator's operation runs while they sleep (LATR's mmap_micro); 0: they spin."),
  },
  stats: { iterations: 'counter', iterationCycles: 'histogram', opCycles: 'histogram', touchCycles: 'histogram' },
  setup({ m, params, stats }): void {
    const nCpus = m.topology.nCpus;
    const init = params.initiatorCpu === '' ? CpuSet.of(nCpus, [0]) : CpuSet.parse(params.initiatorCpu, nCpus, "workload munmap-micro: parameter 'initiatorCpu'");
    if (init.size !== 1) throw new ConfigError(`workload munmap-micro: parameter 'initiatorCpu' = '${params.initiatorCpu}': expected one CPU`);
    const initCpu = init.first();
    let spinners: number[];
    if (params.spinnerCpus === '') {
      if (params.n > nCpus - 1) throw new ConfigError(`workload munmap-micro: n = ${params.n} spinners do not fit on the other ${nCpus - 1} CPUs`);
      spinners = Array.from({ length: params.n }, (_, i) => (initCpu + 1 + i) % nCpus);
    } else {
      spinners = CpuSet.parse(params.spinnerCpus, nCpus, "workload munmap-micro: parameter 'spinnerCpus'").toArray();
      if (spinners.length !== params.n || spinners.includes(initCpu)) {
        throw new ConfigError(`workload munmap-micro: parameter 'spinnerCpus' = '${params.spinnerCpus}': expected exactly n = ${params.n} CPUs, not including the initiator's (${initCpu})`);
      }
    }

    const iterations = stats.counter('iterations', "the initiator's loop iterations");
    const iterationCycles = stats.histogram('iterationCycles', 'cycles of one iteration: the operation (with its flush) and the touch that brings the pages back');
    const opCycles = stats.histogram('opCycles', 'cycles of the operation(s) of one iteration, flushes included');
    const touchCycles = stats.histogram('touchCycles', 'cycles of the touches of one iteration (faults, or TLB refills after mprotect)');
    const pages = params.pages;
    const slots = params.vaSlots;
    if (slots * pages > MAX_MM_PAGES) throw new ConfigError(`workload munmap-micro: parameter 'vaSlots' = ${slots}: expected vaSlots x pages (${pages}) <= ${MAX_MM_PAGES}`);
    const barrier = params.barrier === 1;
    if (barrier && params.spinnerReadCycles !== 0) throw new ConfigError(`workload munmap-micro: parameter 'spinnerReadCycles' = ${params.spinnerReadCycles}: expected 0 with barrier = 1 (the spinners sleep)`);
    const app = m.createMm('micro', slots === 1 ? PTRS_PER_PTE : Math.ceil((slots * pages) / PTRS_PER_PTE) * PTRS_PER_PTE);
    app.populate(m.memory, 0, pages); // mapped before the loop starts
    const op = params.op;
    const engine = m.engine;
    /** The first page of the range last touched (what the spinners read). */
    let mapped = 0;

    /** The operation of one iteration on [base, base + pages). */
    function* change(k: TlbTaskEnv['k'], env: TlbTaskEnv, base: number): Sim {
      const cpu = env.sched.cpuOf(env.task);
      if (op === 'munmap') {
        yield* m.mapping.munmap(k, cpu, app, base, base + pages);
      } else if (op === 'madvise') {
        yield* m.mapping.madviseDontneed(k, cpu, app, base, base + pages);
      } else {
        yield* m.mapping.mprotect(k, cpu, app, base, base + pages, false);
        yield* m.mapping.mprotect(k, cpu, app, base, base + pages, true);
      }
    }

    // The barrier (mmap_micro's pthread_barrier): the round the spinners may start, and their reports.
    const roundAddr = barrier ? m.memory.allocLines('micro.barrier.round') : 0;
    const doneAddr = barrier ? m.memory.allocLines('micro.barrier.done') : 0;
    const refTasks: TlbTaskEnv['task'][] = [];

    const initiator = m.sched.createTask('initiator', app, initCpu, function* (env: TlbTaskEnv): Sim {
      const { k, task, sched } = env;
      let slot = 0;
      for (let round = 1; ; round++) {
        const base = slot * pages;
        const t0 = engine.now;
        if (barrier) {
          yield k.store(roundAddr, round); // pthread_barrier_wait: the reference threads go
          for (const t of refTasks) yield* sched.wakeUp(task, t);
          yield* sched.waitUntil(task, doneAddr, round * refTasks.length); // ... and all have touched
        }
        const t1 = engine.now;
        yield* change(k, env, base);
        const t2 = engine.now;
        slot = (slot + 1) % slots;
        if (!barrier) for (let p = 0; p < pages; p++) yield* sched.touch(task, slot * pages + p, true);
        mapped = slot * pages;
        const t3 = engine.now;
        iterations.value++;
        opCycles.record(t2 - t1);
        touchCycles.record(barrier ? t1 - t0 : t3 - t2);
        iterationCycles.record(t3 - t0);
      }
    }, CpuSet.of(nCpus, [initCpu]));
    const readEvery = params.spinnerReadCycles;
    for (let i = 0; i < spinners.length; i++) {
      refTasks.push(m.sched.createTask(`spinner/${i}`, app, spinners[i], function* ({ k, task, sched }: TlbTaskEnv): Sim {
        if (barrier) {
          // ReferenceThread::run(): wait, touch each page once, report (the last one wakes the initiator).
          for (let round = 1; ; round++) {
            yield* sched.waitUntil(task, roundAddr, round);
            const base = ((round - 1) % slots) * pages;
            for (let p = 0; p < pages; p++) yield* sched.touch(task, base + p, true);
            if ((yield k.xadd(doneAddr, 1)) + 1 === round * spinners.length) yield* sched.wakeUp(task, initiator);
          }
        }
        // User code of the process: never lazy, never asleep.
        if (readEvery === 0) for (;;) yield k.compute(SPIN_BURST);
        for (let r = i; ; r++) {
          yield k.compute(readEvery);
          yield* sched.touch(task, mapped + (r % pages), false);
        }
      }, CpuSet.of(nCpus, [spinners[i]])));
    }
  },
});
