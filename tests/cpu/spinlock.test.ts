import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { RngStreams } from '../../lib/rng';
import { CpuMachine } from '../../cpu/machine';
import { Spinlock } from '../../cpu/spinlock';

/** An invariant checker outside the lock: who is inside the critical section, ever more than one? */
class Exclusion {
  inside = -1;
  entries = 0;
  enter(cpu: number): void {
    if (this.inside !== -1) throw new Error(`cpu${cpu} entered while cpu${this.inside} is inside`);
    this.inside = cpu;
    this.entries++;
  }
  leave(cpu: number): void {
    if (this.inside !== cpu) throw new Error(`cpu${cpu} left, but cpu${this.inside} is inside`);
    this.inside = -1;
  }
}

function contend(seed: number, cpus: number[], iters: number) {
  const m = new CpuMachine({ config: resolveMachine('skylake-sp-2s'), seed, perturb: { transferMax: 200, drainMax: 500 } });
  const { k, engine, memory } = m;
  const lock = new Spinlock('rq0.lock', memory, engine, m.stats.group('lock'));
  const counter = memory.allocLines('counter');
  const check = new Exclusion();
  const rng = new RngStreams(seed).stream('test.spinlock');
  function* worker(cpu: number): Sim {
    for (let i = 0; i < iters; i++) {
      yield k.irqDisable(); // raw_spin_lock_irq, as for an rq lock
      yield* lock.lock(k, cpu);
      check.enter(cpu);
      const v = yield k.load(counter); // a non-atomic increment: only exclusion keeps it right
      yield k.delay(rng.range(0, 300));
      yield k.store(counter, v + 1);
      check.leave(cpu);
      yield* lock.unlock(k, cpu);
      yield k.irqEnable();
      yield k.compute(rng.range(0, 2000));
    }
  }
  for (const c of cpus) m.cpu.boot(c, engine.create(`w${c}`, c, worker(c)));
  engine.run({ maxCycles: 1e9 });
  return { m, check, counter: memory.peek(counter), lock };
}

describe('ticket spinlock', () => {
  test.each([1, 2, 3, 4, 5])('seed %i: mutual exclusion under randomized contention across sockets', (seed) => {
    const cpus = [0, 1, 2, 3, 28, 29, 30, 55];
    const { check, counter, m } = contend(seed, cpus, 60);
    expect(check.entries).toBe(cpus.length * 60);
    expect(counter).toBe(cpus.length * 60);
    const stats = m.stats.dump() as any;
    expect(stats.lock.contended).toBeGreaterThan(0); // it really was contended
    expect(stats.lock.acquisitions).toBe(cpus.length * 60);
  });

  test('the checker fails a broken lock: two CPUs that skip the lock collide', () => {
    const m = new CpuMachine({ config: resolveMachine('skylake-sp-2s'), seed: 1 });
    const { k, engine } = m;
    const check = new Exclusion();
    function* reckless(cpu: number): Sim {
      for (let i = 0; i < 10; i++) {
        check.enter(cpu);
        yield k.delay(100);
        check.leave(cpu);
      }
    }
    for (const c of [0, 1]) m.cpu.boot(c, engine.create(`r${c}`, c, reckless(c)));
    expect(() => engine.run()).toThrow(/entered while cpu\d is inside/);
  });

  test('an uncontended acquisition costs a locked RMW and a hit; the release is a store', () => {
    const m = new CpuMachine({ config: resolveMachine('skylake-sp-2s'), seed: 1 });
    const { k, engine, memory } = m;
    const lock = new Spinlock('l', memory, engine, m.stats.group('lock'));
    let cost = -1;
    function* once(): Sim {
      yield* lock.lock(k, 0);
      yield* lock.unlock(k, 0);
      const t = engine.now;
      yield* lock.lock(k, 0); // warm: line already owned
      cost = engine.now - t;
      yield* lock.unlock(k, 0);
    }
    m.cpu.boot(0, engine.create('once', 0, once()));
    engine.run();
    const p = m.config.params;
    // The release store starts draining as it retires (an L1 hit, l1Hit cycles); the unlock's and
    // the lock's preempt-count updates (1 cycle each) overlap that drain, which the LOCK XADD
    // waits out; then the XADD on the owned line (l1Hit + rmwLocal) and the head load (l1Hit).
    const drainLeft = p.l1Hit - 2;
    expect(cost).toBe(1 + drainLeft + p.l1Hit + p.rmwLocal + p.l1Hit);
  });
});
