/**
 * One core's x86-TSO store buffer: a FIFO of (address, value). Stores retire into it and
 * become globally visible only when they drain, oldest first; the core's own loads forward from
 * its youngest matching entry (Owens, Sarkar, Sewell, "A better x86 memory model: x86-TSO",
 * TPHOLs 2009). A ring on typed arrays, so pushing and draining allocate nothing.
 */
export class StoreBuffer {
  readonly capacity: number;
  private readonly addrs: Float64Array;
  private readonly vals: Float64Array;
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
    this.head = 0;
    this.count = 0;
    this.draining = false;
    this.emptyWaiters = [];
    this.fullWaiters = [];
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  push(addr: number, value: number): void {
    let tail = this.head + this.count;
    if (tail >= this.capacity) tail -= this.capacity;
    this.addrs[tail] = addr;
    this.vals[tail] = value;
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

  valueAt(slot: number): number {
    return this.vals[slot];
  }

  headAddr(): number {
    return this.addrs[this.head];
  }

  headValue(): number {
    return this.vals[this.head];
  }

  shift(): void {
    this.head++;
    if (this.head === this.capacity) this.head = 0;
    this.count--;
  }
}
