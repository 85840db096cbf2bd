/** Sequence numbers per epoch: the low 16 bits of a key. */
const SEQ_BITS = 16;
const SEQ_LIMIT = 1 << SEQ_BITS;
const FRONT_KEY = 0;
const SIFT_KEY = 1;
const POP_TIME = 2;
/**
 * Offsets from `base` must stay below 2^37 cycles so that a key stays an exact integer (< 2^53):
 * no event can be scheduled further ahead of the pending ones (a trace replay checks its span).
 */
export const MAX_OFFSET = 2 ** (53 - SEQ_BITS);

/**
 * The future-event list: a binary min-heap ordered by (cycle, seq), where seq is the insertion
 * order, so same-cycle events run FIFO (SIM.JS's heap has no tie-break and is non-deterministic
 * there; docs/reference/simulator-anchors.md §3.1).
 *
 * Each event is one float64 key, `(cycle - base) * 2^16 + seq`, and two small integers of payload
 * (a handler id and an argument), in typed arrays: nothing is allocated per event, and a sift
 * moves two arrays instead of four. When the 2^16 sequence numbers of an epoch are used up, the
 * pending events are renumbered in order and `base` moves to the earliest of them; pending events
 * may then lie up to 2^37 cycles (about 55 simulated seconds at 2.5 GHz) ahead. Sifting moves a
 * hole instead of swapping, as in mourner/flatqueue. An event earlier than every pending one
 * waits in a front slot outside the heap: in `memcache` on 56 CPUs two pushes in three are such
 * (a resume a few cycles ahead), so most events never enter the heap.
 */
export class EventQueue {
  private keys: Float64Array;
  /** handler, arg pairs: payload[2i], payload[2i + 1]. */
  private payload: Int32Array;
  private base: number;
  private nextSeq: number;
  /** Number of pending events: the front slot's and the heap's. */
  size: number;
  private heapSize: number;
  /** The front slot: an event earlier than every one in the heap, kept out of it. */
  private hasFront: boolean;
  /**
   * The float64 state, in a typed array: keys and cycles past 2^31 are no small integers, and an
   * object field (or a call's float64 argument) boxes every new value, an allocation per event.
   * [FRONT_KEY] the front event's key, [SIFT_KEY] the key `siftUp` inserts, [POP_TIME] popTime.
   */
  private readonly f64: Float64Array;
  private frontHandler: number;
  private frontArg: number;
  /** Fields of the event last removed by `pop()` (its cycle is `popTime`). */
  popHandler: number;
  popArg: number;

  constructor(capacity = 1024) {
    this.keys = new Float64Array(capacity);
    this.payload = new Int32Array(2 * capacity);
    this.base = 0;
    this.nextSeq = 0;
    this.size = 0;
    this.heapSize = 0;
    this.hasFront = false;
    this.f64 = new Float64Array(3);
    this.frontHandler = 0;
    this.frontArg = 0;
    this.popHandler = 0;
    this.popArg = 0;
  }

  /** Cycle of the event last removed by `pop()`. */
  get popTime(): number {
    return this.f64[POP_TIME];
  }

  /** Cycle of the earliest pending event; only meaningful when size > 0. */
  peekTime(): number {
    return this.base + Math.floor((this.hasFront ? this.f64[FRONT_KEY] : this.keys[0]) / SEQ_LIMIT);
  }

  push(time: number, handler: number, arg: number): void {
    if (this.nextSeq === SEQ_LIMIT || time - this.base >= MAX_OFFSET) this.renumber(time);
    const key = (time - this.base) * SEQ_LIMIT + this.nextSeq++;
    this.size++;
    // Most events are scheduled a few cycles ahead, before everything pending: they wait in the
    // front slot and are popped without touching the heap.
    const f = this.f64;
    if (this.hasFront) {
      if (key < f[FRONT_KEY]) {
        f[SIFT_KEY] = f[FRONT_KEY];
        f[FRONT_KEY] = key;
        const h = this.frontHandler;
        const a = this.frontArg;
        this.frontHandler = handler;
        this.frontArg = arg;
        this.siftUp(h, a);
      } else {
        f[SIFT_KEY] = key;
        this.siftUp(handler, arg);
      }
    } else if (this.heapSize === 0 || key < this.keys[0]) {
      this.hasFront = true;
      f[FRONT_KEY] = key;
      this.frontHandler = handler;
      this.frontArg = arg;
    } else {
      f[SIFT_KEY] = key;
      this.siftUp(handler, arg);
    }
  }

  /** Puts the event whose key is in f64[SIFT_KEY] into the heap. */
  private siftUp(handler: number, arg: number): void {
    if (this.heapSize === this.keys.length) this.grow();
    const key = this.f64[SIFT_KEY];
    const k = this.keys;
    const p = this.payload;
    let pos = this.heapSize++;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const pk = k[parent];
      if (pk < key) break;
      k[pos] = pk;
      p[2 * pos] = p[2 * parent];
      p[2 * pos + 1] = p[2 * parent + 1];
      pos = parent;
    }
    k[pos] = key;
    p[2 * pos] = handler;
    p[2 * pos + 1] = arg;
  }

  /** Removes the earliest event into popTime/popHandler/popArg. The queue must not be empty. */
  pop(): void {
    this.size--;
    if (this.hasFront) {
      this.hasFront = false;
      this.f64[POP_TIME] = this.base + Math.floor(this.f64[FRONT_KEY] / SEQ_LIMIT);
      this.popHandler = this.frontHandler;
      this.popArg = this.frontArg;
      return;
    }
    const k = this.keys;
    const p = this.payload;
    this.f64[POP_TIME] = this.base + Math.floor(k[0] / SEQ_LIMIT);
    this.popHandler = p[0];
    this.popArg = p[1];
    const n = --this.heapSize;
    if (n === 0) return;
    const lastK = k[n];
    const lastH = p[2 * n];
    const lastA = p[2 * n + 1];
    let pos = 0;
    const half = n >> 1;
    while (pos < half) {
      let child = 2 * pos + 1;
      const right = child + 1;
      if (right < n && k[right] < k[child]) child = right;
      const ck = k[child];
      if (lastK < ck) break;
      k[pos] = ck;
      p[2 * pos] = p[2 * child];
      p[2 * pos + 1] = p[2 * child + 1];
      pos = child;
    }
    k[pos] = lastK;
    p[2 * pos] = lastH;
    p[2 * pos + 1] = lastA;
  }

  /**
   * Starts a new epoch: pending events keep their order but get sequence numbers 0..size-1, and
   * `base` moves to the earliest cycle among them and `time`. A sorted array is a valid heap;
   * the front slot's event goes back into it first.
   */
  private renumber(time: number): void {
    if (this.hasFront) {
      // Appended: the sort below puts it first.
      if (this.heapSize === this.keys.length) this.grow();
      this.keys[this.heapSize] = this.f64[FRONT_KEY];
      this.payload[2 * this.heapSize] = this.frontHandler;
      this.payload[2 * this.heapSize + 1] = this.frontArg;
      this.heapSize++;
      this.hasFront = false;
    }
    const n = this.heapSize;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.keys[a] - this.keys[b]);
    let newBase = time;
    const times = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      times[i] = this.base + Math.floor(this.keys[order[i]] / SEQ_LIMIT);
      if (times[i] < newBase) newBase = times[i];
    }
    if (time - newBase >= MAX_OFFSET || (n > 0 && times[n - 1] - newBase >= MAX_OFFSET)) {
      throw new RangeError(`event at cycle ${time} is more than 2^${53 - SEQ_BITS} cycles after pending events`);
    }
    const keys = new Float64Array(this.keys.length);
    const payload = new Int32Array(this.payload.length);
    for (let i = 0; i < n; i++) {
      keys[i] = (times[i] - newBase) * SEQ_LIMIT + i;
      payload[2 * i] = this.payload[2 * order[i]];
      payload[2 * i + 1] = this.payload[2 * order[i] + 1];
    }
    this.keys = keys;
    this.payload = payload;
    this.base = newBase;
    this.nextSeq = n;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    const payload = new Int32Array(this.payload.length * 2);
    keys.set(this.keys);
    payload.set(this.payload);
    this.keys = keys;
    this.payload = payload;
  }
}
