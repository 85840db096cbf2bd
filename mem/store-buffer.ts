/**
 * One core's x86-TSO store buffer: a FIFO of (address, value). Stores retire into it and
 * become globally visible only when they drain, oldest first; the core's own loads forward from
 * its youngest matching entry (Owens, Sarkar, Sewell, "A better x86 memory model: x86-TSO",
 * TPHOLs 2009). A ring on typed arrays, so pushing and draining allocate nothing.
 *
 * An entry may be narrower than the word (a byte or 16-bit MOV, e.g. a qspinlock's `locked`
 * byte): its mask says which bits it writes, and 0 means the whole word. Draining merges it into
 * the word; a load forwards the word as this core sees it, memory with every own entry for it
 * applied oldest first (hardware stalls such a load until the stores drain; the value is the same).
 */
export class StoreBuffer {
  readonly capacity: number;
  private readonly addrs: Float64Array;
  private readonly vals: Float64Array;
  /** Per entry: the bits it writes (a 32-bit mask), or 0 for the whole word. */
  private readonly masks: Float64Array;
  private head: number;
  count: number;
  /** A drain event is scheduled or in flight. */
  draining: boolean;
  /**
   * Processes blocked until the buffer is empty (MFENCE, a locked RMW, a serializing op), and
   * processes whose store found it full, oldest first. Usually one at most: a CPU runs one
   * context, but a context beside it (Intel RAR's microcode, tlb/hw/rar.ts) can wait too.
   */
  readonly emptyWaiters: number[];
  readonly fullWaiters: number[];

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new Error(`store buffer needs at least one entry, got ${capacity}`);
    this.capacity = capacity;
    this.addrs = new Float64Array(capacity);
    this.vals = new Float64Array(capacity);
    this.masks = new Float64Array(capacity);
    this.head = 0;
    this.count = 0;
    this.draining = false;
    this.emptyWaiters = [];
    this.fullWaiters = [];
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  push(addr: number, value: number, mask: number): void {
    let tail = this.head + this.count;
    if (tail >= this.capacity) tail -= this.capacity;
    this.addrs[tail] = addr;
    this.vals[tail] = value;
    this.masks[tail] = mask;
    this.count++;
  }

  /** Index of the youngest entry for `addr`, or -1 (store-to-load forwarding). */
  find(addr: number): number {
    for (let i = this.count - 1; i >= 0; i--) {
      let slot = this.head + i;
      if (slot >= this.capacity) slot -= this.capacity;
      if (this.addrs[slot] === addr) return slot;
    }
    return -1;
  }

  /** The word at the address of entry `slot` (its youngest) as this core sees it; `word` is the
   *  value in memory. */
  valueAt(slot: number, word: number): number {
    if (this.masks[slot] === 0) return this.vals[slot];
    const addr = this.addrs[slot];
    let v = word;
    for (let i = 0; i < this.count; i++) {
      let e = this.head + i;
      if (e >= this.capacity) e -= this.capacity;
      if (this.addrs[e] === addr) v = mergeStore(v, this.vals[e], this.masks[e]);
    }
    return v;
  }

  headAddr(): number {
    return this.addrs[this.head];
  }

  /** The oldest entry merged into `word`, its address's value in memory. */
  headMerged(word: number): number {
    return mergeStore(word, this.vals[this.head], this.masks[this.head]);
  }

  shift(): void {
    this.head++;
    if (this.head === this.capacity) this.head = 0;
    this.count--;
  }
}

/** `word` after a store of `value` to the bits of `mask` (0: the whole word). */
export function mergeStore(word: number, value: number, mask: number): number {
  return mask === 0 ? value : ((word & ~mask) | (value & mask)) >>> 0;
}
