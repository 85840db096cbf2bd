import { ConfigError } from '../lib/errors';
import { ProbePoint } from '../lib/probe';

/** x86 cacheline size. */
export const LINE_BYTES = 64;
export const LINE_SHIFT = 6;
/** Values are kept per 4-byte word; an 8-byte variable (atomic64_t, a pointer) uses its first word. */
export const WORD_SHIFT = 2;
/** Where simulated memory starts; it doubles whenever an allocation needs more. */
const INITIAL_BYTES = 4 << 10;
/** More than this is a workload that allocates without freeing, not a machine's kernel variables. */
export const MAX_MEMORY_BYTES = 1 << 30;

interface Symbol {
  readonly addr: number;
  readonly size: number;
  readonly name: string;
}

/**
 * The values of simulated memory: the kernel variables that the modelled code reads and writes
 * (per-CPU state, cpumasks, `tlb_gen`, locks). Addresses are byte addresses; placement decides
 * which variables share a cacheline, so false sharing is a matter of layout, not code.
 *
 * A word holds a JS number: 64-bit counters are exact up to 2^53; bitwise RMWs act on 32-bit
 * words, which is why cpumasks are arrays of 32-bit words (16 per line, 512 CPUs per line).
 * Overlapping accesses of different sizes are not modelled.
 *
 * It is sized by what the run allocates: it starts small and doubles (addresses never move), and
 * every per-line structure of the memory system grows with it through `grown`. A litmus test
 * uses 4 KiB, a 448-CPU server a few MiB.
 */
export class SimMemory {
  capacity: number;
  values: Float64Array;
  /** Fired after the memory has grown, with the new line count: per-line arrays grow to it. */
  readonly grown: ProbePoint<number>;
  private brk: number;
  private readonly symbols: Symbol[];

  constructor() {
    this.capacity = INITIAL_BYTES;
    this.values = new Float64Array(INITIAL_BYTES >>> WORD_SHIFT);
    this.grown = new ProbePoint('memory.grown');
    // Address 0 stays unused so that 0 can mean NULL.
    this.brk = LINE_BYTES;
    this.symbols = [];
  }

  get lineCount(): number {
    return this.capacity >>> LINE_SHIFT;
  }

  /** Reserves `bytes` at the given alignment and names them for stats and watchdog reports. */
  alloc(name: string, bytes: number, align = 8): number {
    if (!(bytes > 0) || (align & (align - 1)) !== 0) throw new Error(`bad allocation of ${bytes} bytes aligned ${align} for ${name}`);
    const addr = (this.brk + align - 1) & ~(align - 1);
    if (addr + bytes > this.capacity) this.grow(addr + bytes, name);
    this.brk = addr + bytes;
    this.symbols.push({ addr, size: bytes, name });
    return addr;
  }

  private grow(needed: number, name: string): void {
    if (needed > MAX_MEMORY_BYTES) {
      throw new ConfigError(`simulated memory would exceed ${MAX_MEMORY_BYTES >>> 20} MiB allocating ${name}: the workload allocates without freeing`);
    }
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    this.values = growArray(this.values, capacity >>> WORD_SHIFT, 0);
    this.capacity = capacity;
    this.grown.notify(this.lineCount, undefined, undefined);
  }

  /** Reserves whole cachelines (`____cacheline_aligned`). */
  allocLines(name: string, lines = 1): number {
    return this.alloc(name, lines * LINE_BYTES, LINE_BYTES);
  }

  /** Functional read, outside simulated time (setup, checks, tests). */
  peek(addr: number): number {
    return this.values[addr >>> WORD_SHIFT];
  }

  /** Functional write, outside simulated time (initial values). */
  poke(addr: number, value: number): void {
    this.values[addr >>> WORD_SHIFT] = value;
  }

  /** "rq3.lock+4" for an address; used off the hot path only. */
  symbolize(addr: number): string {
    let lo = 0;
    let hi = this.symbols.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.symbols[mid];
      if (addr < s.addr) hi = mid - 1;
      else if (addr >= s.addr + s.size) lo = mid + 1;
      else return addr === s.addr ? s.name : `${s.name}+${addr - s.addr}`;
    }
    return `0x${addr.toString(16)}`;
  }

  /** The names of the variables on a line, e.g. "line 0x1c0 (cpu_tlbstate[3].loaded_mm, cpu_tlbstate[3].is_lazy)". */
  describeLine(line: number): string {
    const start = line << LINE_SHIFT;
    const end = start + LINE_BYTES;
    const names = this.symbols.filter((s) => s.addr < end && s.addr + s.size > start).map((s) => s.name);
    return `line 0x${start.toString(16)}${names.length > 0 ? ` (${names.join(', ')})` : ''}`;
  }
}

type NumberArray = Uint8Array | Int32Array | Uint32Array | Float64Array;

/** A copy of `a` at `length` elements, the new ones set to `fill` (per-line arrays when memory grows). */
export function growArray<T extends NumberArray>(a: T, length: number, fill: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}
