import { ConfigError } from '../lib/errors';

/** x86 cacheline size. */
export const LINE_BYTES = 64;
export const LINE_SHIFT = 6;
/** Values are kept per 4-byte word; an 8-byte variable (atomic64_t, a pointer) uses its first word. */
export const WORD_SHIFT = 2;

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
 */
export class SimMemory {
  readonly capacity: number;
  readonly values: Float64Array;
  private brk: number;
  private readonly symbols: Symbol[];

  constructor(capacityBytes = 1 << 20) {
    this.capacity = capacityBytes;
    this.values = new Float64Array(capacityBytes >>> WORD_SHIFT);
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
    if (addr + bytes > this.capacity) {
      throw new ConfigError(`simulated memory exhausted allocating ${name} (${bytes} bytes): raise memBytes above ${this.capacity}`);
    }
    this.brk = addr + bytes;
    this.symbols.push({ addr, size: bytes, name });
    return addr;
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
