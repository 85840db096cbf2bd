import type { Sim } from '../../../lib/engine/ops';
import { ConfigError } from '../../../lib/errors';
import { resolveMachine } from '../../../lib/machine/resolve';
import { MemMachine } from '../../../mem/machine';
import type { Scheduler } from '../../../cpu/sched';
import type { TaskEnv } from '../../../cpu/task';
import { TlbMachine } from '../../../tlb/machine';
import type { Cpu } from '../../../cpu/cpu';
import type { TlbOps } from '../../../tlb/hw/tlb-ops';
import { McShootdown } from '../../../tlb/strategies/mc-shootdown';
import { MC_PROTOCOLS, type McShootdownParams } from '../../../tlb/strategies/mc-channels';
import { strategyByName } from '../../../tlb/strategies/index';
import { explore, exploreConfig } from '../../../bench/explore';
import { simulate } from '../../../bench/experiment/api';

type Env = TaskEnv<Scheduler>;

/** The broken variant (design 5.6): an aggregator that replies to the initiator before its members have. */
class McEarlyReply extends McShootdown {
  protected override *aggregate(k: TlbOps, cpu: Cpu, from: number, seq: number, line: number): Sim {
    yield* super.aggregate(k, cpu, from, seq, line);
    yield* this.reply(k, cpu.id, from, seq);
  }
}

const MUNMAP_AT = 3e6;

/**
 * opteron-8x4 cut to 2 dies x 2 cores: LLC domains {0, 1} and {2, 3}. mm `a` runs on cpu0 (which
 * munmaps pages 0-1 at MUNMAP_AT), cpu2 (touched pages 0-3, then went idle: lazy, polling) and
 * cpu3, which reads pages 0-3 in a loop and never schedules, so it polls only at its tick.
 * Multicast sends one aggregate to cpu2, which forwards to cpu3.
 */
function scenario(strategy: McShootdown) {
  const m = new TlbMachine({ config: resolveMachine('opteron-8x4', { sockets: 2, coresPerCcx: 2 }), seed: 1, strategy });
  const a = m.createMm('a', 64);
  let returnedAt = -1;
  m.sched.createTask('a0', a, 0, function* ({ k: k0, task, sched }: Env): Sim {
    const k = k0 as TlbOps;
    for (let p = 0; p < 16; p++) yield* sched.touch(task, p, true);
    yield k.compute(MUNMAP_AT - m.engine.now);
    yield* m.mapping.munmap(k, sched.cpuOf(task), a, 0, 2);
    returnedAt = m.engine.now;
    yield k.compute(5e6 - m.engine.now);
  });
  m.sched.createTask('a2', a, 2, function* ({ task, sched }: Env): Sim {
    for (let p = 0; p < 4; p++) yield* sched.touch(task, p, false);
  });
  m.sched.createTask('a3', a, 3, function* ({ k, task, sched }: Env): Sim {
    while (m.engine.now < 5e6) {
      for (let p = 0; p < 4; p++) yield* sched.touch(task, p, false);
      yield k.compute(2000);
    }
  });
  m.sched.start();
  m.engine.run({ maxCycles: 1e7 });
  const mc = (m.stats.dump().strategy as Record<string, Record<string, unknown>>).mc;
  return { m, returnedAt, mc, stale: m.oracle.violations.filter((v) => v.kind === 'stale-translation') };
}

describe('mc-shootdown', () => {
  const nextTick = (m: TlbMachine) => Math.ceil(MUNMAP_AT / m.sched.tickCycles) * m.sched.tickCycles;

  test('opteron-8x4: a message over two HyperTransport hops takes the URPC latency it was fitted to (Table 2: 618 cycles)', () => {
    const mm = new MemMachine({ config: resolveMachine('opteron-8x4'), seed: 1 });
    const far = [...Array(mm.topology.nCpus).keys()].find((c) => mm.topology.hopsUnchecked(0, c) === 2) as number;
    expect(far).toBeDefined();
    const line = mm.memory.allocLines('urpc');
    const k = mm.k;
    let sentAt = 0;
    let seenAt = 0;
    mm.engine.spawn('receiver', far, (function* (): Sim {
      yield k.spinWhileEq(line, 0);
      seenAt = mm.engine.now;
    })());
    mm.engine.spawn('sender', 0, (function* (): Sim {
      yield k.delay(10_000);
      sentAt = mm.engine.now;
      yield k.store(line, 1);
    })());
    mm.engine.run({ maxCycles: 1e6 });
    expect(Math.abs(seenAt - sentAt - 618)).toBeLessThanOrEqual(1);
  });

  test('numa-multicast, poll: the aggregator forwards to its member, and the initiator returns only once the member polled at its tick', () => {
    const r = scenario(new McShootdown());
    expect(r.mc.forwarded).toBe(1);
    expect(r.returnedAt).toBeGreaterThan(nextTick(r.m));
    expect(r.stale).toEqual([]);
    expect((r.mc.received as Record<string, number>).tick).toBeGreaterThanOrEqual(1);
    expect((r.mc.received as Record<string, number>).idle).toBeGreaterThanOrEqual(1); // the lazy aggregator, polling in idle
    // The flush statistics see its reach: both targets posted to (one through the aggregator), none interrupted.
    const f = r.m.flushStats;
    expect({ count: f.count.value, remote: f.remote.value, posted: f.postedCpus.value, interrupted: f.targetCpus.value }).toEqual({ count: 1, remote: 1, posted: 2, interrupted: 0 });
  });

  test('the broken variant (an aggregator replying before its members) is caught: a stale use on the member', () => {
    const r = scenario(new McEarlyReply());
    expect(r.returnedAt).toBeLessThan(nextTick(r.m));
    expect(r.stale.length).toBeGreaterThan(0);
    expect(r.stale[0].cpu).toBe(3);
  });

  test('notify=ipi: the busy member is interrupted, so the shootdown ends long before its tick', () => {
    const r = scenario(new McShootdown({ notify: 'ipi' }));
    expect(r.returnedAt).toBeLessThan(MUNMAP_AT + (nextTick(r.m) - MUNMAP_AT) / 10);
    expect((r.mc.received as Record<string, number>).ipi).toBeGreaterThanOrEqual(1);
    expect(r.stale).toEqual([]);
    expect(r.m.flushStats.postedCpus.value).toBe(2);
  });

  test.each([
    ['unicast', { messages: 2, forwarded: 0 }],
    ['broadcast', { messages: 1, forwarded: 0 }],
    ['multicast', { messages: 2, forwarded: 1 }],
  ] as const)('%s: the messages of one shootdown to two targets', (protocol, want) => {
    const r = scenario(new McShootdown({ protocol: protocol as McShootdownParams['protocol'] }));
    expect({ messages: r.mc.messages, forwarded: r.mc.forwarded }).toEqual(want);
    expect(r.mc.replies).toBe(2);
    expect(r.stale).toEqual([]);
    expect(Object.keys(r.mc.latency as object)).toEqual([protocol]);
  });

  test('munmap-micro in barrier mode: every protocol completes its shootdowns with no violation, the idle targets polling', () => {
    for (const protocol of MC_PROTOCOLS) {
      const r = simulate({ strategy: `mc-shootdown:protocol=${protocol}`, machine: 'opteron-8x4', params: { sockets: 4 }, workload: 'munmap-micro', workloadParams: { barrier: 1, n: 15 }, ms: 0.5, warmupMs: 0.2 });
      expect(r.violations).toEqual([]);
      const mc = (r.strategy as Record<string, Record<string, unknown>>).mc;
      expect((mc.received as Record<string, number>).idle).toBeGreaterThan(0);
      expect(((mc.latency as Record<string, { count: number }>)[protocol]).count).toBeGreaterThan(0);
    }
  });

  test('a reply taken by the tick while the initiator is parked still ends its wait (a lost wake-up, found by the Fig 6 runs)', () => {
    // cpu0's timer interrupt polls, takes cpu1's reply and leaves nothing for the parked wait loop
    // to see but the pending count: before that word existed the flush never returned.
    const r = simulate({ strategy: 'mc-shootdown:protocol=broadcast', machine: 'opteron-8x4', workload: 'munmap-micro', workloadParams: { barrier: 1, n: 1 }, cycles: 4e6, warmupCycles: 2e6 });
    expect(r.violations).toEqual([]);
    expect(r.flushes.count).toBeGreaterThan(30);
  });

  test('numa-multicast orders the domains farthest first, its own last; multicast in domain order', () => {
    const order = (protocol: McShootdownParams['protocol']) => {
      const s = new McShootdown({ protocol });
      const m = new TlbMachine({ config: resolveMachine('opteron-8x4'), seed: 1, strategy: s });
      const targets = [...Array(m.topology.nCpus).keys()].filter((c) => c !== 0);
      const domains = (s as unknown as { domainsInOrder(me: number, t: number[]): number[][] }).domainsInOrder(0, targets);
      return { m, domains };
    };
    const numa = order('numa-multicast');
    const hops = numa.domains.map((d) => numa.m.topology.hopsUnchecked(0, d[0]));
    expect(numa.domains).toHaveLength(8);
    expect(hops).toEqual([...hops].sort((x, y) => y - x)); // non-increasing
    expect(hops[0]).toBe(numa.m.topology.maxHops);
    expect(numa.domains[7]).toEqual([1, 2, 3]); // cpu0's own die, last
    expect(order('multicast').domains.map((d) => d[0])).toEqual([1, 4, 8, 12, 16, 20, 24, 28]);
  });

  test('lazy=stay: idle lazy targets flush in place and stay in mm_cpumask, so the multicasts regain their lead (Fig 6 at 16 cores)', () => {
    // The targets sleep (barrier=1), lazy on the mm. With leave_mm() each clears its bit in the one
    // mm_cpumask line, a convoy that every protocol waits on (README, Fig 6).
    const fig6 = (spec: string) => {
      const r = simulate({ strategy: spec, machine: 'opteron-8x4', workload: 'munmap-micro', workloadParams: { barrier: 1, n: 15 }, ms: 2 });
      expect(r.violations).toEqual([]);
      const lat = (r.strategy as { mc: { latency: Record<string, { mean: number }> } }).mc.latency;
      return Object.values(lat)[0].mean;
    };
    const numaLeave = fig6('mc-shootdown');
    const numaStay = fig6('mc-shootdown:lazy=stay');
    const unicastStay = fig6('mc-shootdown:protocol=unicast:lazy=stay');
    expect(numaStay).toBeLessThan(0.6 * numaLeave);
    expect(numaStay).toBeLessThan(0.6 * unicastStay); // aggregation pays again, as in the paper
  });

  test('explore: 20 seeds of each notify mode, no violation', () => {
    for (const spec of ['mc-shootdown', 'mc-shootdown:notify=ipi']) {
      const r = explore(exploreConfig(spec), strategyByName(spec), 20, 1);
      expect(r.counts).toEqual({});
    }
  });

  test('options: a bad protocol, notify, handler or key is one line naming it', () => {
    const err = (spec: string) => {
      try {
        strategyByName(spec);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      return '';
    };
    expect(err('mc-shootdown:protocol=anycast')).toBe("mc-shootdown: protocol expects one of unicast, broadcast, multicast, numa-multicast, got 'anycast'");
    expect(err('mc-shootdown:notify=doorbell')).toMatch(/notify expects one of poll, ipi, got 'doorbell'/);
    expect(err('mc-shootdown:handler=-3')).toMatch(/handler expects an integer number of cycles in \[0, 100000\], got '-3'/);
    expect(err('mc-shootdown:lazy=never')).toMatch(/lazy expects one of leave, stay, got 'never'/);
    expect(err('mc-shootdown:ring=4')).toMatch(/unknown option 'ring' \(known: protocol, notify, handler, lazy\)/);
    expect(err('mc-shootdown:unicast')).toMatch(/option 'unicast' expects key=value/);
    expect(err('linux-4.8:protocol=unicast')).toMatch(/strategy 'linux-4.8' takes no options/);
    expect(err('linux-9:protocol=unicast')).toMatch(/unknown strategy 'linux-9'/);
    const s = strategyByName('mc-shootdown:protocol=broadcast:notify=ipi:handler=0')() as McShootdown;
    expect(s.mp).toEqual({ protocol: 'broadcast', notify: 'ipi', handler: 0, lazy: 'leave' });
  });
});
