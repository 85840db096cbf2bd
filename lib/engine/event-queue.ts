/**
 * The future-event list: a binary min-heap on parallel typed arrays, ordered by (cycle, seq).
 *
 * An event is two small integers, a handler id and an argument (a process id, a CPU number), so
 * nothing is allocated per event. The sequence number breaks ties in insertion order, which
 * makes same-cycle events run FIFO; SIM.JS's heap has no tie-break and is non-deterministic there
 * (reference/simulator-anchors.md §3.1). Sifting moves a "hole" instead of swapping, as in
 * mourner/flatqueue. Capacity doubles when full; in steady state nothing is allocated.
 */
export class EventQueue {
  private time: Float64Array;
  private seq: Float64Array;
  private handler: Int32Array;
  private arg: Int32Array;
  private nextSeq: number;
  /** Number of pending events. */
  size: number;
  /** Fields of the event last removed by `pop()`. */
  popTime: number;
  popHandler: number;
  popArg: number;

  constructor(capacity = 1024) {
    this.time = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.handler = new Int32Array(capacity);
    this.arg = new Int32Array(capacity);
    this.nextSeq = 0;
    this.size = 0;
    this.popTime = 0;
    this.popHandler = 0;
    this.popArg = 0;
  }

  /** Cycle of the earliest pending event; only meaningful when size > 0. */
  peekTime(): number {
    return this.time[0];
  }

  push(time: number, handler: number, arg: number): void {
    if (this.size === this.time.length) this.grow();
    const seq = this.nextSeq++;
    const t = this.time, s = this.seq, h = this.handler, a = this.arg;
    let pos = this.size++;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const pt = t[parent];
      if (pt < time || (pt === time && s[parent] < seq)) break;
      t[pos] = pt;
      s[pos] = s[parent];
      h[pos] = h[parent];
      a[pos] = a[parent];
      pos = parent;
    }
    t[pos] = time;
    s[pos] = seq;
    h[pos] = handler;
    a[pos] = arg;
  }

  /** Removes the earliest event into popTime/popHandler/popArg. The queue must not be empty. */
  pop(): void {
    const t = this.time, s = this.seq, h = this.handler, a = this.arg;
    this.popTime = t[0];
    this.popHandler = h[0];
    this.popArg = a[0];
    const n = --this.size;
    if (n === 0) return;
    const lastT = t[n], lastS = s[n], lastH = h[n], lastA = a[n];
    let pos = 0;
    const half = n >> 1;
    while (pos < half) {
      let child = 2 * pos + 1;
      const right = child + 1;
      if (right < n && (t[right] < t[child] || (t[right] === t[child] && s[right] < s[child]))) child = right;
      const ct = t[child];
      if (lastT < ct || (lastT === ct && lastS < s[child])) break;
      t[pos] = ct;
      s[pos] = s[child];
      h[pos] = h[child];
      a[pos] = a[child];
      pos = child;
    }
    t[pos] = lastT;
    s[pos] = lastS;
    h[pos] = lastH;
    a[pos] = lastA;
  }

  clear(): void {
    this.size = 0;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const t = new Float64Array(cap), s = new Float64Array(cap);
    const h = new Int32Array(cap), a = new Int32Array(cap);
    t.set(this.time);
    s.set(this.seq);
    h.set(this.handler);
    a.set(this.arg);
    this.time = t;
    this.seq = s;
    this.handler = h;
    this.arg = a;
  }
}
