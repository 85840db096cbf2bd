import type { Sim } from '../../lib/engine/ops';
import { ConfigError } from '../../lib/errors';
import { CpuSet } from '../../cpu/cpuset';
import { EventFd } from '../../cpu/eventfd';
import type { Scheduler } from '../../cpu/sched';
import { SPINLOCK_STATS, spinlockStats } from '../../cpu/spinlock';
import type { Task } from '../../cpu/task';
import { MAX_MM_PAGES } from '../../tlb/mm/mm-lifecycle';
import { wparam } from './params';
import { defineWorkload } from './workload';
import type { TlbTaskEnv } from '../../tlb/task-env';

/**
 * Andy Lutomirski's benchmark from the x86 PCID commit: two processes (two mms) pinned to one
 * CPU ping-pong over a pair of eventfds, and each writes `pages` pages of its own buffer per turn
 * (a loop over an array: independent stores, so their TLB misses overlap). A round trip is two
 * context switches between the mms. Without PCID every switch flushes the TLB and each turn walks
 * its pages again; with PCID both buffers' translations survive. The commit reports 1.22 µs
 * (PCID) vs 1.33 µs per round trip with no pages, and 1.8 µs (11M dTLB misses) vs 6.2 µs (207M)
 * with 512 pages, on a 2.3 GHz Skylake laptop (a KVM guest with idle=poll).
 */
export const pcidPingPong = defineWorkload({
  name: 'pcid-pingpong',
  description: "Lutomirski's PCID benchmark: two processes on one CPU ping-pong over eventfds, each writing `pages` pages per turn",
  sources: [
    'Andy Lutomirski, commit 10af6235e0d3 "x86/mm: Implement PCID based optimization: try to preserve old TLB entries using PCID" (2017): eventfd ping-pong between two mms on one CPU, with and without touching 512 pages per iteration',
    'Linux fs/eventfd.c: eventfd_write() adds to ctx->count and wakes the wait queue under ctx->wqh.lock; eventfd_read() sleeps until the count is non-zero, then takes it',
  ],
  params: {
    pages: wparam.pages(512, 0, 1 << 16, 'Pages each process writes per turn (one store each, independent).'),
    cpu: wparam.count(0, 0, 4095, 'The CPU both processes are pinned to.'),
    textPages: wparam.pages(6, 0, 256, "Instruction-side and stack pages each process's own code touches per turn (its loop, libc's eventfd calls, the stack), fetched one after another: without PCID each turn walks them again. [D] from the commit's base times: (1.33 - 1.22) us x 2.3 GHz / 2 turns / 20 cycles per walk = 6.3."),
    vfs: wparam.cycles(100, "eventfd read(2)/write(2) beyond the machine's syscallEntryExit: fdget, vfs_read/vfs_write, the eventfd file ops [E].", 100_000),
  },
  stats: { roundTrips: 'counter', roundTripCycles: 'histogram', locks: SPINLOCK_STATS },
  setup({ m, params, stats }): void {
    const s = m.sched;
    const nCpus = m.topology.nCpus;
    if (params.cpu >= nCpus) throw new ConfigError(`workload pcid-pingpong: parameter 'cpu' = ${params.cpu}: expected a CPU below ${nCpus}`);
    const only = CpuSet.of(nCpus, [params.cpu]);
    const { pages, textPages, vfs } = params;
    if (pages + textPages > MAX_MM_PAGES) {
      throw new ConfigError(`workload pcid-pingpong: parameters 'pages' + 'textPages' = ${pages + textPages}: expected at most ${MAX_MM_PAGES}, the pages of one address space`);
    }
    const roundTrips = stats.counter('roundTrips', 'ping-pong round trips completed (two context switches each)');
    const rtt = stats.histogram('roundTripCycles', 'cycles of one round trip, as process a sees it: its turn, then the other\'s');
    const lockStats = spinlockStats(stats.group('locks'), 'eventfd wait-queue locks');
    const toB = new EventFd('efd.b', m.memory, m.engine, lockStats);
    const toA = new EventFd('efd.a', m.memory, m.engine, lockStats);
    const size = pages + textPages; // the buffer, then the code and stack pages
    const a = m.createMm('pingpong.a', Math.max(size, 16));
    const b = m.createMm('pingpong.b', Math.max(size, 16));
    /** The process's own code runs: instruction fetches and the stack, one page after another. */
    function* text(task: Task, sched: Scheduler): Sim {
      for (let p = pages; p < size; p++) yield* sched.touch(task, p, false);
    }
    a.populate(m.memory, 0, Math.max(size, 16)); // the buffers are mapped before the loop, as after the first round
    b.populate(m.memory, 0, Math.max(size, 16));
    const engine = m.engine;
    s.createTask('pingpong.a', a, params.cpu, function* ({ task, sched }: TlbTaskEnv): Sim {
      for (;;) {
        const t0 = engine.now;
        yield* text(task, sched);
        if (pages > 0) yield* sched.touchRange(task, 0, pages, true);
        yield* toB.write(sched, task, 1, vfs);
        yield* toA.read(sched, task, vfs);
        roundTrips.value++;
        rtt.record(engine.now - t0);
      }
    }, only);
    s.createTask('pingpong.b', b, params.cpu, function* ({ task, sched }: TlbTaskEnv): Sim {
      for (;;) {
        yield* toB.read(sched, task, vfs);
        yield* text(task, sched);
        if (pages > 0) yield* sched.touchRange(task, 0, pages, true);
        yield* toA.write(sched, task, 1, vfs);
      }
    }, only);
  },
});
