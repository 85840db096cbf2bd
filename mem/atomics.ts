import {
  OP_CMPXCHG, OP_LOCK_AND, OP_LOCK_BTR, OP_LOCK_BTS, OP_LOCK_DEC, OP_LOCK_INC, OP_LOCK_OR, OP_XADD, OP_XCHG,
} from '../lib/engine/ops';

/**
 * The value semantics of x86 locked read-modify-writes, applied to one memory word. Returns what
 * the instruction hands back: the old value (CMPXCHG's EAX, XCHG, XADD; the flags-only
 * OR/AND/INC/DEC return it too so that `atomic_fetch_*` can be modelled), or the old bit for
 * BTS/BTR (CF). Bitwise forms act on 32-bit words (see `SimMemory`).
 */
export function applyRmw(op: number, values: Float64Array, word: number, b: number, c: number): number {
  const old = values[word];
  switch (op) {
    case OP_CMPXCHG:
      if (old === b) values[word] = c;
      return old;
    case OP_XCHG:
      // c: the bits a narrower XCHG writes (a qspinlock's 16-bit tail), or 0 for the whole word.
      values[word] = c === 0 ? b : ((old & ~c) | (b & c)) >>> 0;
      return old;
    case OP_XADD:
      values[word] = old + b;
      return old;
    case OP_LOCK_OR:
      values[word] = (old | b) >>> 0;
      return old;
    case OP_LOCK_AND:
      values[word] = (old & b) >>> 0;
      return old;
    case OP_LOCK_BTS:
      values[word] = (old | (1 << b)) >>> 0;
      return (old >>> b) & 1;
    case OP_LOCK_BTR:
      values[word] = (old & ~(1 << b)) >>> 0;
      return (old >>> b) & 1;
    case OP_LOCK_INC:
      values[word] = old + 1;
      return old;
    case OP_LOCK_DEC:
      values[word] = old - 1;
      return old;
    default:
      throw new Error(`not a locked RMW: op ${op}`);
  }
}
