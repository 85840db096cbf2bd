import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { Cpumask } from '../../cpu/cpumask';
import type { KernelOps } from '../../cpu/kernel-ops';
import { CpuMachine } from '../../cpu/machine';
import { CSD_BYTES, Smp, type CallOrder } from '../../cpu/smp';

type Dump = Record<string, any>;

function setup(seed = 1, perturb?: { transferMax: number; drainMax: number }) {
  const m = new CpuMachine({ config: resolveMachine('skylake-sp-2s'), seed, perturb });
  const smp = new Smp(m, m.stats.group('smp'));
  return { m, smp, k: m.k, engine: m.engine, n: m.topology.nCpus };
}

function* idleLoop(k: KernelOps): Sim {
  for (;;) yield k.halt();
}

function bootIdle(m: CpuMachine, cpu: number): void {
  m.cpu.boot(cpu, m.engine.create(`idle${cpu}`, cpu, idleLoop(m.k), true));
}

function bootBusy(m: CpuMachine, cpu: number): void {
  m.cpu.boot(cpu, m.engine.create(`busy${cpu}`, cpu, (function* (): Sim { yield m.k.compute(1e8); })(), true));
}

function maskOf(m: CpuMachine, cpus: number[]): Cpumask {
  const mask = new Cpumask(m.memory, `mask{${cpus.join(',')}}`, m.topology.nCpus);
  mask.assign(cpus);
  return mask;
}

function ipisReceived(m: CpuMachine, cpu: number): number {
  const r = (m.stats.dump() as Dump)[`cpu${cpu}`].ipisReceived;
  return r.callFunction + r.callFunctionSingle;
}

/** Same-socket and other-socket targets interleaved: 1, 28, 2, 29, ... */
function mixedTargets(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; out.length < n; i++) out.push(i % 2 === 0 ? 1 + i / 2 : 28 + (i - 1) / 2);
  return out;
}

describe('Cpumask', () => {
  test('functional and simulated helpers agree; 512 CPUs per line', () => {
    const { m, k, engine } = setup();
    const mask = new Cpumask(m.memory, 'test_mask', 56);
    expect(mask.nWords).toBe(2);
    expect(mask.wordAddr(33) - mask.addr).toBe(4);
    mask.assign([0, 5, 31, 32, 55]);
    expect(mask.toArray()).toEqual([0, 5, 31, 32, 55]);
    expect(mask.weight()).toBe(5);
    let old: boolean[] = [];
    let seen: boolean[] = [];
    engine.spawn('t', 0, (function* (): Sim {
      old = [yield* mask.setBit(k, 40), yield* mask.setBit(k, 5), yield* mask.clearBit(k, 31)];
      seen = [yield* mask.testBit(k, 40), yield* mask.testBit(k, 31), yield* mask.testBit(k, 32)];
    })());
    engine.run();
    expect(old).toEqual([false, true, true]);
    expect(seen).toEqual([true, false, true]);
    expect(mask.toArray()).toEqual([0, 5, 32, 40, 55]);
    expect(() => mask.set(56)).toThrow(RangeError);
    const big = new Cpumask(m.memory, 'big_mask', 1024);
    expect(big.addr % 64).toBe(0);
    expect(m.memory.symbolize(big.addr + 64)).toBe('big_mask+64'); // two lines for 1024 CPUs
  });
});

describe('smp_call_function_many', () => {
  test('CSDs are 32-byte objects, two per line, in the target\'s per-CPU area', () => {
    const { smp } = setup();
    expect(smp.csdAddr(0, 5) % CSD_BYTES).toBe(0);
    expect(smp.csdAddr(1, 5) - smp.csdAddr(0, 5)).toBe(CSD_BYTES);
    expect(smp.csdAddr(0, 5) >> 6).toBe(smp.csdAddr(1, 5) >> 6); // false sharing between initiators 0 and 1
    expect(smp.csdAddr(2, 5) >> 6).not.toBe(smp.csdAddr(1, 5) >> 6);
    expect(smp.queueAddr(3) % 64).toBe(0);
    expect(smp.queueAddr(4) - smp.queueAddr(3)).toBe(64);
  });

  test.each([1, 2, 8, 27])('%i targets (both sockets): each function runs once per call, wait returns after all of them, !wait before', (nTargets) => {
    const { m, smp, k, engine, n } = setup();
    const targets = mixedTargets(nTargets);
    const ran: number[][] = [[], [], []];
    const startAt: number[][] = [[], [], []];
    const doneAt: number[][] = [[], [], []];
    const fn = smp.register('record', function* (cpu, info): Sim {
      startAt[info][cpu.id] = engine.now;
      ran[info][cpu.id] = (ran[info][cpu.id] ?? 0) + 1;
      yield k.delay(100);
      doneAt[info][cpu.id] = engine.now;
    });
    const mask = maskOf(m, [0, ...targets]); // self in the mask, but not run: runLocal = false
    const returned: number[] = [];
    m.cpu.boot(0, engine.create('initiator', 0, (function* (): Sim {
      yield* smp.smpCallFunctionMany(k, m.cpu.cpus[0], mask, fn, 0, true, 'concurrent', false);
      returned.push(engine.now);
      yield* smp.smpCallFunctionMany(k, m.cpu.cpus[0], mask, fn, 1, true, 'serial', false);
      returned.push(engine.now);
      yield* smp.smpCallFunctionMany(k, m.cpu.cpus[0], mask, fn, 2, false, 'concurrent', false);
      returned.push(engine.now);
    })()));
    targets.forEach((t, i) => (i % 3 === 2 ? bootBusy(m, t) : bootIdle(m, t)));
    engine.run({ maxCycles: 2e8 });
    for (let call = 0; call < 3; call++) {
      for (let c = 0; c < n; c++) expect([call, c, ran[call][c] ?? 0]).toEqual([call, c, targets.includes(c) ? 1 : 0]);
    }
    for (const call of [0, 1]) expect(returned[call]).toBeGreaterThanOrEqual(Math.max(...targets.map((t) => doneAt[call][t])));
    // !wait returns once the IPIs are sent: before any function has run while the ICR writes take
    // less than a delivery, before the last one started anyway (27 ICR writes outlast a delivery).
    expect(returned[2]).toBeLessThan(Math.max(...targets.map((t) => startAt[2][t])));
    if (nTargets <= 2) expect(returned[2]).toBeLessThan(Math.min(...targets.map((t) => startAt[2][t])));
    const s = (m.stats.dump() as Dump).smp;
    expect(s.calls).toBe(3);
    expect(s.handlerCycles.count).toBe(3 * nTargets);
    expect(s.initiatorWaitCycles.count).toBe(2);
    expect(m.cpu.cpus[0].preemptCount).toBe(0); // get_cpu/put_cpu balanced
    // One IPI per target per call: one target gets CALL_FUNCTION_SINGLE, several CALL_FUNCTION.
    const d = m.stats.dump() as Dump;
    for (const t of targets) {
      expect(d[`cpu${t}`].ipisReceived[nTargets === 1 ? 'callFunctionSingle' : 'callFunction']).toBe(3);
    }
  });

  /** cpu0's cycles for one warm call (the second of two) to `targets`, all computing. */
  function callCost(targets: number[]): number {
    const { m, smp, k, engine } = setup();
    const fn = smp.register('nop', function* (): Sim {});
    const mask = maskOf(m, targets);
    const cost: number[] = [];
    m.cpu.boot(0, engine.create('initiator', 0, (function* (): Sim {
      for (let i = 0; i < 2; i++) {
        const t0 = engine.now;
        yield* smp.smpCallFunctionMany(k, m.cpu.cpus[0], mask, fn, 0, true, 'concurrent', false);
        cost.push(engine.now - t0);
      }
    })()));
    for (const t of targets) bootBusy(m, t);
    engine.run();
    return cost[1];
  }

  test('the initiator pays more for more targets and for a farther one', () => {
    const costs = [1, 2, 4, 8].map((nt) => callCost(Array.from({ length: nt }, (_, i) => 1 + i)));
    for (let i = 1; i < costs.length; i++) expect(costs[i]).toBeGreaterThan(costs[i - 1]);
    const p = setup().m.config.params;
    const near = callCost([1]);
    const far = callCost([28]);
    expect(near).toBe(costs[0]);
    expect(far - near).toBeGreaterThanOrEqual(p.ipiDeliveryRemote - p.ipiDeliveryCcx);
  });

  test('an IPI is sent only when the target\'s queue was empty', () => {
    const { m, smp, k, engine } = setup();
    const target = 2;
    const ran = [0, 0];
    const fn = smp.register('count', function* (_cpu, info): Sim {
      ran[info]++;
    });
    const mask = maskOf(m, [target]);
    let enabledAt = -1;
    m.cpu.boot(target, engine.create('target', target, (function* (): Sim {
      yield k.irqDisable();
      yield k.compute(20_000);
      enabledAt = engine.now;
      yield k.irqEnable();
      yield* idleLoop(k);
    })(), true));
    const returned = [-1, -1];
    for (const c of [0, 1]) {
      m.cpu.boot(c, engine.create(`initiator${c}`, c, (function* (): Sim {
        yield k.delay(c * 3000); // cpu1 queues after cpu0, long before the target enables interrupts
        yield* smp.smpCallFunctionMany(k, m.cpu.cpus[c], mask, fn, c, true, 'concurrent', false);
        returned[c] = engine.now;
      })()));
    }
    engine.run();
    expect(ran).toEqual([1, 1]);
    expect(ipisReceived(m, target)).toBe(1);
    const d = m.stats.dump() as Dump;
    expect(d.cpu0.ipisSent.callFunctionSingle).toBe(1);
    expect(d.cpu1.ipisSent.callFunctionSingle + d.cpu1.ipisSent.callFunction).toBe(0);
    expect(d.smp.ipisSkipped).toBe(1);
    expect(d[`cpu${target}`].irqs.callFunctionSingle).toBe(1);
    for (const r of returned) expect(r).toBeGreaterThan(enabledAt);
  });

  function orders(order: CallOrder) {
    const { m, smp, k, engine } = setup();
    const start: number[] = [];
    const end: number[] = [];
    const fn = smp.register('flush', function* (cpu): Sim {
      start[cpu.id] = engine.now;
      yield k.delay(2000);
      end[cpu.id] = engine.now;
    });
    const remote = [1, 2, 28];
    const mask = maskOf(m, [0, ...remote]);
    let cost = -1;
    m.cpu.boot(0, engine.create('initiator', 0, (function* (): Sim {
      const t0 = engine.now;
      yield* smp.smpCallFunctionMany(k, m.cpu.cpus[0], mask, fn, 0, true, order, true);
      cost = engine.now - t0;
    })()));
    for (const t of remote) bootBusy(m, t);
    engine.run();
    return { start, end, cost, remote };
  }

  test('serial runs the local function before the remote ones; concurrent overlaps them and is faster', () => {
    const s = orders('serial');
    expect(s.end[0]).toBeLessThanOrEqual(Math.min(...s.remote.map((t) => s.start[t])));
    const c = orders('concurrent');
    expect(c.start[0]).toBeLessThan(Math.min(...c.remote.map((t) => c.start[t])));
    expect(c.end[0]).toBeGreaterThan(Math.min(...c.remote.map((t) => c.start[t]))); // overlap
    expect(c.end[0]).toBeLessThan(Math.max(...c.remote.map((t) => c.end[t])));
    expect(c.cost).toBeLessThan(s.cost);
    expect(s.cost - c.cost).toBeGreaterThan(1000);
  });

  test('on_each_cpu_cond_mask evaluates the condition for every CPU of the mask and calls only where it holds', () => {
    const { m, smp, k, engine, n } = setup();
    const isLazy: number[] = [];
    for (let c = 0; c < n; c++) isLazy.push(m.memory.allocLines(`is_lazy[${c}]`));
    const lazy = [2, 5, 29];
    for (const c of lazy) m.memory.poke(isLazy[c], 1);
    const inMask = [0, 1, 2, 3, 5, 28, 29, 40];
    const evaluated: number[] = [];
    const ran = new Array<number>(n).fill(0);
    const fn = smp.register('flush', function* (cpu): Sim {
      ran[cpu.id]++;
    });
    const mask = maskOf(m, inMask);
    m.cpu.boot(0, engine.create('initiator', 0, (function* (): Sim {
      yield* smp.onEachCpuCondMask(k, m.cpu.cpus[0], function* (kk, _cpu, t): Sim<boolean> {
        evaluated.push(t);
        return (yield kk.load(isLazy[t])) === 0;
      }, fn, 0, true, mask, 'concurrent');
    })()));
    for (const c of inMask) if (c !== 0) bootIdle(m, c);
    engine.run();
    expect(evaluated).toEqual(inMask);
    const expected = inMask.filter((c) => !lazy.includes(c));
    for (let c = 0; c < n; c++) expect([c, ran[c]]).toEqual([c, expected.includes(c) ? 1 : 0]);
    for (const c of inMask) if (c !== 0) expect([c, ipisReceived(m, c)]).toEqual([c, expected.includes(c) ? 1 : 0]);
    expect(ipisReceived(m, 0)).toBe(0);
  });

  test.each([1, 2, 3])('seed %i: CPUs calling each other at random with wait=1 never deadlock, and every function runs once', (seed) => {
    const { m, smp, k, engine, n } = setup(seed, { transferMax: 40, drainMax: 100 });
    const rng = m.rng.stream('test.smp');
    const cpus = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 28, 29, 30, 31, 32, 33];
    const rounds = 12;
    const ran = new Map<number, number>(); // callId * n + cpu → runs
    const expected = new Map<number, number>();
    const fn = smp.register('work', function* (cpu, info): Sim {
      const key = info * n + cpu.id;
      ran.set(key, (ran.get(key) ?? 0) + 1);
      yield k.delay(rng.range(0, 300));
    });
    const done = m.memory.allocLines('done');
    let nextCall = 0;
    for (const c of cpus) {
      m.cpu.boot(c, engine.create(`cpu${c}`, c, (function* (): Sim {
        for (let r = 0; r < rounds; r++) {
          yield k.compute(rng.range(0, 4000));
          const targets = cpus.filter(() => rng.chance(0.3));
          const runLocal = rng.chance(0.5);
          const order: CallOrder = rng.chance(0.5) ? 'serial' : 'concurrent';
          const id = nextCall++;
          for (const t of targets) if (t !== c || runLocal) expected.set(id * n + t, 1);
          const mask = maskOf(m, targets);
          yield* smp.smpCallFunctionMany(k, m.cpu.cpus[c], mask, fn, id, true, order, runLocal);
          // wait=1: every remote call of this round has run when it returns
          for (const t of targets) if (t !== c) expect(ran.get(id * n + t)).toBe(1);
        }
        // Keep handling IPIs until every CPU is through.
        yield k.lockInc(done);
        yield k.spinUntilEq(done, cpus.length);
      })()));
    }
    engine.run({ maxCycles: 1e9 });
    expect(nextCall).toBe(cpus.length * rounds);
    expect(new Map([...ran].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...expected].sort((a, b) => a[0] - b[0])));
    const s = (m.stats.dump() as Dump).smp;
    expect(s.calls).toBe(cpus.length * rounds);
    expect(s.csdQueueRmws).toBeGreaterThan(0);
    // The contended paths ran: CSDs queued behind others (no IPI), llist_add cmpxchg retries.
    expect(s.ipisSkipped).toBeGreaterThan(0);
    expect((m.stats.dump() as Dump).mem.cmpxchgFailed).toBeGreaterThan(0);
  });
});
