import { EventQueue } from '../../../lib/engine/event-queue';
import { RngStreams } from '../../../lib/rng';

describe('EventQueue', () => {
  test('pops in (cycle, insertion) order, same-cycle events FIFO', () => {
    const q = new EventQueue(2); // tiny, to force growth
    const rng = new RngStreams(7).stream('test.queue');
    const pushed: Array<[number, number]> = [];
    for (let i = 0; i < 5000; i++) {
      const t = rng.int(50);
      q.push(t, 1, i);
      pushed.push([t, i]);
    }
    const expected = [...pushed].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const got: Array<[number, number]> = [];
    while (q.size > 0) {
      q.pop();
      got.push([q.popTime, q.popArg]);
    }
    expect(got).toEqual(expected);
  });

  test('interleaved pushes and pops keep the order', () => {
    const q = new EventQueue();
    const rng = new RngStreams(3).stream('test.queue');
    let now = 0;
    let lastSeqAtNow = -1;
    let n = 0;
    q.push(0, 0, n++);
    for (let i = 0; i < 20000 && q.size > 0; i++) {
      q.pop();
      expect(q.popTime).toBeGreaterThanOrEqual(now);
      if (q.popTime === now) expect(q.popArg).toBeGreaterThan(lastSeqAtNow);
      now = q.popTime;
      lastSeqAtNow = q.popArg;
      const k = rng.int(3);
      for (let j = 0; j < k; j++) q.push(now + rng.int(4), 0, n++);
    }
  });
});

describe('EventQueue front slot', () => {
  test('an event earlier than all pending ones skips the heap, and the order is still (cycle, insertion)', () => {
    // A reference: a plain array kept sorted by (cycle, insertion). The pushes are like the
    // model's: mostly a few cycles ahead of now, so most become the new earliest event.
    const q = new EventQueue(4);
    const ref: Array<[number, number]> = [];
    const rng = new RngStreams(13).stream('test.queue');
    let id = 0;
    let now = 0;
    const push = (t: number): void => {
      q.push(t, 0, id);
      let i = ref.length;
      while (i > 0 && ref[i - 1][0] > t) i--;
      ref.splice(i, 0, [t, id++]);
    };
    for (let i = 0; i < 20; i++) push(rng.int(100));
    for (let i = 0; i < 100_000; i++) {
      q.pop();
      const [t, a] = ref.shift() as [number, number];
      if (q.popTime !== t || q.popArg !== a) throw new Error(`pop ${i}: got ${q.popArg} at ${q.popTime}, expected ${a} at ${t}`);
      now = t;
      const n = ref.length < 20 ? 2 : rng.int(2);
      for (let j = 0; j < n; j++) push(now + (rng.int(4) === 0 ? rng.int(200) : rng.int(3)));
      if (q.size !== ref.length) throw new Error(`size ${q.size}, expected ${ref.length}`);
    }
    expect(id).toBeGreaterThan(100_000);
  });
});

describe('EventQueue epochs', () => {
  test('FIFO order survives sequence renumbering across many epochs', () => {
    const q = new EventQueue(4);
    const rng = new RngStreams(11).stream('test.queue');
    let now = 0;
    let lastArgAt = new Map<number, number>();
    let id = 0;
    for (let i = 0; i < 64; i++) q.push(rng.int(10), 0, id++);
    // 300,000 hold operations: several 2^16-push epochs.
    for (let i = 0; i < 300_000; i++) {
      q.pop();
      if (q.popTime < now) throw new Error(`time went back at ${q.popTime}`);
      if (q.popTime > now) lastArgAt = new Map();
      const prev = lastArgAt.get(q.popTime);
      if (prev !== undefined && !(q.popArg > prev)) throw new Error(`FIFO broken at ${q.popTime}`);
      lastArgAt.set(q.popTime, q.popArg);
      now = q.popTime;
      q.push(now + rng.int(3), 0, id++);
    }
  });

  test('far-future events are kept exactly, and absurdly far ones are refused', () => {
    const q = new EventQueue();
    q.push(5, 1, 1);
    q.push(2 ** 36, 1, 2);
    for (let i = 0; i < 70_000; i++) {
      q.push(10, 0, i);
      q.pop();
    }
    q.pop();
    expect([q.popTime, q.popArg]).toEqual([10, 69_999]);
    q.pop();
    expect([q.popTime, q.popArg]).toEqual([2 ** 36, 2]);
    q.push(2 ** 36 + 1, 0, 3);
    expect(() => q.push(2 ** 36 + 2 ** 38, 0, 4)).toThrow(RangeError);
  });
});
