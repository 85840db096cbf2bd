/**
 * The instruction set of simulated code.
 *
 * Kernel paths are generator functions that `yield` one operation per instruction:
 *
 *   const old = yield k.cmpxchg(state, LAZY, FLUSH);
 *
 * `k.cmpxchg(...)` only stages the operation in this object's registers and returns its code;
 * the engine reads the registers right after the generator yields (JavaScript runs one
 * generator at a time, so one staging area serves every process). Yielding a small integer
 * allocates nothing. The engine passes the result (a loaded value, the old value of a locked
 * RMW) back as the value of the `yield` expression.
 *
 * This layer only names the operations. Their semantics and costs live below it: delays in the
 * engine, memory operations in `mem/`, and higher layers extend the set by subclassing `Ops`.
 */

/** Wait a fixed number of cycles (compute, or a cost the caller's layer has already derived). */
export const OP_DELAY = 1;
export const OP_LOAD = 2;
/** MOV [a], b; c: the bits it writes (a narrower store), or 0 for the whole word. */
export const OP_STORE = 3;
/** MFENCE: drain the store buffer. */
export const OP_MFENCE = 4;
/** A serializing instruction (CR3 write, IRET…): drains the store buffer, then costs `a` cycles. */
export const OP_SERIALIZE = 5;
/** LOCK CMPXCHG [a], expected b, new c → old value. */
export const OP_CMPXCHG = 6;
/** XCHG [a], b → old value (implicitly locked); c: the bits it swaps, or 0 for the whole word. */
export const OP_XCHG = 7;
/** LOCK XADD [a], b → old value. */
export const OP_XADD = 8;
/** LOCK OR [a], b → old value. */
export const OP_LOCK_OR = 9;
/** LOCK AND [a], b → old value. */
export const OP_LOCK_AND = 10;
/** LOCK BTS [a], bit b → old bit. */
export const OP_LOCK_BTS = 11;
/** LOCK BTR [a], bit b → old bit. */
export const OP_LOCK_BTR = 12;
/** LOCK INC [a] → old value. */
export const OP_LOCK_INC = 13;
/** LOCK DEC [a] → old value. */
export const OP_LOCK_DEC = 14;
/** Spin until ([a] & b) == c (or != c when d = 1; b = SPIN_NO_MASK compares the whole value), parked on the line, → the value seen. */
export const OP_SPIN = 15;
/**
 * A load whose latency the caller overlaps with other work (an out-of-order core's independent
 * misses): it takes effect at issue and returns its value at once; the memory system leaves the
 * latency a blocking load would have waited in `MemorySystem.overlapLatency[cpu]`.
 */
export const OP_LOAD_OVERLAPPED = 16;
/**
 * Spin until any word of watch set `a` differs from the value the set says was last seen (a
 * polling loop over several lines, mem/multi-park.ts), parked on all their lines, → the index of
 * the first word that changed.
 */
export const OP_SPIN_ANY = 17;
/** Mask value for OP_SPIN that compares the whole word (it may hold a 53-bit counter). */
export const SPIN_NO_MASK = -1;
/** First code free for higher layers. */
export const OP_FIRST_EXTENSION = 32;

/** Names for traces and errors, indexed by op code. */
export const OP_NAMES: readonly string[] = [
  '?', 'delay', 'load', 'store', 'mfence', 'serialize', 'cmpxchg', 'xchg', 'xadd',
  'lock or', 'lock and', 'lock bts', 'lock btr', 'lock inc', 'lock dec', 'spin', 'load overlapped', 'spin any',
];

/** Every locked read-modify-write, for stats and store-buffer draining. */
export function isLockedRmw(op: number): boolean {
  return op >= OP_CMPXCHG && op <= OP_LOCK_DEC;
}

/** The type of simulated code: yields op codes, receives results, may return a value. */
export type Sim<R = void> = Generator<number, R, number>;

export class Ops {
  /** Staged operation: code and operands. */
  op: number;
  a: number;
  b: number;
  c: number;
  d: number;

  constructor() {
    this.op = 0;
    this.a = 0;
    this.b = 0;
    this.c = 0;
    this.d = 0;
  }

  protected stage(op: number, a: number, b: number, c: number, d: number): number {
    this.op = op;
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    return op;
  }

  delay(cycles: number): number {
    return this.stage(OP_DELAY, cycles, 0, 0, 0);
  }
  load(addr: number): number {
    return this.stage(OP_LOAD, addr, 0, 0, 0);
  }
  loadOverlapped(addr: number): number {
    return this.stage(OP_LOAD_OVERLAPPED, addr, 0, 0, 0);
  }
  store(addr: number, value: number): number {
    return this.stage(OP_STORE, addr, value, 0, 0);
  }
  /** A store narrower than the word (a byte or 16-bit MOV): it writes only the bits of `mask`. */
  storeBits(addr: number, value: number, mask: number): number {
    return this.stage(OP_STORE, addr, value, mask, 0);
  }
  mfence(): number {
    return this.stage(OP_MFENCE, 0, 0, 0, 0);
  }
  serialize(cycles: number): number {
    return this.stage(OP_SERIALIZE, cycles, 0, 0, 0);
  }
  cmpxchg(addr: number, expected: number, value: number): number {
    return this.stage(OP_CMPXCHG, addr, expected, value, 0);
  }
  xchg(addr: number, value: number): number {
    return this.stage(OP_XCHG, addr, value, 0, 0);
  }
  /** An XCHG narrower than the word: swaps only the bits of `mask`, → the old word. */
  xchgBits(addr: number, value: number, mask: number): number {
    return this.stage(OP_XCHG, addr, value, mask, 0);
  }
  xadd(addr: number, value: number): number {
    return this.stage(OP_XADD, addr, value, 0, 0);
  }
  lockOr(addr: number, bits: number): number {
    return this.stage(OP_LOCK_OR, addr, bits, 0, 0);
  }
  lockAnd(addr: number, bits: number): number {
    return this.stage(OP_LOCK_AND, addr, bits, 0, 0);
  }
  lockBts(addr: number, bit: number): number {
    return this.stage(OP_LOCK_BTS, addr, bit, 0, 0);
  }
  lockBtr(addr: number, bit: number): number {
    return this.stage(OP_LOCK_BTR, addr, bit, 0, 0);
  }
  lockInc(addr: number): number {
    return this.stage(OP_LOCK_INC, addr, 0, 0, 0);
  }
  lockDec(addr: number): number {
    return this.stage(OP_LOCK_DEC, addr, 0, 0, 0);
  }
  /** Spin until `[addr] == value` (a spinlock's owner field, a CSD flag). */
  spinUntilEq(addr: number, value: number, mask = SPIN_NO_MASK): number {
    return this.stage(OP_SPIN, addr, mask, value, 0);
  }
  /** Spin while `[addr] == value`. */
  spinWhileEq(addr: number, value: number, mask = SPIN_NO_MASK): number {
    return this.stage(OP_SPIN, addr, mask, value, 1);
  }
  /** Spin until a word of watch set `set` (`MultiPark.watch`) differs from its `seen` value → its index. */
  spinUntilAnyChanged(set: number): number {
    return this.stage(OP_SPIN_ANY, set, 0, 0, 0);
  }
}
