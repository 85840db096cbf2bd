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
