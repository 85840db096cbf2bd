import type { Ops, Sim } from '../lib/engine/ops';
import { LINE_BYTES, WORD_SHIFT, type SimMemory } from '../mem/memory';

/** Bits per cpumask word: bitwise RMWs act on 32-bit words (see `SimMemory`). */
export const CPUMASK_WORD_BITS = 32;
/** CPUs per 64-byte line: 16 words of 32 bits. */
export const CPUS_PER_LINE = (LINE_BYTES / 4) * CPUMASK_WORD_BITS;

/**
 * A `struct cpumask` in simulated memory: nCpus bits in 32-bit words, 512 CPUs per line, on
 * lines of its own (`cpumask_var_t` from `zalloc_cpumask_var_node`) unless an address is given
 * (a mask embedded in a larger object, e.g. `mm_cpumask`).
 *
 * Two kinds of helpers:
 * - functional (`set/clear/test/forEach/clearAll/weight`): `peek/poke`, outside simulated time,
 *   for setup, checks, and a CPU's own private scratch masks (`cfd->cpumask`, `cpumask_ipi`:
 *   `__cpumask_set_cpu` on a line only its owner touches costs a store-buffer slot and nothing
 *   the coherence model would see; `sendIpiMask` reads the values directly, so they must not
 *   sit in a store buffer).
 * - simulated (`*setBit/*clearBit/*testBit/*loadCpus`): `cpumask_set_cpu` = LOCK BTS,
 *   `cpumask_clear_cpu` = LOCK BTR, `cpumask_test_cpu` = a load, `for_each_cpu` = a load per
 *   word, for shared masks.
 */
export class Cpumask {
  readonly name: string;
  readonly addr: number;
  readonly nCpus: number;
  readonly nWords: number;
  private readonly memory: SimMemory;

  constructor(memory: SimMemory, name: string, nCpus: number, addr?: number) {
    if (!(nCpus >= 1) || !Number.isInteger(nCpus)) throw new Error(`cpumask ${name}: bad nCpus ${nCpus}`);
    this.name = name;
    this.memory = memory;
    this.nCpus = nCpus;
    this.nWords = Math.ceil(nCpus / CPUMASK_WORD_BITS);
    this.addr = addr ?? memory.allocLines(name, Math.ceil(nCpus / CPUS_PER_LINE));
    if ((this.addr & 3) !== 0) throw new Error(`cpumask ${name}: address 0x${this.addr.toString(16)} is not word aligned`);
  }

  /** Byte address of the word holding `cpu`'s bit. */
  wordAddr(cpu: number): number {
    this.check(cpu);
    return this.addr + ((cpu >>> 5) << WORD_SHIFT);
  }

  /** `cpu`'s bit number inside its word. */
  static bit(cpu: number): number {
    return cpu & (CPUMASK_WORD_BITS - 1);
  }

  // --- functional (outside simulated time) ---

  set(cpu: number): void {
    const a = this.wordAddr(cpu);
    this.memory.poke(a, (this.memory.peek(a) | (1 << Cpumask.bit(cpu))) >>> 0);
  }

  clear(cpu: number): void {
    const a = this.wordAddr(cpu);
    this.memory.poke(a, (this.memory.peek(a) & ~(1 << Cpumask.bit(cpu))) >>> 0);
  }

  test(cpu: number): boolean {
    return ((this.memory.peek(this.wordAddr(cpu)) >>> Cpumask.bit(cpu)) & 1) === 1;
  }

  clearAll(): void {
    for (let w = 0; w < this.nWords; w++) this.memory.poke(this.addr + (w << WORD_SHIFT), 0);
  }

  /** Makes the mask exactly `cpus`. */
  assign(cpus: Iterable<number>): void {
    this.clearAll();
    for (const c of cpus) this.set(c);
  }

  /** `for_each_cpu`: calls `fn` for every set bit, lowest CPU first. */
  forEach(fn: (cpu: number) => void): void {
    for (let w = 0; w < this.nWords; w++) {
      let bits = this.memory.peek(this.addr + (w << WORD_SHIFT)) >>> 0;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits = (bits & (bits - 1)) >>> 0;
        const cpu = w * CPUMASK_WORD_BITS + b;
        if (cpu < this.nCpus) fn(cpu);
      }
    }
  }

  /** The set CPUs, lowest first. */
  toArray(): number[] {
    const out: number[] = [];
    this.forEach((c) => out.push(c));
    return out;
  }

  /** `cpumask_any_but(mask, cpu) < nr_cpu_ids`: another CPU is set. */
  anyBut(cpu: number): boolean {
    for (let w = 0; w < this.nWords; w++) {
      let bits = this.memory.peek(this.addr + (w << WORD_SHIFT)) >>> 0;
      if (w === cpu >>> 5) bits = (bits & ~(1 << Cpumask.bit(cpu))) >>> 0;
      if (bits !== 0) return true;
    }
    return false;
  }

  /** `cpumask_weight`. */
  weight(): number {
    let n = 0;
    this.forEach(() => n++);
    return n;
  }

  // --- simulated code ---

  /** `cpumask_set_cpu` (set_bit: LOCK BTS) → the old bit. */
  *setBit(k: Ops, cpu: number): Sim<boolean> {
    return (yield k.lockBts(this.wordAddr(cpu), Cpumask.bit(cpu))) !== 0;
  }

  /** `cpumask_clear_cpu` (clear_bit: LOCK BTR) → the old bit. */
  *clearBit(k: Ops, cpu: number): Sim<boolean> {
    return (yield k.lockBtr(this.wordAddr(cpu), Cpumask.bit(cpu))) !== 0;
  }

  /** Reads the whole mask with loads (`for_each_cpu`, `cpumask_and` on a shared mask such as
   *  `mm_cpumask`) → the set CPUs, lowest first. */
  *loadCpus(k: Ops): Sim<number[]> {
    const out: number[] = [];
    for (let w = 0; w < this.nWords; w++) {
      let bits = (yield k.load(this.addr + (w << WORD_SHIFT))) >>> 0;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits = (bits & (bits - 1)) >>> 0;
        const cpu = w * CPUMASK_WORD_BITS + b;
        if (cpu < this.nCpus) out.push(cpu);
      }
    }
    return out;
  }

  /** `cpumask_test_cpu` (test_bit: one load). */
  *testBit(k: Ops, cpu: number): Sim<boolean> {
    const w = yield k.load(this.wordAddr(cpu));
    return ((w >>> Cpumask.bit(cpu)) & 1) === 1;
  }

  private check(cpu: number): void {
    if (!(cpu >= 0 && cpu < this.nCpus) || !Number.isInteger(cpu)) throw new RangeError(`cpumask ${this.name}: no cpu ${cpu} (nCpus ${this.nCpus})`);
  }
}
