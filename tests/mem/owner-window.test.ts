import type { Sim } from '../../lib/engine/ops';
import { Rng } from '../../lib/rng';
import { llistAddContention } from '../../bench/contention-run';
import { PARAMS as P, build, counter } from './util';

// CPU numbering of TOPO: cores 0-1 CCX0, 2-3 CCX1 (socket 0), 4-7 socket 1.
const CCX_OF_0 = 1;
const SOCKET_OF_0 = 2;

/**
 * cpu1 owns X in M. At cycle 1000 cpu0 CMPXCHGs X (0 -> 1) and, the moment it returns, X again
 * (1 -> 2); at 1001 cpu2 (another CCX) CMPXCHGs X expecting 1 (-> 9). Returns when each step ended
 * and what cpu2 found.
 */
function scenario(ownerWindow: number) {
  const { engine, k, memory, stats } = build(undefined, { ...P, ownerWindow });
  const x = memory.allocLines('X');
  const at = { first: 0, second: 0, cpu2: 0, cpu2Saw: -1 };
  engine.spawn('owner', CCX_OF_0, (function* (): Sim {
    yield k.store(x, 0);
    yield k.mfence();
  })());
  engine.spawn('cpu0', 0, (function* (): Sim {
    yield k.delay(1000);
    yield k.cmpxchg(x, 0, 1);
    at.first = engine.now;
    yield k.cmpxchg(x, 1, 2);
    at.second = engine.now;
  })());
  engine.spawn('cpu2', SOCKET_OF_0, (function* (): Sim {
    yield k.delay(1001);
    at.cpu2Saw = yield k.cmpxchg(x, 1, 9);
    at.cpu2 = engine.now;
  })());
  engine.run({ maxCycles: 1e6 });
  return { at, value: memory.peek(x), stats };
}

describe('OwnerWindow (machine parameter ownerWindow = 1, the profiles\' default)', () => {
  test('the CPU granted last keeps the line for half the next transfer: its immediate retry hits, and the waiting request takes effect after it', () => {
    const { at, value, stats } = scenario(1);
    expect(at.first).toBe(1000 + P.transferCcx + P.rmwLocal);
    expect(at.second - at.first).toBe(P.l1Hit + P.rmwLocal); // a hit, inside the window
    expect(at.cpu2Saw).toBe(2); // granted after both: cpu0's second CMPXCHG is in the value it read
    expect(value).toBe(2); // so its CMPXCHG (expecting 1) failed
    // Its snoop left when cpu0's directory transaction ended (cpu0's hit does not move it), and the
    // window it waited is not charged twice: it ends a transfer after that.
    expect(at.cpu2).toBe(at.first + P.transferSocket + P.rmwLocal);
    // Both cpu0's first CMPXCHG and cpu2's waited: a request takes effect when its snoop reaches the
    // line's holder (cpu1, then cpu0), even on an idle line; only cpu0's retry did not.
    expect(counter(stats, 'mem.ownerWindow.waits')).toBe(2);
  });

  test('without it (ownerWindow = 0), the waiting request took effect at issue, and cpu0 retries behind it', () => {
    const { at, value, stats } = scenario(0);
    expect(at.cpu2Saw).toBe(1); // it saw only cpu0's first CMPXCHG, and succeeded
    expect(value).toBe(9); // so cpu0's second one (expecting 1) failed
    expect(at.second - at.first).toBeGreaterThan(P.transferSocket); // a miss, queued behind cpu2
    expect(stats.find('mem.ownerWindow')).toBeUndefined();
  });

  test('llist_add by many CPUs at once: at most one failed CMPXCHG per add with the window, many more without', () => {
    const on = llistAddContention(28, 20, 0, 1);
    const off = llistAddContention(28, 20, 0, 0);
    expect(on.failedPerAdd).toBeLessThanOrEqual(1);
    expect(off.failedPerAdd).toBeGreaterThan(5);
    expect(on.addsPerUs).toBeGreaterThan(3 * off.addsPerUs);
  });

  test('random traffic on four lines from all 16 CPUs: every operation completes, increments add up, the directory stays single-writer', () => {
    const { engine, k, memory, coh } = build(undefined, { ...P, ownerWindow: 1 });
    const lines = [0, 1, 2, 3].map((i) => memory.allocLines(`L${i}`));
    const rng = new Rng('owner-window', 'plans');
    const plans = Array.from({ length: 16 }, () => Array.from({ length: 200 }, () => [rng.int(4), rng.int(4), rng.int(50)]));
    let done = 0;
    plans.forEach((plan, cpu) => engine.spawn(`t${cpu}`, cpu, (function* (): Sim {
      for (const [op, l, gap] of plan) {
        const a = lines[l];
        if (op === 0) yield k.load(a + 8);
        else if (op === 1) yield k.store(a + 8, cpu);
        else if (op === 2) yield k.xadd(a, 1);
        else {
          let v = yield k.load(a + 16);
          while ((yield k.cmpxchg(a + 16, v, v + 1)) !== v) v = yield k.load(a + 16);
        }
        if (gap > 0) yield k.delay(gap);
      }
      yield k.mfence();
      done++;
    })()));
    engine.run({ maxCycles: 1e8 });
    expect(done).toBe(16);
    const count = (op: number, l: number) => plans.reduce((n, plan) => n + plan.filter(([o, x]) => o === op && x === l).length, 0);
    lines.forEach((a, l) => {
      expect(memory.peek(a)).toBe(count(2, l)); // every LOCK XADD took effect once
      expect(memory.peek(a + 16)).toBe(count(3, l)); // every CMPXCHG loop added exactly one
      expect(coh.checkInvariant(a >>> 6)).toBeNull();
    });
  });

  test('an owner that keeps hitting (a failed-CAS spin) gives the line up once the waiter\'s snoop arrives: no starvation', () => {
    const { engine, k, memory } = build(undefined, { ...P, ownerWindow: 1 });
    const flag = memory.allocLines('flag');
    let trips = 0;
    const side = (mine: number, theirs: number) => (function* (): Sim {
      for (let i = 0; i < 50; i++) {
        while ((yield k.cmpxchg(flag, mine, theirs)) !== mine);
        trips++;
      }
    })();
    engine.spawn('ping', 0, side(0, 1));
    engine.spawn('pong', SOCKET_OF_0, side(1, 0));
    engine.run({ maxCycles: 1e6 });
    expect(trips).toBe(100);
    // Each hand-off is a transfer, plus at most the locked RMW the owner was in when the snoop came.
    expect(engine.now / 100).toBeLessThan(P.transferSocket + 2 * (P.rmwLocal + P.l1Hit) + 10);
  });
  test('an SMT sibling has no window: it is granted when the owner\'s failed CAS in progress ends, while another core waits for the snoop', () => {
    // cpu0 owns X and spins on failed CMPXCHGs from cycle 1000 (each a hit of l1Hit + rmwLocal);
    // at 1001 a requester CMPXCHGs X. TOPO: cpu8 is cpu0's sibling, cpu1 its CCX neighbour.
    const handOff = (requester: number) => {
      const { engine, k, memory } = build(undefined, { ...P, ownerWindow: 1 });
      const x = memory.allocLines('X');
      const at = { granted: 0, ownerOps: 0 };
      engine.spawn('owner', 0, (function* (): Sim {
        yield k.store(x, 0);
        yield k.mfence();
        yield k.delay(1000 - engine.now);
        while (at.granted === 0) {
          yield k.cmpxchg(x, 5, 6);
          at.ownerOps++;
        }
      })());
      engine.spawn('requester', requester, (function* (): Sim {
        yield k.delay(1001);
        yield k.cmpxchg(x, 0, 7);
        at.granted = engine.now;
      })());
      engine.run({ maxCycles: 1e6 });
      return at;
    };
    const op = P.l1Hit + P.rmwLocal;
    const sibling = handOff(8);
    expect(sibling.granted).toBe(1000 + op + P.transferSmt + P.rmwLocal); // only the op in progress
    // The neighbour's snoop reaches cpu0 half a transfer after 1001: cpu0's ops started before then hit.
    const neighbour = handOff(1);
    const arrives = 1001 + Math.floor(P.transferCcx / 2);
    const ownerEnd = 1000 + Math.ceil((arrives - 1000) / op) * op;
    expect(neighbour.granted).toBe(ownerEnd + P.transferCcx - Math.floor(P.transferCcx / 2) + P.rmwLocal);
  });
});
