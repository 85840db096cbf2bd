import type { Sim } from '../../lib/engine/ops';
import { CpuSet } from '../../cpu/cpuset';
import { Pipe, type PipeCosts } from '../../cpu/pipe';
import { SPINLOCK_STATS, spinlockStats } from '../../cpu/spinlock';
import { wparam, type NumericSpec } from './params';
import { defineWorkload } from './workload';
import type { TlbTaskEnv } from '../../tlb/task-env';

/** A process's mapped pages: text, data, heap, stack, and its send and receive rings. */
const PROC_PAGES = 16;
/** netperf's send_ring and recv_ring buffers (one page each for requests of up to a page). */
const SEND_PAGE = PROC_PAGES - 2;
const RECV_PAGE = PROC_PAGES - 1;
/** Clients start within this many cycles of each other (about one round trip). */
const START_SPREAD = 30_000;

/**
 * netperf TCP_RR over loopback: `pairs` pairs of a netperf client and its netserver, two
 * processes (two mms) on two CPUs, each pinned. A transaction: the client send()s the request
 * and blocks in recv() for the response; the server, blocked in recv(), wakes, reads the request
 * and send()s the response. With nothing else to run, each CPU alternates its one task and the
 * idle task: the pattern in which Song Liu found switch_mm_irqs_off taking 1.9% of a 48-CPU
 * system (Rik van Riel's July 2018 cover letter: "the CPUs running netperf are simply switching
 * back and forth between netperf and the idle task"). Each transaction costs each side two
 * switches (task → idle → task): four in all.
 *
 * Each direction of the TCP connection is a `Pipe`: a socket's receive queue waits and wakes the
 * same way (sk_wait_data / sk_data_ready), and the bytes are what the reader waits for. The
 * TCP/IP loopback path is a cost of its own, paid on the SENDING CPU before the wake-up, as
 * Linux runs it: tcp_sendmsg → tcp_write_xmit → ip_output → loopback_xmit → netif_rx, then the
 * NET_RX softirq on the same CPU (at local_bh_enable) → ip_rcv → tcp_v4_rcv → the receive queue
 * → sk_data_ready, which wakes the reader.
 *
 * Simplified: no ACK packets (on a request/response stream the delayed ACK rides on the next
 * segment), no TCP window or congestion state; messages of up to a page (a pipe write is atomic
 * up to a page; TCP would segment larger ones). The default placement puts pair i's client and
 * server on neighbouring CPUs (one LLC), and spreads the pairs evenly over the machine.
 *
 * Steady state is immediate: every client starts within START_SPREAD cycles (12 µs at 2.5 GHz),
 * the first round trip takes ~13 µs, and the per-0.5-ms rates of transactions and switches are
 * flat (±1%) from the second interval on (skylake-sp-2s and zen3-1s, seed 1), so the default
 * 1-ms warm-up is enough and the workload declares none.
 */
export const netperfRr = defineWorkload({
  name: 'netperf-rr',
  description: 'netperf TCP_RR over loopback: pinned client/server pairs, each CPU alternating its one task and idle',
  sources: [
    'netperf src/nettest_bsd.c (HewlettPackard/netperf, commit afc51ff97647): send_tcp_rr() sends req_size bytes and loops on recv() until rsp_size bytes arrive; recv_tcp_rr() the reverse; req_size = rsp_size = 1 by default',
    'Rik van Riel, "[PATCH v4 0/7] x86,tlb,mm: make lazy TLB mode even lazier" (LKML, July 2018): Song Liu saw switch_mm_irqs_off use 1.9% of a 48-CPU system during a netperf run; "the CPUs running netperf are simply switching back and forth between netperf and the idle task"',
    'Linux net/ipv4/tcp.c, ip_output.c, drivers/net/loopback.c, net/core/dev.c (netif_rx, process_backlog): the loopback send path runs the receive side in the sender CPU\'s NET_RX softirq',
  ],
  params: {
    pairs: wparam.count(0, 0, 4096, 'Client/server pairs (concurrent netperf instances); 0 for half the CPUs.'),
    requestBytes: wparam.bytes(1, 1, 4096, 'Request size (netperf -r REQ,RSP; default 1).'),
    responseBytes: wparam.bytes(1, 1, 4096, 'Response size (netperf -r REQ,RSP; default 1).'),
    loopbackCycles: wparam.cycles(5_000, 'The TCP/IP loopback path of one message, on the sender\'s CPU before the wake-up: tcp_sendmsg and tcp_write_xmit (~1 µs), ip_output to netif_rx (~0.4 µs), the NET_RX softirq through tcp_v4_rcv to sk_data_ready (~0.6 µs): ~2 µs at 2.5 GHz [E].', 10_000_000),
    thinkUs: wparam.micros(0, 0, 1e6, 'Mean client think time between transactions (exponential, an hrtimer sleep); 0: back to back, as netperf runs.'),
    clientCpus: wparam.cpuList('CPUs of the clients: pair i\'s client on the i-th (cycling). Default: pairs spread evenly, client of pair i on CPU i × ⌊CPUs / pairs⌋.'),
    serverCpus: wparam.cpuList('CPUs of the servers, likewise. Default: the CPU after its client\'s.'),
    socketLayer: wparam.cycles(900, "send(2)/recv(2) outside the TCP/IP path and the machine's syscallEntryExit: the socket layer (fd lookup, lock_sock/release_sock) and, on receive, the skb dequeue and tcp_cleanup_rbuf (~750), and the speculation mitigations' entry and exit overhead (~150) [E].", 100_000),
    copyPerByte: { unit: 'cycles', default: 0.3, min: 0, max: 100, integer: false, doc: 'Copy to or from user memory, cycles per byte (`rep movsb` with its start-up) [E].' } satisfies NumericSpec,
  },
  stats: { transactions: 'counter', rttCycles: 'histogram', clientSleeps: 'counter', serverSleeps: 'counter', socketLocks: SPINLOCK_STATS },
  setup({ m, params, rng, stats }): void {
    const s = m.sched;
    const n = m.topology.nCpus;
    const hz = m.config.params.clockGhz * 1e9;
    const pairs = params.pairs === 0 ? Math.max(1, n >> 1) : params.pairs;
    const clientCpus = params.clientCpus === '' ? null : CpuSet.parse(params.clientCpus, n, 'workload netperf-rr: parameter clientCpus').toArray();
    const serverCpus = params.serverCpus === '' ? null : CpuSet.parse(params.serverCpus, n, 'workload netperf-rr: parameter serverCpus').toArray();
    // Pairs spread evenly, each on two neighbouring CPUs; beyond n/2 pairs they wrap around (on a
    // 1-CPU machine both sides share CPU 0).
    const stride = pairs <= n >> 1 ? Math.floor(n / pairs) : 2;
    const clientCpu = (i: number) => (clientCpus !== null ? clientCpus[i % clientCpus.length] : (i * stride) % n);
    const serverCpu = (i: number) => (serverCpus !== null ? serverCpus[i % serverCpus.length] : (i * stride + 1) % n);
    const costs: PipeCosts = { vfs: params.socketLayer, copyPerByte: params.copyPerByte };
    const loopback = params.loopbackCycles;
    const thinkCycles = params.thinkUs * hz * 1e-6;
    const { requestBytes, responseBytes } = params;

    const transactions = stats.counter('transactions', 'request/response transactions completed (counted by the clients)');
    const rtt = stats.histogram('rttCycles', 'cycles from the client\'s send() of a request to the return of its recv() of the response');
    const clientSleeps = stats.counter('clientSleeps', 'recv() calls of a client that found no response yet and slept');
    const serverSleeps = stats.counter('serverSleeps', 'recv() calls of a server that found no request yet and slept');
    const lockStats = spinlockStats(stats.group('socketLocks'), 'receive-queue locks and wait-queue locks');
    for (let i = 0; i < pairs; i++) {
      // The connection: requests flow client → server, responses server → client.
      const req = new Pipe(`netperf${i}.request`, m.memory, m.engine, lockStats);
      const rsp = new Pipe(`netperf${i}.response`, m.memory, m.engine, lockStats);
      const client = m.createMm(`netperf${i}`, PROC_PAGES);
      const server = m.createMm(`netserver${i}`, PROC_PAGES);
      client.populate(m.memory, 0, PROC_PAGES); // a running benchmark: its rings are mapped
      server.populate(m.memory, 0, PROC_PAGES);
      const cc = clientCpu(i);
      const sc = serverCpu(i);
      s.createTask(`netperf${i}`, client, cc, function* ({ k, task, sched }: TlbTaskEnv): Sim {
        // The instances start at different moments (within ~one round trip), or identical pairs
        // would run in lockstep for ever, every CPU switching at the same cycle.
        yield* sched.sleepFor(task, 1 + rng.int(START_SPREAD));
        for (;;) {
          const start = m.engine.now;
          yield* sched.touch(task, SEND_PAGE, false); // the request is copied from the send ring
          yield k.compute(loopback); // tcp_sendmsg ... sk_data_ready: paid here, before the wake-up
          yield* req.write(sched, task, requestBytes, costs);
          const empty = m.memory.peek(rsp.headAddr) === m.memory.peek(rsp.tailAddr); // for the stats only
          const before = task.switchesIn;
          yield* rsp.read(sched, task, responseBytes, costs);
          if (empty && task.switchesIn !== before) clientSleeps.value++;
          yield* sched.touch(task, RECV_PAGE, true); // copied into the receive ring
          rtt.record(m.engine.now - start);
          transactions.value++;
          if (thinkCycles > 0) yield* sched.sleepFor(task, rng.exponential(thinkCycles));
        }
      }, CpuSet.of(n, [cc]));
      s.createTask(`netserver${i}`, server, sc, function* ({ k, task, sched }: TlbTaskEnv): Sim {
        for (;;) {
          const empty = m.memory.peek(req.headAddr) === m.memory.peek(req.tailAddr);
          const before = task.switchesIn;
          yield* req.read(sched, task, requestBytes, costs);
          if (empty && task.switchesIn !== before) serverSleeps.value++;
          yield* sched.touch(task, RECV_PAGE, true);
          yield* sched.touch(task, SEND_PAGE, false);
          yield k.compute(loopback);
          yield* rsp.write(sched, task, responseBytes, costs);
        }
      }, CpuSet.of(n, [sc]));
    }
  },
});
