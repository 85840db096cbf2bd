import type { Engine } from '../lib/engine/engine';
import type { Sim } from '../lib/engine/ops';
import type { SimMemory } from '../mem/memory';
import type { Scheduler } from './sched';
import { Spinlock, type SpinlockStats } from './spinlock';
import type { Task } from './task';
import { WaitQueue } from './waitqueue';

/** What a pipe's system calls cost beyond the model's own loads, stores, locks and wake-ups. */
export interface PipeCosts {
  /** read(2)/write(2): the VFS layers around pipe_read/pipe_write, in cycles (the entry and exit
   *  are the machine's `syscallEntryExit`). */
  readonly vfs: number;
  /** copy_page_to_iter/copy_page_from_iter, cycles per byte. */
  readonly copyPerByte: number;
}

/** PIPE_DEF_BUFFERS: a pipe holds 16 buffers of one page each by default. */
export const PIPE_DEF_BUFFERS = 16;
const PAGE_SIZE = 4096;

/**
 * A pipe as fs/pipe.c has it since Linux 5.5 (or a byte stream built the same way, such as a
 * loopback socket's receive queue): `pipe_inode_info` with its mutex, two wait queues and
 * `head`/`tail` buffer indices in simulated memory, laid out as the struct is (mutex and rd_wait
 * on the first line, wr_wait, head and tail on the second). The buffers' lengths are the model's
 * own; their bytes are counted, not stored.
 *
 * pipe_write: under the mutex, merge into the last buffer if the bytes fit its page
 * (pipe_buf_can_merge), else take a new buffer; if all are taken, unlock and sleep on wr_wait
 * (exclusive). Afterwards wake a reader if the pipe was empty, and, if this writer had slept and
 * the pipe is still not full, the next writer (`wake_next_writer`). pipe_read: take bytes from the
 * tail buffer, freeing it when empty; wake a writer if the pipe was full, and the next reader if
 * this one had slept and bytes remain. The mutex is modelled by its optimistic-spin phase.
 */
export class Pipe {
  readonly name: string;
  readonly buffers: number;
  readonly mutex: Spinlock;
  readonly rdWait: WaitQueue;
  readonly wrWait: WaitQueue;
  readonly headAddr: number;
  readonly tailAddr: number;
  /** Bytes in each buffer slot (`pipe->bufs[i].len`). */
  private readonly lens: Int32Array;

  constructor(name: string, memory: SimMemory, engine: Engine, lockStats: SpinlockStats, buffers = PIPE_DEF_BUFFERS) {
    this.name = name;
    this.buffers = buffers;
    const base = memory.allocLines(name, 2);
    this.mutex = new Spinlock(`${name}.mutex`, memory, engine, lockStats, undefined, base);
    this.rdWait = new WaitQueue(`${name}.rd_wait`, memory, engine, lockStats, base + 32);
    this.wrWait = new WaitQueue(`${name}.wr_wait`, memory, engine, lockStats, base + 64);
    this.headAddr = base + 88;
    this.tailAddr = base + 92;
    this.lens = new Int32Array(buffers);
  }

  /** write(2) of `bytes` (at most a page: the atomic PIPE_BUF-sized writes of message passing). */
  *write(s: Scheduler, task: Task, bytes: number, costs: PipeCosts): Sim {
    const k = s.k;
    if (!(bytes > 0 && bytes <= PAGE_SIZE)) throw new Error(`${this.name}: a write of ${bytes} bytes: expected 1..${PAGE_SIZE}`);
    yield k.compute(s.m.config.params.syscallEntryExit + costs.vfs);
    let wakeNextWriter = false;
    for (;;) {
      yield* this.mutex.lock(k, s.cpuOf(task).id);
      const head = yield k.load(this.headAddr);
      const tail = yield k.load(this.tailAddr);
      const last = (head - 1) % this.buffers;
      if (head !== tail && this.lens[last] + bytes <= PAGE_SIZE) {
        this.lens[last] += bytes; // merge into the last buffer
      } else if (head - tail < this.buffers) {
        this.lens[head % this.buffers] = bytes;
        yield k.store(this.headAddr, head + 1);
      } else {
        yield* this.mutex.unlock(k, s.cpuOf(task).id);
        yield* this.wrWait.waitEvent(s, task, () => this.writable(s));
        wakeNextWriter = true;
        continue;
      }
      yield k.compute(Math.round(bytes * costs.copyPerByte));
      const fullNow = (yield k.load(this.headAddr)) - tail >= this.buffers;
      yield* this.mutex.unlock(k, s.cpuOf(task).id);
      if (head === tail) yield* this.rdWait.wakeUp(s, s.cpuOf(task)); // was_empty
      if (wakeNextWriter && !fullNow) yield* this.wrWait.wakeUp(s, s.cpuOf(task));
      return;
    }
  }

  /** read(2) calls until `bytes` have been read. */
  *read(s: Scheduler, task: Task, bytes: number, costs: PipeCosts): Sim {
    const k = s.k;
    let got = 0;
    while (got < bytes) {
      yield k.compute(s.m.config.params.syscallEntryExit + costs.vfs);
      let slept = false;
      if (!(yield* this.readable(s))) {
        yield* this.rdWait.waitEvent(s, task, () => this.readable(s));
        slept = true;
      }
      yield* this.mutex.lock(k, s.cpuOf(task).id);
      const head = yield k.load(this.headAddr);
      let tail = yield k.load(this.tailAddr);
      const wasFull = head - tail >= this.buffers;
      let n = 0;
      while (tail !== head && got + n < bytes) {
        const i = tail % this.buffers;
        const take = Math.min(this.lens[i], bytes - got - n);
        this.lens[i] -= take;
        n += take;
        if (this.lens[i] === 0) tail++;
      }
      if (n > 0) yield k.compute(Math.round(n * costs.copyPerByte));
      yield k.store(this.tailAddr, tail);
      got += n;
      yield* this.mutex.unlock(k, s.cpuOf(task).id);
      if (wasFull) yield* this.wrWait.wakeUp(s, s.cpuOf(task));
      if (slept && tail !== head) yield* this.rdWait.wakeUp(s, s.cpuOf(task)); // wake_next_reader
    }
  }

  /** Bytes written and not yet read (the model's own count, outside simulated time: stats). */
  bytesQueued(): number {
    let n = 0;
    for (let i = 0; i < this.lens.length; i++) n += this.lens[i];
    return n;
  }

  /** pipe_readable(): head != tail (two loads of the pipe's line). */
  private *readable(s: Scheduler): Sim<boolean> {
    return (yield s.k.load(this.headAddr)) !== (yield s.k.load(this.tailAddr));
  }

  /** pipe_writable(): not every buffer taken. */
  private *writable(s: Scheduler): Sim<boolean> {
    const head = yield s.k.load(this.headAddr);
    return head - (yield s.k.load(this.tailAddr)) < this.buffers;
  }
}
