import type { Engine } from '../lib/engine/engine';
import { StepCall, type SimCall } from '../lib/engine/step-call';
import type { Counter } from '../lib/stats/counter';
import type { Histogram } from '../lib/stats/histogram';
import type { StatGroup } from '../lib/stats/group';
import type { StatShapeGroup } from '../lib/stats/shape';
import type { SimMemory } from '../mem/memory';
import type { KernelOps } from './kernel-ops';
import { Q_LOCKED_MASK } from './qspinlock';

/** The counters of a lock, or of a family of locks that share them (every pipe's wait-queue lock). */
export interface SpinlockStats {
  readonly acquisitions: Counter;
  readonly contended: Counter;
  readonly waits: Histogram;
}

/** What `spinlockStats` registers, for a workload's declared `stats` (the run checks it against the group). */
export const SPINLOCK_STATS = { acquisitions: 'counter', contended: 'counter', waitCycles: 'histogram' } as const satisfies StatShapeGroup;

/** Registers the counters of `name` (one lock, or a family of them) in `group`. */
export function spinlockStats(group: StatGroup, name: string): SpinlockStats {
  return {
    acquisitions: group.counter('acquisitions', `${name} acquisitions`),
    contended: group.counter('contended', `${name} acquisitions that had to wait`),
    waits: group.histogram('waitCycles', `cycles from the first attempt (the ticket, or the queued lock's cmpxchg) to holding ${name}`),
  };
}

/**
 * A ticket spinlock as x86 Linux had it from 2.6.25 to 4.1 (arch/x86/include/asm/spinlock.h):
 * `arch_spin_lock` takes a ticket with LOCK XADD on the tail, then spins until the head reaches
 * it; `arch_spin_unlock` adds one to the head. On x86-64 that add carries no LOCK prefix
 * (UNLOCK_LOCK_PREFIX is empty): only the holder writes the head, and a plain store is a release
 * under TSO. So it is modelled as a store. Head and tail sit in one cacheline, as in the kernel's
 * `arch_spinlock_t`, so waiters and the holder contend for the same line.
 *
 * With `KernelOps.qspinlock` set (a TLB machine's default, `--spinlock queued`) the same lock is
 * instead the queued spinlock of 4.2 and later, its word at `tail` (cpu/qspinlock.ts); a bare CPU
 * machine, and `--spinlock ticket`, keep the ticket lock.
 *
 * Beside the simulated words, the lock keeps a checker: `holder` (which CPU holds it, -1 if
 * none). Acquiring a held lock or releasing one not held is a bug in the model and throws.
 */
export class Spinlock {
  readonly name: string;
  /** Next ticket to hand out (the tail). */
  readonly tail: number;
  /** Ticket now being served (the head). */
  readonly head: number;
  holder: number;
  holderTicket: number;
  private readonly engine: Engine;
  private readonly acquisitions: Counter;
  private readonly contended: Counter;
  private readonly waits: Histogram;

  /**
   * A lock at `addr` (8 bytes: tail, head), e.g. the first field of a `struct rq`; allocated on
   * its own line when no address is given. `stats` is a group to register its counters in, or
   * counters shared with other locks of its kind; `waits` overrides the wait histogram.
   */
  constructor(name: string, memory: SimMemory, engine: Engine, stats: StatGroup | SpinlockStats, waits?: Histogram, addr?: number) {
    this.name = name;
    const base = addr ?? memory.allocLines(name);
    this.tail = base;
    this.head = base + 4;
    this.holder = -1;
    this.holderTicket = 0;
    this.engine = engine;
    if ('acquisitions' in stats) {
      this.acquisitions = stats.acquisitions;
      this.contended = stats.contended;
      this.waits = waits ?? stats.waits;
    } else {
      this.acquisitions = stats.counter('acquisitions', `${name} acquisitions`);
      this.contended = stats.counter('contended', `${name} acquisitions that had to wait`);
      this.waits = waits ?? stats.histogram('waitCycles', `cycles from the first attempt (the ticket, or the queued lock's cmpxchg) to holding ${name}`);
    }
  }

  /** spin_lock(): preempt_disable, take a ticket, spin on the head (a pooled step machine: SpinLockCall). */
  lock(k: KernelOps, cpu: number): SimCall {
    if (k.qspinlock !== null) return k.qspinlock.lock(this, k, cpu);
    return (LOCK_CALLS.pop() ?? new SpinLockCall(LOCK_CALLS)).start(this, k, cpu);
  }

  /**
   * spin_unlock(): one store by the holder, then preempt_enable (SpinUnlockCall). The ticket lock
   * moves the head on; the queued spinlock clears its `locked` byte (queued_spin_unlock():
   * smp_store_release(&lock->locked, 0)).
   */
  unlock(k: KernelOps, cpu: number): SimCall {
    if (this.holder !== cpu) throw new Error(`${this.name}: cpu${cpu} released it, but the holder is cpu${this.holder}`);
    this.holder = -1;
    const call = UNLOCK_CALLS.pop() ?? new SpinUnlockCall(UNLOCK_CALLS);
    return k.qspinlock !== null ? call.start(k, this.tail, 0, Q_LOCKED_MASK) : call.start(k, this.head, this.holderTicket + 1, 0);
  }

  /** The checker and the counters, once the ticket is served. */
  acquired(cpu: number, ticket: number, start: number): void {
    if (this.holder !== -1) throw new Error(`${this.name}: cpu${cpu} acquired it while cpu${this.holder} holds it`);
    this.holder = cpu;
    this.holderTicket = ticket;
    this.acquisitions.value++;
    this.waits.record(this.engine.now - start);
  }

  /** A ticket taken while another was being served. */
  countContended(): void {
    this.contended.value++;
  }

  /** The current cycle. */
  now(): number {
    return this.engine.now;
  }
}

const LOCK_CALLS: SpinLockCall[] = [];
const UNLOCK_CALLS: SpinUnlockCall[] = [];

/**
 * arch_spin_lock() (ticket version):
 *
 *     preempt_disable();
 *     inc = xadd(&lock->tickets, inc);          // take a ticket
 *     if (inc.head == inc.tail) goto out;       // (head read as its own load here)
 *     for (;;) { if (READ_ONCE(lock->tickets.head) == inc.tail) goto out; cpu_relax(); }
 */
class SpinLockCall extends StepCall {
  private lock: Spinlock | null;
  private k: KernelOps | null;
  private cpu: number;
  private startCycle: number;
  private ticket: number;

  constructor(pool: SpinLockCall[]) {
    super(pool as StepCall[]);
    this.lock = null;
    this.k = null;
    this.cpu = -1;
    this.startCycle = 0;
    this.ticket = 0;
  }

  start(lock: Spinlock, k: KernelOps, cpu: number): this {
    this.lock = lock;
    this.k = k;
    this.cpu = cpu;
    return this;
  }

  next(v: number): IteratorResult<number> {
    const l = this.lock as Spinlock;
    const k = this.k as KernelOps;
    switch (this.pc) {
      case 0: // preempt_disable()
        return this.yieldOp(k.preemptAdd(1), 1);
      case 1: // ticket = xadd(&lock->tail, 1)
        this.startCycle = l.now();
        return this.yieldOp(k.xadd(l.tail, 1), 2);
      case 2: // READ_ONCE(lock->head): the kernel's xadd returns head and tail together; here they are two words of one line
        this.ticket = v;
        return this.yieldOp(k.load(l.head), 3);
      case 3: // while (head != ticket) cpu_relax()
        if (v !== this.ticket) {
          l.countContended();
          return this.yieldOp(k.spinUntilEq(l.head, this.ticket), 4);
        }
        return this.served(l);
      default:
        return this.served(l);
    }
  }

  /** out: the ticket is being served. */
  private served(l: Spinlock): IteratorResult<number> {
    l.acquired(this.cpu, this.ticket, this.startCycle);
    this.lock = null;
    this.k = null;
    return this.finish(undefined);
  }
}

/**
 * arch_spin_unlock(), then preempt_enable(). The x86-64 ticket version's add to the head carries
 * no LOCK prefix (UNLOCK_LOCK_PREFIX is empty: only the holder writes the head), so it is a store
 * of the next ticket; the queued version is a byte store of 0 to `locked`.
 */
class SpinUnlockCall extends StepCall {
  private k: KernelOps | null;
  private addr: number;
  private value: number;
  private mask: number;

  constructor(pool: SpinUnlockCall[]) {
    super(pool as StepCall[]);
    this.k = null;
    this.addr = 0;
    this.value = 0;
    this.mask = 0;
  }

  start(k: KernelOps, addr: number, value: number, mask: number): this {
    this.k = k;
    this.addr = addr;
    this.value = value;
    this.mask = mask;
    return this;
  }

  next(): IteratorResult<number> {
    const k = this.k as KernelOps;
    switch (this.pc) {
      case 0: // __add(&lock->tickets.head, 1), or smp_store_release(&lock->locked, 0)
        return this.yieldOp(k.storeBits(this.addr, this.value, this.mask), 1);
      case 1: // preempt_enable()
        return this.yieldOp(k.preemptAdd(-1), 2);
      default:
        this.k = null;
        return this.finish(undefined);
    }
  }
}
