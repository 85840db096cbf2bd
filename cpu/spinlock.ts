import type { Engine } from '../lib/engine/engine';
import type { Sim } from '../lib/engine/ops';
import type { Counter } from '../lib/stats/counter';
import type { Histogram } from '../lib/stats/histogram';
import type { StatGroup } from '../lib/stats/group';
import type { StatShapeGroup } from '../lib/stats/shape';
import type { SimMemory } from '../mem/memory';
import type { KernelOps } from './kernel-ops';

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
    waits: group.histogram('waitCycles', `cycles from taking a ticket to holding ${name}`),
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
      this.waits = waits ?? stats.histogram('waitCycles', `cycles from taking a ticket to holding ${name}`);
    }
  }

  /** spin_lock(): preempt_disable, take a ticket, spin on the head. */
  *lock(k: KernelOps, cpu: number): Sim {
    yield k.preemptAdd(1);
    const start = this.engine.now;
    const ticket = yield k.xadd(this.tail, 1);
    // The kernel's xadd returns head and tail together; here they are two words of one line.
    if ((yield k.load(this.head)) !== ticket) {
      this.contended.value++;
      yield k.spinUntilEq(this.head, ticket);
    }
    if (this.holder !== -1) throw new Error(`${this.name}: cpu${cpu} acquired it while cpu${this.holder} holds it`);
    this.holder = cpu;
    this.holderTicket = ticket;
    this.acquisitions.value++;
    this.waits.record(this.engine.now - start);
  }

  /** spin_unlock(): the holder moves the head on, then preempt_enable. */
  *unlock(k: KernelOps, cpu: number): Sim {
    if (this.holder !== cpu) throw new Error(`${this.name}: cpu${cpu} released it, but the holder is cpu${this.holder}`);
    this.holder = -1;
    yield k.store(this.head, this.holderTicket + 1);
    yield k.preemptAdd(-1);
  }
}
