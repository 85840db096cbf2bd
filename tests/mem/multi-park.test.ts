import type { Sim } from '../../lib/engine/ops';
import { counter, build } from './util';

/**
 * The multi-line park (mem/multi-park.ts): a polling loop over several lines costs one pass, then
 * events only when a watched line is written; the write wakes it at its completion, and the pass
 * that follows misses on the written line alone.
 */
describe('OP_SPIN_ANY, a spin-wait on several lines', () => {
  const WRITE_AT = 1000;

  /** CPU 0 polls three lines (or only the middle one, with a one-line spin); CPU 2 writes `value` into `target` at WRITE_AT. */
  function scenario(opts: { multi: boolean; target: number; value: number; unwatched?: boolean }) {
    const m = build();
    const { engine, memory, k, stats } = m;
    const words = [memory.allocLines('chan0'), memory.allocLines('chan1'), memory.allocLines('chan2')];
    const other = memory.allocLines('other');
    const set = m.mem.multi.watch('chans', words);
    const seen: Array<{ at: number; index: number }> = [];
    function* poller(): Sim {
      if (opts.multi) seen.push({ at: 0, index: yield k.spinUntilAnyChanged(set.id) });
      else seen.push({ at: 0, index: yield k.spinWhileEq(words[1], 0) });
      seen[0].at = engine.now;
    }
    function* writer(): Sim {
      yield k.delay(WRITE_AT);
      yield k.store(opts.unwatched === true ? other : words[opts.target], opts.value);
      yield k.mfence();
    }
    engine.spawn('poller', 0, poller(), 0, true);
    engine.spawn('writer', 2, writer());
    engine.run({ maxCycles: 1e6 });
    return { seen, events: engine.eventCount, parks: () => counter(stats, 'mem.multiPark.parks'), wakeups: () => counter(stats, 'mem.multiPark.wakeups'), mem: m };
  }

  test('a write to one line wakes the poller with its index, as soon as a one-line spin on that line would wake', () => {
    const multi = scenario({ multi: true, target: 1, value: 7 });
    const single = scenario({ multi: false, target: 1, value: 7 });
    expect(multi.seen).toHaveLength(1);
    expect(multi.seen[0].index).toBe(1);
    // The other two lines are L1 hits, overlapped with the miss on the written one.
    expect(multi.seen[0].at).toBe(single.seen[0].at);
    expect(multi.seen[0].at).toBeGreaterThan(WRITE_AT);
    expect(multi.parks()).toBe(1);
    expect(multi.wakeups()).toBe(1);
  });

  test('the first changed word in set order is reported, for any of the lines', () => {
    for (const target of [0, 2]) expect(scenario({ multi: true, target, value: 3 }).seen[0].index).toBe(target);
  });

  test('it costs events per write, not per pass', () => {
    // A pass per cycle would take over WRITE_AT events before the write.
    expect(scenario({ multi: true, target: 2, value: 1 }).events).toBeLessThan(40);
  });

  test('a write of the value already seen wakes it, and it parks again; a write elsewhere does not wake it', () => {
    const same = scenario({ multi: true, target: 0, value: 0 });
    expect(same.seen).toHaveLength(0);
    expect(same.wakeups()).toBe(1);
    expect(same.parks()).toBe(1);
    const elsewhere = scenario({ multi: true, target: 0, value: 9, unwatched: true });
    expect(elsewhere.seen).toHaveLength(0);
    expect(elsewhere.wakeups()).toBe(0);
  });

  test('a word that already differs from `seen` returns at once, without parking', () => {
    const { engine, memory, k, mem, stats } = build();
    const a = memory.allocLines('a');
    const b = memory.allocLines('b');
    memory.poke(b, 5);
    const set = mem.multi.watch('ab', [a, b]);
    let index = -1;
    engine.spawn('p', 1, (function* (): Sim {
      index = yield k.spinUntilAnyChanged(set.id);
    })());
    engine.run({ maxCycles: 1e5 });
    expect(index).toBe(1);
    expect(counter(stats, 'mem.multiPark.parks')).toBe(0);
  });

  test('two pollers with overlapping sets both wake on a shared line', () => {
    const { engine, memory, k, mem } = build();
    const [x, y, z] = [memory.allocLines('x'), memory.allocLines('y'), memory.allocLines('z')];
    const s1 = mem.multi.watch('xy', [x, y]);
    const s2 = mem.multi.watch('yz', [y, z]);
    const got: string[] = [];
    for (const [name, cpu, s] of [['p1', 0, s1], ['p2', 4, s2]] as const) {
      engine.spawn(name, cpu, (function* (): Sim {
        got.push(`${name}:${yield k.spinUntilAnyChanged(s.id)}`);
      })(), 0, true);
    }
    engine.spawn('w', 2, (function* (): Sim {
      yield k.delay(500);
      yield k.store(y, 1);
      yield k.mfence();
    })());
    engine.run({ maxCycles: 1e5 });
    expect(got.sort()).toEqual(['p1:1', 'p2:0']);
    expect(mem.multi.parked).toBe(0);
  });

  test('a run that never calls watch registers no stats (runs before the park are unchanged)', () => {
    const { stats } = build();
    expect(stats.find('mem.multiPark')).toBeUndefined();
  });
});
