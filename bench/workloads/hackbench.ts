import type { Sim } from '../../lib/engine/ops';
import { ConfigError } from '../../lib/errors';
import { PIPE_DEF_BUFFERS, Pipe, type PipeCosts } from '../../cpu/pipe';
import { SPINLOCK_STATS, spinlockStats } from '../../cpu/spinlock';
import { MAX_MM_PAGES } from '../../tlb/mm/mm-lifecycle';
import { wparam, type NumericSpec } from './params';
import { defineWorkload } from './workload';
import type { TlbTaskEnv } from '../../tlb/task-env';

/** A process's mapped pages: text, data, heap and stack (the message buffer's page is the last). */
const PROC_PAGES = 16;
/** Where `char data[datasize]` lives: the top stack page (in process mode, in every mm). */
const STACK_PAGE = PROC_PAGES - 1;

/**
 * hackbench (rt-tests; `perf bench sched messaging` is the same program): `groups` groups, each
 * of `fds` senders and `fds` receivers. Every sender writes `loops` messages of `datasize` bytes
 * to each receiver of its group, round-robin over the receivers; each receiver reads
 * fds × loops messages, one read(2) of `datasize` bytes each. A sender finds a pipe full now and
 * then and sleeps on it; a receiver finds its pipe empty and sleeps until a sender writes. In
 * process mode each of them is a process with its own mm, so a switch between two of them is a
 * switch_mm with a CR3 write; in thread mode they share one mm. It flushes (almost) nothing.
 *
 * What the model makes of it: 800 tasks on the CPUs' FIFO runqueues, and a wake-up preempts only
 * the idle task (cpu/wakeup.ts), so a task runs until it sleeps or its 0.75-ms slice ends. With
 * 16-page pipes (655 messages of 100 bytes each) a task moves hundreds of messages between
 * switches: the default run is slice- and pipe-capacity-bound (~250,000 switches/s on
 * skylake-sp-2s, ~200 messages per switch), not switch-bound as hackbench is on Linux, where a
 * woken receiver preempts the sender. `pipeBuffers=1` shows the blocking regime (~25 times the
 * switches). A faithful default needs wake-up preemption in the scheduler.
 *
 * Simplified:
 * - Pipes only (`--pipe`). hackbench's default is AF_UNIX stream sockets, whose receive queues
 *   wait and wake the same way but cost an skb per message; the model has pipes (cpu/pipe.ts).
 * - The children are created at setup, as if just forked and past hackbench's ready/"go"
 *   handshake: in process mode each has its own mm with its pages present and written (COW
 *   already broken), placed round-robin over the CPUs as fork balancing spreads them. Forking
 *   them from a main task with `procs.clone` was tried and measured (skylake-sp-2s, seed 1): the
 *   800 forks and the handshake take 1.8 simulated ms, and then the children's first writes
 *   break COW, one flush each, at 150,000-250,000 flushes/s until ~9 ms, because with the
 *   model's 0.75-ms slices and no wake-up preemption a CPU with 14 runnable tasks takes ~10 ms
 *   to run each of them once. A warm-up that long would cost ~8 s of host time per run, for a
 *   start-up phase that is ~0.1% of the real 4.5-s run.
 * - Each child touches its message buffer around each message (the user side of the copy).
 *
 * Warm-up, measured per 0.5 and 1 ms (skylake-sp-2s and zen3-1s, seed 1): for the first ~3.5 ms
 * the pipes fill (60-100 M messages/s written against 25-60 M/s read, up to ~130,000 messages
 * queued) and nobody sleeps; from ~4 ms on writers and readers sleep and the 1-ms rates of
 * switches and messages swing ±25% around flat means. Hence a 4-ms warm-up, and a measured window
 * of a few ms to average the swings.
 */
export const hackbench = defineWorkload({
  name: 'hackbench',
  description: 'hackbench --pipe: groups of senders spray 100-byte messages round-robin through pipes to receivers that block and wake; process mode switches mm, almost no flushes',
  sources: [
    'rt-tests src/hackbench/hackbench.c (jlelli/rt-tests, commit 07a73b6ecf74): options -p/--pipe, -s/--datasize (100), -l/--loops, -g/--groups, -f/--fds (20), -T/--threads, -P/--process; sender(), receiver() and group() give the shape',
    'Linux tools/perf/bench/sched-messaging.c (torvalds/linux, commit 010e85f9e47c): the same program as `perf bench sched messaging` (DATASIZE 100, 20 fds, a fork per sender and receiver in process mode)',
    'Rik van Riel, "x86/mm/tlb: Update mm_cpumask lazily" (209954cbc7d0): `hackbench --groups 20 --loops 10000` on a 36-core AMD Milan, ~4.5 s → ~4.2 s, a context-switch-bound workload with almost no TLB flushes',
    'Linux fs/pipe.c (5.5+): pipe_write merges small writes into the last buffer page; PIPE_DEF_BUFFERS = 16 (the model in cpu/pipe.ts)',
  ],
  warmupMs: 4,
  params: {
    groups: wparam.count(20, 1, 200, 'Groups of senders and receivers (-g/--groups).'),
    fds: wparam.count(20, 1, 100, 'Senders and receivers per group, one pipe per receiver (-f/--fds).'),
    loops: wparam.count(10_000, 1, 1e9, 'Messages each sender writes to each receiver of its group (-l/--loops); at the default the run ends long before.'),
    datasize: wparam.bytes(100, 1, 4096, 'Bytes per message (-s/--datasize).'),
    mode: wparam.choice('process', ['process', 'threads'], 'process: every sender and receiver is a process with its own mm (-P, hackbench\'s default); threads: all are threads of one mm (-T).'),
    pipeBuffers: wparam.count(PIPE_DEF_BUFFERS, 1, 1024, 'Pages a pipe holds (fcntl F_SETPIPE_SZ / 4096); hackbench leaves Linux\'s default, 16.'),
    vfs: wparam.cycles(700, "read(2)/write(2) outside the pipe itself and the machine's syscallEntryExit: the VFS layers (fdget_pos, rw_verify_area, file_start_write, fsnotify, file_update_time: ~550) and the speculation mitigations' entry and exit overhead (~150) [E].", 100_000),
    copyPerByte: { unit: 'cycles', default: 0.3, min: 0, max: 100, integer: false, doc: 'copy_page_{to,from}_iter, cycles per byte: a 100-byte `rep movsb` takes ~30 cycles with its start-up on recent x86 [E].' } satisfies NumericSpec,
  },
  stats: { sent: 'counter', received: 'counter', writerSleeps: 'counter', readerSleeps: 'counter', pipeLocks: SPINLOCK_STATS, queued: 'formula' },
  setup({ m, params, stats }): void {
    const s = m.sched;
    const n = m.topology.nCpus;
    const { groups, fds, loops, datasize } = params;
    const threads = params.mode === 'threads';
    const total = groups * fds * 2;
    // Thread mode: one mm, with a stack page per thread beside the main thread's pages.
    if (threads && PROC_PAGES + total > MAX_MM_PAGES) {
      throw new ConfigError(`workload hackbench: ${total} threads need ${PROC_PAGES + total} pages of one mm, more than ${MAX_MM_PAGES}: lower groups or fds`);
    }
    const costs: PipeCosts = { vfs: params.vfs, copyPerByte: params.copyPerByte };
    const sent = stats.counter('sent', 'messages written (one write(2) of datasize bytes each)');
    const received = stats.counter('received', 'messages read (one read(2) of datasize bytes each)');
    const writerSleeps = stats.counter('writerSleeps', 'writes during which the sender lost its CPU: it slept on a full pipe (or, rarely, was preempted)');
    const readerSleeps = stats.counter('readerSleeps', 'reads that found their pipe empty and slept until a sender wrote');
    const pipeLocks = spinlockStats(stats.group('pipeLocks'), 'pipe mutexes and wait-queue locks');

    // One pipe per receiver: receiver r of group g reads pipes[g * fds + r].
    const pipes: Pipe[] = [];
    for (let p = 0; p < groups * fds; p++) pipes.push(new Pipe(`hackbench.pipe${p}`, m.memory, m.engine, pipeLocks, params.pipeBuffers));
    stats.formula('queued', 'messages written but not yet read: the bytes now in the pipes / datasize', () => {
      let bytes = 0;
      for (const p of pipes) bytes += p.bytesQueued();
      return bytes / datasize;
    });

    const receiver = (pipe: Pipe, buf: number) =>
      function* ({ task, sched }: TlbTaskEnv): Sim {
        const packets = fds * loops;
        for (let i = 0; i < packets; i++) {
          // Only this task reads the pipe: if it is not empty now, the read will not sleep.
          const empty = m.memory.peek(pipe.headAddr) === m.memory.peek(pipe.tailAddr);
          const before = task.switchesIn;
          yield* pipe.read(sched, task, datasize, costs);
          if (empty && task.switchesIn !== before) readerSleeps.value++;
          yield* sched.touch(task, buf, true); // copy_to_user() wrote data[]
          received.value++;
        }
        yield* m.procs.exit(task);
      };
    const sender = (first: number, buf: number) =>
      function* ({ task, sched }: TlbTaskEnv): Sim {
        for (let i = 0; i < loops; i++) {
          for (let j = 0; j < fds; j++) {
            yield* sched.touch(task, buf, false); // copy_from_user() reads data[]
            const before = task.switchesIn;
            yield* pipes[first + j].write(sched, task, datasize, costs);
            if (task.switchesIn !== before) writerSleeps.value++;
            sent.value++;
          }
        }
        yield* m.procs.exit(task);
      };

    const shared = threads ? m.createMm('hackbench', PROC_PAGES + total) : null;
    if (shared !== null) shared.populate(m.memory, 0, PROC_PAGES + total);
    let child = 0;
    const spawn = (name: string, body: (env: TlbTaskEnv) => Sim): void => {
      let mm = shared;
      if (mm === null) {
        mm = m.createMm(name, PROC_PAGES);
        mm.populate(m.memory, 0, PROC_PAGES);
      } else if (child > 0) {
        m.mmLifecycle.addUser(mm); // clone(CLONE_VM)'s mmget: the last thread to exit tears the mm down
      }
      s.createTask(name, mm, child % n, body);
      child++;
    };
    // As hackbench's group() creates them: the receivers of a group, then its senders.
    for (let g = 0; g < groups; g++) {
      for (let r = 0; r < fds; r++) spawn(`hackbench${g}.recv${r}`, receiver(pipes[g * fds + r], threads ? PROC_PAGES + child : STACK_PAGE));
      for (let w = 0; w < fds; w++) spawn(`hackbench${g}.send${w}`, sender(g * fds, threads ? PROC_PAGES + child : STACK_PAGE));
    }
  },
});
