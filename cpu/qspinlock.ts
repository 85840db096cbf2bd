import type { Sim } from '../lib/engine/ops';
import { StepCall, type SimCall } from '../lib/engine/step-call';
import type { Counter } from '../lib/stats/counter';
import type { StatGroup } from '../lib/stats/group';
import type { SimMemory } from '../mem/memory';
import type { KernelOps, LockImpl, LockWord } from './kernel-ops';

/** The spinlock implementations (`--spinlock`): x86 Linux's ticket lock (2.6.25-4.1) or its queued spinlock (4.2 on). */
export const SPINLOCK_KINDS = ['ticket', 'queued'] as const;
export type SpinlockKind = (typeof SPINLOCK_KINDS)[number];
/** Every kernel the strategies model (4.2 and later, LATR's 4.10 and the 2016 RFC included) has the queued spinlock. */
export const DEFAULT_SPINLOCK: SpinlockKind = 'queued';

// The lock word (include/asm-generic/qspinlock_types.h, NR_CPUS < 16K so _Q_PENDING_BITS = 8):
// bits 0-7 locked, bit 8 pending, bits 16-17 the tail's node index, bits 18-31 the tail's CPU + 1.
const Q_LOCKED_VAL = 1;
/** The `locked` byte: what queued_spin_unlock() stores 0 into (Spinlock.unlock). */
export const Q_LOCKED_MASK = 0xff;
const Q_PENDING_VAL = 1 << 8;
const Q_PENDING_OFFSET = 8;
const Q_LOCKED_PENDING_MASK = 0xffff;
const Q_TAIL_MASK = 0xffff_0000;
const Q_TAIL_IDX_OFFSET = 16;
const Q_TAIL_CPU_OFFSET = 18;
/** Nesting levels a CPU can take spinlocks at: task, softirq, hardirq, NMI (MAX_NODES). */
const MAX_NODES = 4;
/** struct mcs_spinlock { next; locked; count; }: 16 bytes, so one CPU's four nodes share a line
 *  (native; CONFIG_PARAVIRT_SPINLOCKS pads a qnode to 32 bytes). `next` holds a node's address. */
const NODE_BYTES = 16;
const NODE_NEXT = 0;
const NODE_LOCKED = 4;

/**
 * The queued spinlock's per-CPU MCS nodes (`qnodes`, kernel/locking/qspinlock.c) and the counts of
 * the paths locks take. Its unlock is Spinlock.unlock's byte store of `locked`. One per machine, reached through `KernelOps.qspinlock`; absent, spinlocks
 * are ticket locks.
 */
export class Qspinlocks implements LockImpl {
  /** Per CPU: its first node's address; node i is NODE_BYTES * i further. */
  private readonly nodes: Float64Array;
  /** Per CPU: nodes in use (`qnodes[0].mcs.count`; a per-CPU add, kept beside the model). */
  private readonly count: Int32Array;
  private readonly pendingPath: Counter;
  private readonly queuedPath: Counter;
  private readonly nestedPath: Counter;

  constructor(memory: SimMemory, nCpus: number, stats: StatGroup) {
    this.nodes = new Float64Array(nCpus);
    for (let c = 0; c < nCpus; c++) this.nodes[c] = memory.alloc(`qnodes@cpu${c}`, MAX_NODES * NODE_BYTES, 64);
    this.count = new Int32Array(nCpus);
    this.pendingPath = stats.counter('pending', 'acquisitions that waited as the pending CPU (one waiter, no queue)');
    this.queuedPath = stats.counter('queued', 'acquisitions that waited in the MCS queue');
    this.nestedPath = stats.counter('nested', 'of those, queued on a node above the first: an interrupt\'s lock while its CPU queued for another');
  }

  /** spin_lock(): preempt_disable(), then queued_spin_lock() (a pooled step machine: QspinLockCall). */
  lock(l: LockWord, k: KernelOps, cpu: number): SimCall {
    return (LOCK_CALLS.pop() ?? new QspinLockCall(LOCK_CALLS)).start(this, l, k, cpu);
  }

  /** queued_spin_lock_slowpath() (v4.20, native: no paravirt hooks). */
  *slowpath(l: LockWord, k: KernelOps, cpu: number, firstVal: number): Sim {
    const lock = l.tail;
    let val = firstVal;
    // Wait for an in-progress pending -> locked hand-over (0,1,0 -> 0,0,1); the kernel bounds it
    // at _Q_PENDING_LOOPS spins, which only a stuck hand-over would reach.
    if (val === Q_PENDING_VAL) val = yield k.spinWhileEq(lock, Q_PENDING_VAL);
    // Any contention (pending or a tail): queue.
    if ((val & ~Q_LOCKED_MASK) === 0) {
      // trylock || pending (0,0,* -> 0,1,*): x86's queued_fetch_set_pending_acquire() is a LOCK BTS
      // on the pending bit, then a read of the rest of the word.
      const wasPending = yield k.lockBts(lock, Q_PENDING_OFFSET);
      val = (wasPending << Q_PENDING_OFFSET) | ((yield k.load(lock)) & ~Q_PENDING_VAL);
      if ((val & ~Q_LOCKED_MASK) === 0) {
        this.pendingPath.value++;
        // We're pending: wait for the owner to go away (0,1,1 -> 0,1,0) ...
        if ((val & Q_LOCKED_MASK) !== 0) yield k.spinUntilEq(lock, 0, Q_LOCKED_MASK);
        // ... then take it and clear pending (0,1,0 -> 0,0,1): clear_pending_set_locked(), a 16-bit store.
        yield k.storeBits(lock, Q_LOCKED_VAL, Q_LOCKED_PENDING_MASK);
        return;
      }
      // A concurrent locker: undo pending if we set it (clear_pending(), a byte store), and queue.
      if ((val & Q_PENDING_VAL) === 0) yield k.storeBits(lock, 0, Q_PENDING_VAL);
    }
    yield* this.queue(l, k, cpu);
  }

  /** The `queue:` part of the slowpath: an MCS node of this CPU's, spun on locally until it heads the queue. */
  private *queue(l: LockWord, k: KernelOps, cpu: number): Sim {
    const lock = l.tail;
    this.queuedPath.value++;
    const idx = this.count[cpu]++;
    if (idx >= MAX_NODES) throw new Error(`${l.name}: cpu${cpu} nests more than ${MAX_NODES} spinlock slowpaths`);
    if (idx > 0) this.nestedPath.value++;
    const tail = (((cpu + 1) << Q_TAIL_CPU_OFFSET) | (idx << Q_TAIL_IDX_OFFSET)) >>> 0;
    const node = this.nodes[cpu] + idx * NODE_BYTES;
    yield k.store(node + NODE_LOCKED, 0);
    yield k.store(node + NODE_NEXT, 0);
    // The node's line may have been cold: try the lock once more (queued_spin_trylock()).
    if ((yield k.load(lock)) === 0 && (yield k.cmpxchg(lock, 0, Q_LOCKED_VAL)) === 0) {
      this.count[cpu]--;
      return;
    }
    // Publish the tail (p,*,* -> n,*,*): xchg_tail(), a 16-bit XCHG.
    const old = yield k.xchgBits(lock, tail, Q_TAIL_MASK);
    let next = 0;
    if (((old & Q_TAIL_MASK) >>> 0) !== 0) {
      // Link behind the previous tail and spin on our own node until it hands the queue on.
      const prevCpu = (old >>> Q_TAIL_CPU_OFFSET) - 1;
      const prevIdx = (old >>> Q_TAIL_IDX_OFFSET) & (MAX_NODES - 1);
      yield k.store(this.nodes[prevCpu] + prevIdx * NODE_BYTES + NODE_NEXT, node);
      yield k.spinWhileEq(node + NODE_LOCKED, 0); // arch_mcs_spin_lock_contended()
      next = yield k.load(node + NODE_NEXT); // a successor may have linked meanwhile
    }
    // Head of the queue: wait for the owner and the pending CPU to go away (*,x,y -> *,0,0).
    const val = yield k.spinUntilEq(lock, 0, Q_LOCKED_PENDING_MASK);
    // Claim the lock. Alone in the queue (the tail is ours): n,0,0 -> 0,0,1 with one cmpxchg.
    if (((val & Q_TAIL_MASK) >>> 0) === tail && (yield k.cmpxchg(lock, val, Q_LOCKED_VAL)) === val) {
      this.count[cpu]--;
      return;
    }
    // Someone queued behind us: set_locked() (a byte store), then hand the queue to the next node.
    yield k.storeBits(lock, Q_LOCKED_VAL, Q_LOCKED_MASK);
    if (next === 0) next = yield k.spinWhileEq(node + NODE_NEXT, 0);
    yield k.store(next + NODE_LOCKED, 1); // arch_mcs_spin_unlock_contended()
    this.count[cpu]--;
  }
}

const LOCK_CALLS: QspinLockCall[] = [];

/**
 * spin_lock() with queued_spin_lock() (include/asm-generic/qspinlock.h):
 *
 *     preempt_disable();
 *     if (likely(atomic_try_cmpxchg_acquire(&lock->val, &val, _Q_LOCKED_VAL))) return;
 *     queued_spin_lock_slowpath(lock, val);
 *
 * The slowpath stays a generator (Qspinlocks.slowpath), which this call runs as `yield*` would.
 */
class QspinLockCall extends StepCall {
  private q: Qspinlocks | null;
  private lock: LockWord | null;
  private k: KernelOps | null;
  private cpu: number;
  private startCycle: number;
  /** The slowpath in progress, or null. */
  private slow: Sim | null;

  constructor(pool: QspinLockCall[]) {
    super(pool as StepCall[]);
    this.q = null;
    this.lock = null;
    this.k = null;
    this.cpu = -1;
    this.startCycle = 0;
    this.slow = null;
  }

  start(q: Qspinlocks, lock: LockWord, k: KernelOps, cpu: number): this {
    this.q = q;
    this.lock = lock;
    this.k = k;
    this.cpu = cpu;
    return this;
  }

  next(v: number): IteratorResult<number> {
    const l = this.lock as LockWord;
    if (this.slow !== null) return this.runSlow(l, v);
    const k = this.k as KernelOps;
    switch (this.pc) {
      case 0: // preempt_disable()
        return this.yieldOp(k.preemptAdd(1), 1);
      case 1: // atomic_try_cmpxchg_acquire(&lock->val, 0, _Q_LOCKED_VAL)
        this.startCycle = l.now();
        return this.yieldOp(k.cmpxchg(l.tail, 0, Q_LOCKED_VAL), 2);
      default:
        if (v === 0) return this.acquired(l);
        l.countContended();
        this.slow = (this.q as Qspinlocks).slowpath(l, k, this.cpu, v);
        return this.runSlow(l, 0);
    }
  }

  /** One step of the slowpath; its end is the acquisition. */
  private runSlow(l: LockWord, v: number): IteratorResult<number> {
    const r = (this.slow as Sim).next(v);
    if (r.done !== true) return r;
    this.slow = null;
    return this.acquired(l);
  }

  private acquired(l: LockWord): IteratorResult<number> {
    l.acquired(this.cpu, 0, this.startCycle);
    this.q = null;
    this.lock = null;
    this.k = null;
    return this.finish(undefined);
  }
}
