import { ConfigError } from '../lib/errors';

/**
 * A set of CPUs kept by the model itself, not in simulated memory: a task's `cpus_mask` (what
 * sched_setaffinity sets), or the CPUs a workload uses. Bits in 32-bit words of a typed array.
 * The simulated `struct cpumask` that kernel code reads and writes with cache traffic is
 * `Cpumask`; this one costs nothing to consult, as the scheduler's own reads of `p->cpus_ptr`
 * hit its L1.
 */
export class CpuSet {
  readonly nCpus: number;
  readonly words: Uint32Array;

  constructor(nCpus: number) {
    this.nCpus = nCpus;
    this.words = new Uint32Array(Math.ceil(nCpus / 32));
  }

  /** Every CPU of an `nCpus` machine. */
  static all(nCpus: number): CpuSet {
    const s = new CpuSet(nCpus);
    for (let c = 0; c < nCpus; c++) s.add(c);
    return s;
  }

  static of(nCpus: number, cpus: Iterable<number>): CpuSet {
    const s = new CpuSet(nCpus);
    for (const c of cpus) s.add(c);
    return s;
  }

  /**
   * Parses the kernel's cpulist format ("0-3,8,10-11", as in /sys and `taskset -c`).
   * @throws ConfigError naming `what` for malformed text or a CPU the machine does not have.
   */
  static parse(text: string, nCpus: number, what: string): CpuSet {
    const s = new CpuSet(nCpus);
    for (const part of text.split(',')) {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
      if (m === null) throw new ConfigError(`${what} = '${text}': expected a CPU list such as 0-3,8`);
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (hi < lo || hi >= nCpus) throw new ConfigError(`${what} = '${text}': CPUs must lie in 0-${nCpus - 1}, in increasing ranges`);
      for (let c = lo; c <= hi; c++) s.add(c);
    }
    return s;
  }

  has(cpu: number): boolean {
    return ((this.words[cpu >>> 5] >>> (cpu & 31)) & 1) === 1;
  }

  add(cpu: number): void {
    if (!(cpu >= 0 && cpu < this.nCpus)) throw new Error(`CPU ${cpu} is outside 0-${this.nCpus - 1}`);
    this.words[cpu >>> 5] |= 1 << (cpu & 31);
  }

  get size(): number {
    let n = 0;
    for (let w = 0; w < this.words.length; w++) {
      let x = this.words[w];
      while (x !== 0) {
        x &= x - 1;
        n++;
      }
    }
    return n;
  }

  /** The lowest CPU in the set, or -1. */
  first(): number {
    for (let w = 0; w < this.words.length; w++) {
      const x = this.words[w];
      if (x !== 0) return w * 32 + 31 - Math.clz32(x & -x);
    }
    return -1;
  }

  /** The CPUs in increasing order. */
  toArray(): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.nCpus; c++) if (this.has(c)) out.push(c);
    return out;
  }

  /** The cpulist form, e.g. "0-3,8". */
  toString(): string {
    const parts: string[] = [];
    const cpus = this.toArray();
    for (let i = 0; i < cpus.length; ) {
      let j = i;
      while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
      parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
      i = j + 1;
    }
    return parts.join(',');
  }
}
