import { CpuMachine, MemMachine, Scheduler, resolveMachine, simulatedJson, type Sim, type Task, type TaskEnv } from '../../bench';

/** The README's library example, run through the public barrel. */
function example(seed: number) {
  // A Zen 3 socket with one cost changed.
  const m = new MemMachine({ config: resolveMachine('zen3-1s', { transferCcx: 80 }), seed });
  const { engine, k, memory } = m;
  const lock = memory.allocLines('lock');
  const counter = memory.allocLines('counter');
  let inside = 0;
  let worst = 0;

  // Simulated code, one yield per instruction: a test-and-test-and-set spinlock.
  function* worker(iterations: number): Sim {
    for (let i = 0; i < iterations; i++) {
      while ((yield k.xchg(lock, 1)) !== 0) yield k.spinUntilEq(lock, 0);
      worst = Math.max(worst, ++inside);
      const v = yield k.load(counter);
      yield k.delay(100); // the critical section
      yield k.store(counter, v + 1);
      inside--;
      yield k.store(lock, 0); // release: a plain store is enough on x86-TSO
    }
  }
  for (const cpu of [0, 1, 8, 9]) engine.spawn(`cpu${cpu}`, cpu, worker(200));
  engine.run();
  return { m, worst, counter: memory.peek(counter) };
}

describe('public API', () => {
  test('the README example runs, excludes, and reports', () => {
    const { m, worst, counter } = example(42);
    expect(worst).toBe(1);
    expect(counter).toBe(800);
    const r = m.result();
    expect(r.config).toEqual(expect.objectContaining({ profile: 'zen3-1s' }));
    expect((r.config as { params: { transferCcx: number } }).params.transferCcx).toBe(80);
    expect(r.seed).toBe('42');
    expect(r.simulated.cycles).toBe(m.engine.now);
    const mem = r.stats.mem as { rmw: { xchg: number }; coherence: { transfers: { ccx: number; socket: number } } };
    expect(mem.rmw.xchg).toBeGreaterThanOrEqual(800);
    // cpus 0,1 share CCX0; 8,9 share CCX1: the lock moves both within and between CCXs.
    expect(mem.coherence.transfers.ccx).toBeGreaterThan(0);
    expect(mem.coherence.transfers.socket).toBeGreaterThan(0);
    expect(r.host.events).toBeGreaterThan(0);
  });

  test('the same seed gives byte-identical simulated JSON', () => {
    expect(simulatedJson(example(7).m.result())).toBe(simulatedJson(example(7).m.result()));
  });
});

/** The README's scheduler example. */
test('the scheduler example ping-pongs across sockets with wake-up IPIs', () => {
  const m = new CpuMachine({ config: resolveMachine('skylake-sp-2s'), seed: 1 });
  const s = new Scheduler(m);
  const turn = m.memory.allocLines('turn');
  const mm = { id: 1, name: 'server' };
  const tasks: Task[] = [];
  const body = (me: number) =>
    function* ({ k, task, sched }: TaskEnv<Scheduler>): Sim {
      for (let i = 0; i < 1000; i++) {
        yield* sched.waitUntil(task, turn, me);
        yield k.compute(5_000);
        yield k.store(turn, 1 - me);
        yield* sched.wakeUp(task, tasks[1 - me]);
      }
    };
  tasks.push(s.createTask('ping', mm, 0, body(0)));
  tasks.push(s.createTask('pong', mm, 28, body(1)));
  s.start();
  m.engine.run();
  const sched = (m.stats.dump() as any).sched;
  expect(sched.wakeups).toBe(1999);
  expect(sched.wakeupIpis).toBeGreaterThan(1000);
  expect(sched.contextSwitches.count).toBeGreaterThanOrEqual(4000);
});

test("the README's simulate() and compare() example (shorter, and jobs: 1: worker threads need the built package)", async () => {
  const { compare, simulate } = await import('../../bench');
  const r = simulate({ strategy: 'linux-5.13', params: { sockets: 1, coresPerCcx: 16 }, ms: 0.5 });
  expect(r.rates.contextSwitches).toBeGreaterThan(0);
  expect(r.workload.requests).toBeGreaterThan(0);
  expect(r.workload.epollLocks.waitCycles.count).toBe(r.workload.epollLocks.acquisitions);
  const h = simulate({ workload: 'hackbench', workloadParams: { mode: 'threads', groups: 4 }, params: { sockets: 1, coresPerCcx: 16 }, ms: 0.5 });
  expect(h.workload.sent).toBeGreaterThan(0);
  expect(h.workload.pipeLocks.contended).toBeLessThanOrEqual(h.workload.pipeLocks.acquisitions);
  const { groups } = await compare({ strategies: ['linux-4.20', 'linux-6.15'], seeds: 3, baseline: 'linux-4.20', ms: 0.5, jobs: 1 });
  const [base, other] = groups[0].strategies;
  expect(base.metrics['rates.flushIpis']?.n).toBe(3);
  expect(other.vsBaseline?.['rates.flushIpis']).toBeDefined();
});
