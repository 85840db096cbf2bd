import { LINE_BYTES, type SimMemory } from '../../mem/memory';

/** One field of a kernel struct: its size in bytes, and whether it starts a new cacheline. */
export interface FieldSpec {
  readonly name: string;
  readonly bytes: number;
  /** `____cacheline_aligned`: the field (and what follows) starts on a new line. */
  readonly lineAligned?: boolean;
}

/**
 * A per-CPU kernel struct (DEFINE_PER_CPU_SHARED_ALIGNED), laid out as the C compiler would:
 * fields in order at their natural alignment, line-aligned ones on a new line. Each CPU's copy
 * lives in its own per-CPU area, so copies of different CPUs never share a line, while fields of
 * one copy share lines exactly as in the kernel version being modelled: that is where false
 * sharing comes from (`is_lazy` beside `loaded_mm` before 5.13, on its own line after).
 */
export class PerCpuStruct {
  readonly name: string;
  readonly size: number;
  private readonly offsets: Map<string, number>;
  private readonly bases: number[];

  constructor(memory: SimMemory, name: string, nCpus: number, fields: readonly FieldSpec[]) {
    this.name = name;
    this.offsets = new Map();
    let off = 0;
    for (const f of fields) {
      const align = f.lineAligned === true ? LINE_BYTES : Math.min(f.bytes, 8);
      off = Math.ceil(off / align) * align;
      if (this.offsets.has(f.name)) throw new Error(`${name}: duplicate field ${f.name}`);
      this.offsets.set(f.name, off);
      off += f.bytes;
    }
    this.size = Math.ceil(off / LINE_BYTES) * LINE_BYTES;
    this.bases = [];
    for (let c = 0; c < nCpus; c++) this.bases.push(memory.alloc(`${name}[${c}]`, this.size, LINE_BYTES));
  }

  /** Address of `per_cpu(name.field, cpu)`. */
  addr(cpu: number, field: string): number {
    return this.bases[cpu] + this.offset(field);
  }

  /** Where `field` sits in the struct: hot paths look it up once and add it to `base(cpu)`. */
  offset(field: string): number {
    const off = this.offsets.get(field);
    if (off === undefined) throw new Error(`${this.name} has no field ${field}`);
    return off;
  }

  /** Address of CPU `cpu`'s copy (`per_cpu_ptr(&name, cpu)`). */
  base(cpu: number): number {
    return this.bases[cpu];
  }

  /** Which line of the struct a field is on (0-based), for tests of the layout. */
  lineOf(field: string): number {
    return Math.floor((this.offsets.get(field) as number) / LINE_BYTES);
  }
}
