import { DEFAULT_WARMUP_MS, runSimulation, type RunConfig } from '../../../bench/runner';
import type { RunJson } from '../../../bench/result-json';
import { netperfRr } from '../../../bench/workloads/netperf-rr';
import { resolveMachine } from '../../../lib/machine/resolve';
import { STRATEGIES } from '../../../tlb/strategies/index';

interface NetperfStats {
  transactions: number;
  rttCycles: { mean: number; count: number };
  clientSleeps: number;
  serverSleeps: number;
}

const SMALL = { sockets: '1', coresPerCcx: '8' }; // 8 CPUs
const P = Object.fromEntries(Object.entries(netperfRr.params).map(([k, v]) => [k, v.default])) as Record<string, number>;

function run(machine: string, params: Record<string, string>, wparams: Record<string, string | number>, ms: number, strategy = 'linux-6.15'): RunJson {
  const ghz = resolveMachine(machine, params).params.clockGhz;
  const cfg: RunConfig = {
    machine: resolveMachine(machine, params), params, strategy, workload: 'netperf-rr', workloadParams: wparams,
    cycles: Math.round(ms * ghz * 1e6), warmupCycles: Math.round((netperfRr.warmupMs ?? DEFAULT_WARMUP_MS) * ghz * 1e6), seed: '1', strategyOptions: {}, perturb: false,
  };
  return runSimulation(cfg, STRATEGIES[strategy], netperfRr);
}

const stats = (r: RunJson) => r.workload as unknown as NetperfStats;
const cpusOf = (r: RunJson) => {
  const p = r.config.machine.params;
  return p.sockets * p.ccxPerSocket * p.coresPerCcx * p.threadsPerCore;
};

describe('netperf-rr', () => {
  test('defaults on skylake-sp-2s: CPUs alternate one task and idle, four switches per transaction, a closed loop at the round-trip time', () => {
    const r = run('skylake-sp-2s', {}, {}, 2);
    const w = stats(r);
    const n = cpusOf(r);
    const p = r.config.machine.params;
    const pairs = n / 2;
    expect(r.violations).toEqual([]);
    expect(r.flushes.count).toBe(0);
    expect(w.transactions).toBeGreaterThan(1000);
    // Only task ↔ idle switches: no switch between two tasks, none to a kernel thread, and each
    // CPU's switches alternate, so to-idle and from-idle differ by at most one per CPU.
    expect(r.contextSwitches.sameMm + r.contextSwitches.differentMm + r.contextSwitches.toKernelThread).toBe(0);
    expect(r.contextSwitches.toIdle + r.contextSwitches.fromIdle).toBe(r.contextSwitches.count);
    expect(Math.abs(r.contextSwitches.toIdle - r.contextSwitches.fromIdle)).toBeLessThanOrEqual(n);
    // Each side sleeps once per transaction (task → idle → task): four switches each.
    expect(r.contextSwitches.count / w.transactions).toBeGreaterThan(3.9);
    expect(r.contextSwitches.count / w.transactions).toBeLessThan(4.1);
    expect(w.clientSleeps / w.transactions).toBeGreaterThan(0.99);
    expect(w.serverSleeps / w.transactions).toBeGreaterThan(0.98);
    // A closed loop without think time: each pair completes one transaction per round trip.
    const hz = p.clockGhz * 1e9;
    const expected = (pairs * hz) / w.rttCycles.mean;
    expect(w.transactions / r.simulated.seconds).toBeGreaterThan(0.97 * expected);
    expect(w.transactions / r.simulated.seconds).toBeLessThan(1.03 * expected);
    // A round trip holds two sends (stack + syscall), two receives (syscall), two wake-ups of an
    // idle CPU and two switches to the woken task, at least.
    const floor = 2 * P.loopbackCycles + 4 * (P.socketLayer + p.syscallEntryExit) + 2 * p.idleWakeup + 2 * p.contextSwitch;
    expect(w.rttCycles.mean).toBeGreaterThan(floor);
    expect(w.rttCycles.mean).toBeLessThan(1.5 * floor);
  });

  test('the loopback cost is paid twice per round trip; think time adds a sleep per transaction', () => {
    const base = run('skylake-sp-2s', SMALL, {}, 1);
    const slower = run('skylake-sp-2s', SMALL, { loopbackCycles: P.loopbackCycles + 10_000 }, 1);
    const delta = stats(slower).rttCycles.mean - stats(base).rttCycles.mean;
    expect(delta).toBeGreaterThan(0.9 * 20_000);
    expect(delta).toBeLessThan(1.1 * 20_000);
    const thinking = run('skylake-sp-2s', SMALL, { thinkUs: 10 }, 1);
    const t = stats(thinking);
    expect(thinking.contextSwitches.count / t.transactions).toBeGreaterThan(5.8); // + client → idle → client
    expect(thinking.contextSwitches.count / t.transactions).toBeLessThan(6.2);
    expect(t.transactions).toBeLessThan(stats(base).transactions);
  });

  test('a pair placed on one CPU ping-pongs between its two mms and never idles', () => {
    const r = run('skylake-sp-2s', SMALL, { pairs: 1, clientCpus: '3', serverCpus: '3' }, 1);
    const w = stats(r);
    expect(w.transactions).toBeGreaterThan(100);
    expect(r.contextSwitches.differentMm).toBe(r.contextSwitches.count);
    expect(r.contextSwitches.count / w.transactions).toBeGreaterThan(1.95); // client → server → client
    expect(r.contextSwitches.count / w.transactions).toBeLessThan(2.05);
  });

  const strategies = Object.keys(STRATEGIES).filter((s) => !s.startsWith('rfc2016-') && s !== 'linux-4.13');
  test.each(strategies)('%s: a few ms without a violation', (strategy) => {
    const r = run('skylake-sp-2s', SMALL, { thinkUs: 5 }, 2, strategy);
    expect(r.violations).toEqual([]);
    expect(stats(r).transactions).toBeGreaterThan(100);
  });
});
