import { Engine } from '../../../lib/engine/engine';
import type { Ops, Sim } from '../../../lib/engine/ops';
import { StepCall, type SimCall } from '../../../lib/engine/step-call';

/** delay(d); delay(d); return 2 * d, as a step machine. */
class TwoDelays extends StepCall<number> {
  private ops: Ops | null = null;
  private d = 0;

  start(ops: Ops, d: number): this {
    this.ops = ops;
    this.d = d;
    return this;
  }

  next(_v: number): IteratorResult<number, number> {
    const ops = this.ops as Ops;
    switch (this.pc) {
      case 0:
        return this.yieldOp(ops.delay(this.d), 1);
      case 1:
        return this.yieldOp(ops.delay(this.d), 2);
      default:
        return this.finish(2 * this.d);
    }
  }
}

describe('StepCall', () => {
  test('a step machine runs under yield* like a generator: same times, same return value', () => {
    const pool: TwoDelays[] = [];
    const call = (ops: Ops, d: number): SimCall<number> => (pool.pop() ?? new TwoDelays(pool as StepCall<number>[])).start(ops, d);
    function* asGenerator(ops: Ops, d: number): Sim<number> {
      yield ops.delay(d);
      yield ops.delay(d);
      return 2 * d;
    }
    const times = (f: (ops: Ops, d: number) => SimCall<number>): number[] => {
      const e = new Engine();
      const log: number[] = [];
      function* caller(): Sim {
        log.push(yield* f(e.ops, 3), e.now);
        log.push(yield* f(e.ops, 5), e.now);
      }
      e.spawn('a', 0, caller());
      e.spawn('b', 1, caller());
      e.run();
      return log;
    };
    expect(times(call)).toEqual([6, 6, 6, 6, 10, 16, 10, 16]);
    expect(times(call)).toEqual(times(asGenerator));
  });

  test('a finished call goes back to its pool, and the next call reuses it and its result object', () => {
    const pool: TwoDelays[] = [];
    const e = new Engine();
    const seen: unknown[] = [];
    const results: unknown[] = [];
    function* caller(): Sim {
      for (let i = 0; i < 3; i++) {
        const c = (pool.pop() ?? new TwoDelays(pool as StepCall<number>[])).start(e.ops, 1);
        seen.push(c);
        // Delegates to the call, noting every result object it hands back.
        const noting: Iterator<number, number, number> = { next: (v: number) => { const r = c.next(v); results.push(r); return r; } };
        yield* { [Symbol.iterator]: () => noting };
      }
    }
    e.spawn('a', 0, caller());
    e.run();
    expect(new Set(seen).size).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(pool).toHaveLength(1);
  });
});
