/**
 * An independent x86-TSO abstract machine (Owens, Sarkar & Sewell, "A Better x86 Memory Model:
 * x86-TSO", TPHOLs 2009): the oracle of the simulator's litmus runs (tests/mem/litmus/tso-model.test.ts)
 * and of the search measurement (bench/search-run.ts), which count runs until every state it allows was seen.
 *
 * The machine: one shared memory; per thread a FIFO store buffer, a program counter and
 * registers. A step is either
 *  - a thread executing its next instruction:
 *      store          appends (loc, value) to the thread's own buffer;
 *      load           reads the thread's youngest buffered store to the location, else memory;
 *      MFENCE         only when the thread's buffer is empty;
 *      locked RMW     (XCHG, LOCK ADD/XADD/CMPXCHG/INC/DEC) only when the thread's buffer is
 *                     empty, then reads and writes memory in one atomic step;
 *      register op    (MOV reg,reg/imm, ADD reg) is thread-local;
 *  - or some thread's oldest buffered store draining to memory.
 * Every interleaving of those steps is explored (DFS, memoized on a canonical key of the machine
 * state). A final state is one where every thread is done and every buffer is empty.
 *
 * Deliberately written for readability, not speed; it shares nothing with the simulator except
 * the litmus AST and the state formatting.
 */
import type { FinalState, Instr, LitmusTest, Operand } from './ast';
import { formatState } from './condition';

interface Store {
  loc: string;
  value: number;
}

interface Machine {
  mem: Record<string, number>;
  pc: number[];
  regs: Array<Record<string, number>>;
  buffers: Store[][];
}

function clone(m: Machine): Machine {
  return {
    mem: { ...m.mem },
    pc: [...m.pc],
    regs: m.regs.map((r) => ({ ...r })),
    buffers: m.buffers.map((b) => b.map((s) => ({ ...s }))),
  };
}

/** Canonical key: object keys sorted, so equal machine states give equal strings. */
function key(m: Machine): string {
  const sorted = (o: Record<string, number>): Array<[string, number]> =>
    Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([sorted(m.mem), m.pc, m.regs.map(sorted), m.buffers.map((b) => b.map((s) => [s.loc, s.value]))]);
}

const reg = (m: Machine, t: number, r: string): number => m.regs[t]![r] ?? 0;

/** What a thread's load of `loc` returns: its own youngest buffered store, else memory. */
function load(m: Machine, t: number, loc: string): number {
  const buffer = m.buffers[t]!;
  for (let i = buffer.length - 1; i >= 0; i--) if (buffer[i]!.loc === loc) return buffer[i]!.value;
  return m.mem[loc] ?? 0;
}

function operand(m: Machine, t: number, o: Operand): number {
  if (o.kind === 'imm') return o.value;
  if (o.kind === 'reg') return reg(m, t, o.reg);
  return load(m, t, o.loc);
}

/** Locked instructions and MFENCE wait for an empty store buffer. */
function needsEmptyBuffer(ins: Instr): boolean {
  return ins.op !== 'mov' && ins.op !== 'add';
}

/** Thread t executes `ins` on a copy of `m` (the caller checked the buffer condition). */
function execute(m: Machine, t: number, ins: Instr): Machine {
  const next = clone(m);
  const regs = next.regs[t]!;
  const mem = next.mem;
  const old = (loc: string): number => mem[loc] ?? 0; // locked ops: buffer is empty, read memory
  switch (ins.op) {
    case 'mov':
      if (ins.dst.kind === 'mem') next.buffers[t]!.push({ loc: ins.dst.loc, value: operand(m, t, ins.src) });
      else if (ins.dst.kind === 'reg') regs[ins.dst.reg] = operand(m, t, ins.src);
      break;
    case 'add':
      regs[ins.dst] = reg(m, t, ins.dst) + operand(m, t, ins.src);
      break;
    case 'mfence':
      break;
    case 'xchg': {
      const v = old(ins.mem);
      mem[ins.mem] = reg(m, t, ins.reg);
      regs[ins.reg] = v;
      break;
    }
    case 'lock-add':
      mem[ins.mem] = old(ins.mem) + operand(m, t, ins.src);
      break;
    case 'lock-xadd': {
      const v = old(ins.mem);
      mem[ins.mem] = v + reg(m, t, ins.reg);
      regs[ins.reg] = v;
      break;
    }
    case 'lock-cmpxchg': {
      // x86: if [m] == RAX then [m] := src; RAX := old [m] either way (on equality it already is).
      const v = old(ins.mem);
      if (v === reg(m, t, 'rax')) mem[ins.mem] = reg(m, t, ins.reg);
      regs.rax = v;
      break;
    }
    case 'lock-inc':
      mem[ins.mem] = old(ins.mem) + 1;
      break;
    case 'lock-dec':
      mem[ins.mem] = old(ins.mem) - 1;
      break;
  }
  next.pc[t]!++;
  return next;
}

/** Every machine state reachable in one step from `m`. */
function successors(test: LitmusTest, m: Machine): Machine[] {
  const out: Machine[] = [];
  test.threads.forEach((instrs, t) => {
    const ins = instrs[m.pc[t]!];
    const bufferEmpty = m.buffers[t]!.length === 0;
    if (ins && (bufferEmpty || !needsEmptyBuffer(ins))) out.push(execute(m, t, ins));
    if (!bufferEmpty) {
      const next = clone(m);
      const oldest = next.buffers[t]!.shift()!;
      next.mem[oldest.loc] = oldest.value;
      out.push(next);
    }
  });
  return out;
}

/** All final states x86-TSO allows, keyed by their `formatState` string. */
export function tsoOutcomes(test: LitmusTest): Map<string, FinalState> {
  const initial: Machine = {
    mem: Object.fromEntries(test.locations.map((loc) => [loc, test.init.locs[loc] ?? 0])),
    pc: test.threads.map(() => 0),
    regs: test.threads.map((_, t) => ({ ...(test.init.regs[t] ?? {}) })),
    buffers: test.threads.map(() => []),
  };
  const outcomes = new Map<string, FinalState>();
  const visited = new Set<string>();
  const explore = (m: Machine): void => {
    const k = key(m);
    if (visited.has(k)) return;
    visited.add(k);
    const next = successors(test, m);
    if (next.length === 0) {
      // No step possible: every thread is done and every buffer is empty (nothing can block
      // forever, since a non-empty buffer can always drain).
      const state: FinalState = { regs: m.regs, locs: m.mem };
      outcomes.set(formatState(test, state), state);
    }
    for (const n of next) explore(n);
  };
  explore(initial);
  return outcomes;
}

/** The set of all final states (as `formatState` strings) the x86-TSO abstract machine allows. */
export function tsoFinalStates(test: LitmusTest): Set<string> {
  return new Set(tsoOutcomes(test).keys());
}
