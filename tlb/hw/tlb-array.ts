/**
 * One set-associative TLB level with LRU replacement, on typed arrays. An entry is keyed by
 * (ASID, virtual page) and remembers the PTE version it was filled from, which is what the
 * oracle compares against the page tables, and the ctx_id of the address space whose walk filled
 * it (hardware does not know it; the oracle does, to catch an entry used by another mm that
 * reuses its PCID).
 */
const ASID_SHIFT = 2 ** 36;

export class TlbArray {
  readonly sets: number;
  readonly ways: number;
  /** asid * 2^36 + vpn, or -1 for an empty way. */
  private readonly keys: Float64Array;
  private readonly versions: Float64Array;
  private readonly owners: Float64Array;
  private readonly stamps: Float64Array;
  /**
   * The valid entries of each ASID, as a doubly linked list through the ways (`head[asid]`, then
   * `next`; -1 ends it): a flush of one ASID visits its own entries only, however large the TLB.
   */
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private clock: number;
  /** The version and owner found by the last successful `lookup`. */
  version: number;
  owner: number;

  /** `asids`: how many ASIDs tag entries (PCIDs and the global one). */
  constructor(entries: number, ways: number, asids: number) {
    this.ways = ways;
    this.sets = entries / ways;
    this.keys = new Float64Array(entries).fill(-1);
    this.versions = new Float64Array(entries);
    this.owners = new Float64Array(entries);
    this.stamps = new Float64Array(entries);
    this.head = new Int32Array(asids).fill(-1);
    this.next = new Int32Array(entries);
    this.prev = new Int32Array(entries);
    this.clock = 0;
    this.version = 0;
    this.owner = 0;
  }

  lookup(asid: number, vpn: number): boolean {
    const key = asid * ASID_SHIFT + vpn;
    const base = (vpn % this.sets) * this.ways;
    for (let w = base; w < base + this.ways; w++) {
      if (this.keys[w] === key) {
        this.stamps[w] = ++this.clock;
        this.version = this.versions[w];
        this.owner = this.owners[w];
        return true;
      }
    }
    return false;
  }

  /**
   * Whether any PCID holds an entry for `vpn` filled by address space `owner` from a PTE value
   * below `pte`. For the oracle: no LRU update, nothing counted.
   */
  holdsOlder(vpn: number, owner: number, pte: number): boolean {
    const base = (vpn % this.sets) * this.ways;
    for (let w = base; w < base + this.ways; w++) {
      const key = this.keys[w];
      if (key !== -1 && key % ASID_SHIFT === vpn && this.owners[w] === owner && this.versions[w] < pte) return true;
    }
    return false;
  }

  fill(asid: number, vpn: number, version: number, owner: number): void {
    const key = asid * ASID_SHIFT + vpn;
    const base = (vpn % this.sets) * this.ways;
    let victim = base;
    for (let w = base; w < base + this.ways; w++) {
      if (this.keys[w] === key || this.keys[w] === -1) {
        victim = w;
        break;
      }
      if (this.stamps[w] < this.stamps[victim]) victim = w;
    }
    const old = this.keys[victim];
    if (old !== -1) this.unlink(Math.floor(old / ASID_SHIFT), victim);
    this.link(asid, victim);
    this.keys[victim] = key;
    this.versions[victim] = version;
    this.owners[victim] = owner;
    this.stamps[victim] = ++this.clock;
  }

  invalidatePage(asid: number, vpn: number): void {
    const key = asid * ASID_SHIFT + vpn;
    const base = (vpn % this.sets) * this.ways;
    for (let w = base; w < base + this.ways; w++) {
      if (this.keys[w] === key) {
        this.keys[w] = -1;
        this.unlink(asid, w);
      }
    }
  }

  /** Drops every entry of one ASID (a CR3 write that flushes, INVPCID single-context). */
  flushAsid(asid: number): void {
    for (let i = this.head[asid]; i !== -1; i = this.next[i]) this.keys[i] = -1;
    this.head[asid] = -1;
  }

  /** Drops everything (a CR3 write without PCID support flushes all non-global entries). */
  flushAll(): void {
    this.keys.fill(-1);
    this.head.fill(-1);
  }

  /** Drops every entry whose ASID is below `asid` (the global entries sit above every PCID). */
  flushAsidsBelow(asid: number): void {
    const hi = asid * ASID_SHIFT;
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] < hi) keys[i] = -1;
    this.head.fill(-1, 0, asid);
  }

  private link(asid: number, i: number): void {
    const h = this.head[asid];
    this.next[i] = h;
    this.prev[i] = -1;
    if (h !== -1) this.prev[h] = i;
    this.head[asid] = i;
  }

  private unlink(asid: number, i: number): void {
    const n = this.next[i];
    const p = this.prev[i];
    if (p !== -1) this.next[p] = n;
    else this.head[asid] = n;
    if (n !== -1) this.prev[n] = p;
  }
}
