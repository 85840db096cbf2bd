import type { Sim } from '../../lib/engine/ops';
import { WatchdogError } from '../../lib/errors';
import { PARAMS as P, build, counter } from './util';

describe('x86-TSO store buffer', () => {
  test('a store is invisible to other CPUs until it drains, and forwards to its own loads', () => {
    const { engine, k, memory, stats } = build();
    const x = memory.allocLines('x');
    let own = -1;
    let other = -1;
    function* writer(): Sim {
      yield k.store(x, 7);
      own = yield k.load(x); // forwarded from the own store buffer
    }
    function* reader(): Sim {
      other = yield k.load(x); // issued at cycle 0, before the drain: reads memory
    }
    engine.spawn('w', 0, writer());
    engine.spawn('r', 1, reader());
    engine.run();
    expect([own, other]).toEqual([7, 0]);
    expect(counter(stats, 'mem.forwarded')).toBe(1);
    expect(memory.peek(x)).toBe(7);
  });

  test('MFENCE waits for the drain; the store costs the GetM of a line another core owns', () => {
    const { engine, k, memory, stats } = build();
    const x = memory.allocLines('x');
    let done = -1;
    function* owner(): Sim {
      yield k.store(x, 1);
      yield k.mfence();
    }
    function* fenced(): Sim {
      yield k.delay(10_000);
      yield k.store(x, 2);
      yield k.mfence();
      done = engine.now;
    }
    engine.spawn('o', 1, owner());
    engine.spawn('f', 0, fenced());
    engine.run();
    // store retires (storeIssue), drains at once: Fwd_GetM from cpu1 in the same CCX; then MFENCE.
    expect(done).toBe(10_000 + P.storeIssue + P.transferCcx + P.mfence);
    expect(counter(stats, 'mem.fenceWaitCycles')).toBe(P.transferCcx + P.storeIssue + (P.memLatency - P.storeIssue));
  });

  test('a locked RMW drains the store buffer first and returns the old value', () => {
    const { engine, k, memory } = build();
    const x = memory.allocLines('x');
    const y = memory.alloc('y', 8);
    let got = -1;
    function* t(): Sim {
      yield k.store(y, 5);
      got = yield k.cmpxchg(x, 0, 9);
      const failed = yield k.cmpxchg(x, 0, 10);
      expect(failed).toBe(9);
    }
    engine.spawn('t', 0, t());
    engine.run();
    expect(got).toBe(0);
    expect(memory.peek(x)).toBe(9);
    expect(memory.peek(y)).toBe(5);
  });

  test('a full store buffer stalls the next store until an entry drains', () => {
    const { engine, k, memory, stats } = build();
    const base = memory.allocLines('arr', P.storeBufferEntries + 2);
    function* burst(): Sim {
      for (let i = 0; i < P.storeBufferEntries + 2; i++) yield k.store(base + 64 * i, i + 1);
    }
    engine.spawn('b', 0, burst());
    engine.run();
    expect(counter(stats, 'mem.sbStalls')).toBeGreaterThan(0);
    for (let i = 0; i < P.storeBufferEntries + 2; i++) expect(memory.peek(base + 64 * i)).toBe(i + 1);
  });
});

describe('spin-waits', () => {
  test('a spinner parks on the line (no event per poll) and pays the transfer when woken', () => {
    const { engine, k, memory, stats } = build();
    const flag = memory.allocLines('csd.flag');
    memory.poke(flag, 1);
    let released = -1;
    let observed = -1;
    function* waiter(): Sim {
      observed = yield k.spinUntilEq(flag, 0);
      released = engine.now;
    }
    function* releaser(): Sim {
      yield k.delay(1_000_000);
      yield k.store(flag, 0);
    }
    engine.spawn('waiter', 0, waiter());
    engine.spawn('releaser', 4, releaser()); // other socket
    const { events } = engine.run();
    expect(observed).toBe(0);
    expect(events).toBeLessThan(12);
    // The drain's Inv to the spinner (remote), then the spinner's re-read of the now-M line (remote).
    expect(released).toBe(1_000_000 + P.storeIssue + P.transferRemote + P.transferRemote);
    expect(counter(stats, 'mem.spinCycles')).toBe(released); // spinning since its first poll at cycle 0
  });

  test('a ticket lock: xadd for a ticket, spin for the turn; mutual exclusion holds', () => {
    const { engine, k, memory } = build();
    const next = memory.alloc('lock.next', 4);
    const owner = memory.alloc('lock.owner', 4);
    const counter = memory.allocLines('counter');
    let inside = 0;
    let maxInside = 0;
    function* worker(): Sim {
      for (let i = 0; i < 20; i++) {
        const ticket = yield k.xadd(next, 1);
        yield k.spinUntilEq(owner, ticket);
        inside++;
        maxInside = Math.max(maxInside, inside);
        const v = yield k.load(counter);
        yield k.delay(50);
        yield k.store(counter, v + 1);
        inside--;
        yield k.lockInc(owner); // release (drains the counter store first)
      }
    }
    for (const c of [0, 1, 2, 4, 9]) engine.spawn(`w${c}`, c, worker());
    engine.run();
    expect(maxInside).toBe(1);
    expect(memory.peek(counter)).toBe(100);
  });

  test('the watchdog names the spun-on variable when nobody will ever write it', () => {
    const { engine, k, memory } = build();
    const lock = memory.alloc('rq3.lock', 4);
    memory.poke(lock, 1);
    function* stuck(): Sim {
      yield k.spinUntilEq(lock, 0);
    }
    engine.spawn('schedule', 3, stuck());
    expect(() => engine.run()).toThrow(WatchdogError);
    expect(() => engine.run()).toThrow(/cpu3: 'schedule': spinning on \[rq3.lock\] until == 0 \(now 1\)/);
  });
});

describe('stores and XCHGs narrower than the word (byte and 16-bit MOV, 16-bit XCHG)', () => {
  test('a byte store merges into the word at its drain, and its own loads see the merge before', () => {
    const { engine, k, memory, stats } = build();
    const x = memory.allocLines('x');
    memory.poke(x, 0x00ab_0100); // another CPU's tail and pending bits
    const seen: number[] = [];
    function* writer(): Sim {
      yield k.storeBits(x, 0x1, 0xff); // the locked byte
      seen.push(yield k.load(x)); // forwarded: memory with the buffered byte applied
      yield k.storeBits(x, 0x0000, 0xffff); // then the locked and pending bytes together
      seen.push(yield k.load(x));
      yield k.mfence();
      seen.push(yield k.load(x));
    }
    let other = -1;
    function* reader(): Sim {
      other = yield k.load(x); // issued at cycle 0, before the drain
    }
    engine.spawn('r', 1, reader());
    engine.spawn('w', 0, writer());
    engine.run();
    expect([other, ...seen].map((v) => v.toString(16))).toEqual(['ab0100', 'ab0101', 'ab0000', 'ab0000']);
    expect(counter(stats, 'mem.forwarded')).toBe(2);
  });

  test('two byte stores to one word, both still buffered: a load sees both over memory, and so does memory once they drain', () => {
    const { engine, k, memory } = build();
    const x = memory.allocLines('x');
    memory.poke(x, 0xab00_0000);
    const seen: number[] = [];
    function* writer(): Sim {
      yield k.storeBits(x, 0x01, 0xff);
      yield k.storeBits(x, 0x0200, 0xff00);
      seen.push(yield k.load(x)); // the younger entry alone would give 0xab000200
      yield k.storeBits(x, 0x03, 0xff); // then a younger store to the first byte wins over the older
      seen.push(yield k.load(x));
      yield k.mfence();
      seen.push(yield k.load(x));
    }
    engine.spawn('w', 0, writer());
    engine.run();
    expect(seen.map((v) => v.toString(16))).toEqual(['ab000201', 'ab000203', 'ab000203']);
    expect(memory.peek(x)).toBe(0xab00_0203);
  });

  test('a narrower XCHG swaps its bits only and returns the old word; a byte store drained meanwhile survives it', () => {
    const { engine, k, memory } = build();
    const x = memory.allocLines('x');
    memory.poke(x, 0x0000_0001); // locked
    let old = -1;
    function* unlocker(): Sim {
      yield k.storeBits(x, 0, 0xff); // unlock: the locked byte only
    }
    function* queuer(): Sim {
      yield k.delay(500); // after the unlock has drained
      old = yield k.xchgBits(x, 0x0005_0000, 0xffff_0000); // publish a tail
    }
    engine.spawn('u', 0, unlocker());
    engine.spawn('q', 1, queuer());
    engine.run();
    expect([old, memory.peek(x)]).toEqual([0, 0x0005_0000]);
  });

  test('whatever the order, a byte store and a tail XCHG on one word both take effect', () => {
    for (const delay of [0, 1, 2, 5, 20, 100, 400]) {
      const { engine, k, memory } = build();
      const x = memory.allocLines('x');
      memory.poke(x, 0x0000_0101); // locked, pending
      function* a(): Sim {
        yield k.storeBits(x, 0x0001, 0xffff); // clear_pending_set_locked
      }
      function* b(): Sim {
        yield k.delay(delay);
        yield k.xchgBits(x, 0x0009_0000, 0xffff_0000);
      }
      engine.spawn('a', 0, a());
      engine.spawn('b', 4, b());
      engine.run();
      expect(memory.peek(x)).toBe(0x0009_0001);
    }
  });
});
