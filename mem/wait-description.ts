import { OP_NAMES, OP_SPIN, OP_SPIN_ANY, OP_STORE, SPIN_NO_MASK, isLockedRmw } from '../lib/engine/ops';
import type { Process } from '../lib/engine/process';
import { WORD_SHIFT, type SimMemory } from './memory';
import type { MultiPark } from './multi-park';

/**
 * What a process blocked in the memory system waits on, in words a watchdog report can use
 * (`cpu3: spinning on [rq3.lock] until == 0 (now 1)`): the spin's word by its symbol, its mask,
 * condition and current value; a multi-line park's words; a stalled store or a locked RMW's drain.
 */
export function describeMemoryWait(memory: SimMemory, multi: MultiPark, p: Process): string {
  const where = memory.symbolize(p.a);
  switch (p.op) {
    case OP_SPIN: {
      const lhs = p.b === SPIN_NO_MASK ? `[${where}]` : `[${where}] & 0x${(p.b >>> 0).toString(16)}`;
      return `spinning on ${lhs} until ${p.d === 1 ? '!=' : '=='} ${p.c} (now ${memory.values[p.a >>> WORD_SHIFT]})`;
    }
    case OP_SPIN_ANY:
      return multi.describe(p);
    case OP_STORE:
      return `store to ${where} stalled on a full store buffer`;
    default:
      return `${OP_NAMES[p.op] ?? p.op}${isLockedRmw(p.op) ? ` on ${where}` : ''} waiting for the store buffer to drain`;
  }
}
