import type { Sim } from '../../lib/engine/ops';
import { CpuSet } from '../../cpu/cpuset';
import { NetDevice, NETDEV_STATS } from '../../cpu/netdev';
import { SPINLOCK_STATS, spinlockStats } from '../../cpu/spinlock';
import { WaitQueue } from '../../cpu/waitqueue';
import { PTRS_PER_PTE, type Mm } from '../../tlb/mm/mm';
import { ConfigError } from '../../lib/errors';
import { wparam } from './params';
import { defineWorkload } from './workload';
import type { TlbTaskEnv } from '../../tlb/task-env';

/** The heap: 7 page-table pages of items; the 8th holds the chunk the allocator maps and unmaps. */
const HEAP_PAGES = 7 * PTRS_PER_PTE;
const CHUNK = HEAP_PAGES;

/**
 * A memcache-style server, the workload behind van Riel's 2018 "make lazy TLB mode even lazier".
 * One process, a worker thread per CPU, each with its own epoll set of connections (memcached's
 * model); or one process per socket or group of sockets (`instances`), as large machines are often
 * run, so that a flush reaches only the CPUs of its instance. Requests arrive from the network as a Poisson process; RSS steers each connection to a
 * receive queue whose interrupt runs on its own CPU, and the NET_RX softirq there queues the
 * request on the connection's socket and wakes the worker from epoll_wait, often on another,
 * idle CPU (a reschedule IPI). The worker serves what is queued (read, look up and copy an item,
 * send) and sleeps again, so CPUs bounce between a worker and idle: lazy on the server's mm.
 * Per-CPU kworkers run now and then. The allocator returns memory: madvise(MADV_DONTNEED) or
 * munmap of a few heap pages (jemalloc's purge, a small mapping given back), and now and then
 * munmap of a whole chunk, which frees its page table.
 *
 * The two published rates are the parameters. Each request that finds its worker asleep costs two
 * switches (idle → worker → idle), and so does each kworker run, so requests arrive at
 * contextSwitchesPerSecond × (1 − kthreadShare) / 2 and kworkers wake at the rest; a request
 * returns memory with probability flushesPerSecond / requests per second. The measured rates
 * come out of the model: requests that find their worker awake cost no switch.
 */
export const memcache = defineWorkload({
  name: 'memcache',
  description: 'memcache-style server: workers woken from the NIC softirq serve requests and sleep; the allocator purges with madvise and unmaps chunks',
  sources: [
    'Rik van Riel, "[PATCH 0/7] x86/mm/tlb: make lazy TLB mode even lazier" (LKML, Sep 2018): a memcache-style service on 2-socket Haswell and Broadwell runs ~300,000 context switches/s and ~19,000 TLB flushes/s',
    'memcached: one worker thread per core (-t), each with its own epoll set; connections are assigned to workers round-robin',
    'jemalloc: dirty pages are purged with madvise(MADV_DONTNEED); unused chunks are unmapped with munmap',
  ],
  params: {
    contextSwitchesPerSecond: wparam.perSecond(300_000, 1, 1e8, 'Offered load, as the context switches it causes per second (machine-wide).'),
    flushesPerSecond: wparam.perSecond(19_000, 0, 1e7, 'Allocator returns (each one flush) per second, machine-wide.'),
    kthreadShare: { ...wparam.fraction(0.1, 'Share of the switches that go to and from kworkers (below 1: requests must cause some).'), max: 0.99 },
    workers: wparam.count(0, 0, 4096, 'Worker threads; 0 for one per CPU.'),
    instances: wparam.count(1, 1, 64, 'memcached processes, each bound to its sockets as by numactl --cpunodebind (instance i: sockets s with s mod instances = i); at most the sockets. Workers are dealt to them in turn.'),
    connectionsPerWorker: wparam.count(8, 1, 1024, 'Client connections per worker (flows the NIC hashes to queues).'),
    serviceUs: wparam.micros(8, 0, 10_000, 'User-space work per request: hash lookup, item copy, response build.'),
    itemTouches: wparam.count(4, 0, 64, 'Heap pages a request touches (item and hash-table pages; one in four written).'),
    syscallCycles: wparam.cycles(6_000, 'Kernel work per request outside the receive path: epoll_wait return, read(2), sendmsg(2) down to the driver [E].'),
    irqCycles: wparam.cycles(1_500, 'NIC hard interrupt and napi_schedule [E].'),
    rxCycles: wparam.cycles(2_500, 'Per-packet receive in the NET_RX softirq: driver, GRO, IP, TCP [E].'),
    kworkerUs: wparam.micros(5, 0, 10_000, 'A kworker run.'),
    purgeMaxPages: wparam.pages(8, 1, 64, 'A purge drops 1..this many contiguous heap pages (uniformly).'),
    tableFreeShare: wparam.fraction(0.02, 'Share of allocator returns that unmap the whole chunk, freeing its page table.'),
    munmapShare: wparam.fraction(0.25, 'Share of the other returns that munmap their pages (a small mapping given back) rather than purge them with madvise.'),
  },
  stats: { requests: 'counter', purges: 'counter', chunkUnmaps: 'counter', epollLocks: SPINLOCK_STATS, nic: NETDEV_STATS },
  setup({ m, params, rng, stats }): void {
    const s = m.sched;
    const n = m.topology.nCpus;
    const hz = m.config.params.clockGhz * 1e9;
    const workers = params.workers === 0 ? n : params.workers;
    const requestsPerSecond = (params.contextSwitchesPerSecond * (1 - params.kthreadShare)) / 2;
    const kworkerWakeups = (params.contextSwitchesPerSecond * params.kthreadShare) / 2;
    const returnChance = Math.min(1, params.flushesPerSecond / requestsPerSecond);
    const serviceCycles = Math.round(params.serviceUs * hz * 1e-6);
    const served = stats.counter('requests', 'requests served');
    const purges = stats.counter('purges', 'madvise(MADV_DONTNEED) or munmap of a few heap pages');
    const unmaps = stats.counter('chunkUnmaps', 'munmap of the whole chunk (frees its page table)');
    const sockets = m.topology.nSockets;
    if (params.instances > sockets) throw new ConfigError(`workload memcache: parameter 'instances' = ${params.instances}: expected at most the machine's ${sockets} sockets`);
    // Instance i is bound to the CPUs of sockets s ≡ i (mod instances); its workers start there in turn.
    const apps: Mm[] = [];
    const homes: number[][] = [];
    for (let i = 0; i < params.instances; i++) {
      const app = m.createMm(params.instances === 1 ? 'memcached' : `memcached.${i}`, HEAP_PAGES + PTRS_PER_PTE);
      app.populate(m.memory, 0, HEAP_PAGES); // a server that has been up: its heap is mapped
      apps.push(app);
      homes.push(Array.from({ length: n }, (_, c) => c).filter((c) => m.topology.socketOf(c) % params.instances === i));
    }
    const lockStats = spinlockStats(stats.group('epollLocks'), 'epoll wait-queue locks');

    // Per worker: its epoll wait queue and the count of requests queued on its sockets.
    const epoll: WaitQueue[] = [];
    const queued: number[] = [];
    for (let w = 0; w < workers; w++) {
      const base = m.memory.allocLines(`worker${w}.epoll`);
      epoll.push(new WaitQueue(`worker${w}.epoll`, m.memory, m.engine, lockStats, base));
      queued.push(base + 16);
    }
    const nic = new NetDevice(m, Array.from({ length: n }, (_, c) => c), { irqCycles: params.irqCycles, rxCycles: params.rxCycles }, m.rng.stream('net.arrivals'), stats.group('nic'));
    // sk_data_ready → ep_poll_callback: the request joins its socket, and the worker is woken.
    nic.onPacket = function* (cpu, flow): Sim {
      const w = flow % workers;
      yield m.k.xadd(queued[w], 1);
      yield* epoll[w].wakeUp(s, cpu);
    };

    for (let w = 0; w < workers; w++) {
      const inst = w % params.instances;
      const app = apps[inst];
      const home = homes[inst];
      const cpu = params.instances === 1 ? w % n : home[Math.floor(w / params.instances) % home.length];
      const name = params.instances === 1 ? `memcached/${w}` : `memcached.${inst}/${w}`;
      const allowed = params.instances === 1 ? undefined : CpuSet.of(n, home);
      s.createTask(name, app, cpu, function* ({ k, task, sched }: TlbTaskEnv): Sim {
        const hasWork = function* (): Sim<boolean> {
          return (yield k.load(queued[w])) > 0;
        };
        for (;;) {
          yield* epoll[w].waitEvent(sched, task, hasWork);
          while ((yield k.load(queued[w])) > 0) {
            yield k.xadd(queued[w], -1);
            yield k.compute(params.syscallCycles);
            for (let i = 0; i < params.itemTouches; i++) yield* sched.touch(task, rng.int(HEAP_PAGES), rng.chance(0.25));
            yield k.compute(serviceCycles);
            served.value++;
            if (!rng.chance(returnChance)) continue;
            const cpu = sched.cpuOf(task);
            if (rng.chance(params.tableFreeShare)) {
              // A chunk is mapped, used a little and unmapped whole: its page table is freed.
              for (let i = 0; i < 2; i++) yield* sched.touch(task, CHUNK + rng.int(PTRS_PER_PTE), true);
              yield* m.mapping.munmap(k, cpu, app, CHUNK, CHUNK + PTRS_PER_PTE);
              unmaps.value++;
            } else {
              const start = rng.int(HEAP_PAGES - params.purgeMaxPages);
              const end = start + rng.range(1, params.purgeMaxPages);
              if (rng.chance(params.munmapShare)) yield* m.mapping.munmap(k, cpu, app, start, end); // refaulted when used again
              else yield* m.mapping.madviseDontneed(k, cpu, app, start, end);
              purges.value++;
            }
          }
        }
      }, allowed);
    }
    if (kworkerWakeups > 0) {
      const meanSleep = (n * hz) / kworkerWakeups;
      const runCycles = Math.round(params.kworkerUs * hz * 1e-6);
      for (let c = 0; c < n; c++) {
        s.createTask(`kworker/${c}:1`, null, c, function* ({ k, task, sched }: TlbTaskEnv): Sim {
          for (;;) {
            yield* sched.sleepFor(task, rng.exponential(meanSleep));
            yield k.compute(runCycles);
          }
        }, CpuSet.of(n, [c]));
      }
    }
    nic.startArrivals(requestsPerSecond, workers * params.connectionsPerWorker);
  },
});
