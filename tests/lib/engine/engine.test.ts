import { Engine, type OpExecutor } from '../../../lib/engine/engine';
import { type Ops, type Sim } from '../../../lib/engine/ops';
import { type Process } from '../../../lib/engine/process';
import { WatchdogError } from '../../../lib/errors';

describe('Engine', () => {
  test('processes run their delays in simulated time, same-cycle resumes in FIFO order', () => {
    const e = new Engine();
    const log: string[] = [];
    function* worker(name: string, steps: number[]): Sim<number> {
      for (const d of steps) {
        yield e.ops.delay(d);
        log.push(`${name}@${e.now}`);
      }
      return steps.length;
    }
    const a = e.spawn('a', 0, worker('a', [5, 5, 10]));
    const b = e.spawn('b', 1, worker('b', [10, 10]));
    const s = e.run();
    expect(s.stoppedBy).toBe('idle');
    expect(s.cycles).toBe(20);
    // b scheduled its cycle-10 resume first (at cycle 0), so it runs first at 10 and at 20.
    expect(log).toEqual(['a@5', 'b@10', 'a@10', 'b@20', 'a@20']);
    expect(a.result).toBe(3);
    expect(b.endCycle).toBe(20);
  });

  test('yield* calls between simulated functions return values', () => {
    const e = new Engine();
    function* callee(x: number): Sim<number> {
      yield e.ops.delay(x);
      return x * 2;
    }
    function* caller(): Sim<number> {
      const y = yield* callee(3);
      const z = yield* callee(y);
      return z;
    }
    const p = e.spawn('c', 0, caller());
    e.run();
    expect(p.result).toBe(12);
    expect(p.endCycle).toBe(9);
  });

  test('a timed run stops at `until` and can be continued', () => {
    const e = new Engine();
    function* forever(): Sim {
      for (;;) yield e.ops.delay(7);
    }
    e.spawn('loop', 0, forever(), 0, true);
    expect(e.run({ until: 100 })).toEqual({ stoppedBy: 'until', cycles: 100, events: 15 });
    expect(e.run({ until: 200 }).events).toBe(29);
  });

  test('the watchdog names each CPU and what it waits on when nothing can progress', () => {
    const e = new Engine();
    const blocker: OpExecutor = {
      execute(p: Process, ops: Ops): void {
        p.a = ops.a;
        e.block(p);
      },
      describeWait: (p: Process) => `waiting for line ${p.a}`,
    };
    e.setExecutor(blocker);
    function* stuck(): Sim {
      yield e.ops.load(64);
    }
    e.spawn('victim', 3, stuck());
    expect(() => e.run()).toThrow(WatchdogError);
    try {
      e.run();
    } catch (err) {
      expect((err as Error).message).toMatch(/deadlock/);
      expect((err as Error).message).toMatch(/cpu3: 'victim': waiting for line 64 since cycle 0/);
    }
  });

  test('cycle and event budgets stop a livelock with a watchdog error', () => {
    const e = new Engine();
    function* spin(): Sim {
      for (;;) yield e.ops.delay(1);
    }
    e.spawn('spinner', 0, spin());
    expect(() => e.run({ maxCycles: 1000 })).toThrow(/cycle budget of 1000 exceeded[\s\S]*cpu0: 'spinner': ready/);
    const e2 = new Engine();
    function* spin2(): Sim {
      for (;;) yield e2.ops.delay(1);
    }
    e2.spawn('spinner', 0, spin2());
    expect(() => e2.run({ maxEvents: 500 })).toThrow(/event budget of 500 exceeded/);
  });

  test('hooks: run start/end, periodic samples, and a trace only when listened to', () => {
    const e = new Engine();
    function* w(): Sim {
      for (let i = 0; i < 10; i++) yield e.ops.delay(10);
    }
    e.spawn('w', 0, w());
    const samples: number[] = [];
    let traced = 0;
    let ended = false;
    e.hooks.on('sample', (_eng, cycle) => samples.push(cycle));
    e.hooks.on('trace', () => traced++);
    e.hooks.on('runEnd', (_eng, s) => (ended = s.stoppedBy === 'idle'));
    e.run({ sampleEvery: 25 });
    expect(samples).toEqual([25, 50, 75, 100]);
    expect(traced).toBeGreaterThanOrEqual(11);
    expect(ended).toBe(true);
  });

  test('scheduling in the past is refused', () => {
    const e = new Engine();
    const h = e.registerHandler({ onEvent: () => e.schedule(e.now - 1, h, 0) });
    e.schedule(5, h, 0);
    expect(() => e.run()).toThrow(/in the past/);
  });
});
