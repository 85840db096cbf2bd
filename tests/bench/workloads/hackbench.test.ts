import { runSimulation, type RunConfig } from '../../../bench/runner';
import type { RunJson } from '../../../bench/result-json';
import { hackbench } from '../../../bench/workloads/hackbench';
import { resolveMachine } from '../../../lib/machine/resolve';
import { SCHED_DEFAULTS } from '../../../cpu/sched';
import { STRATEGIES } from '../../../tlb/strategies/index';

interface HackbenchStats {
  sent: number;
  received: number;
  writerSleeps: number;
  readerSleeps: number;
  queued: number;
}

const SMALL = { sockets: '1', coresPerCcx: '8' }; // 8 CPUs
const P = Object.fromEntries(Object.entries(hackbench.params).map(([k, v]) => [k, v.default])) as Record<string, number>;

function run(machine: string, params: Record<string, string>, wparams: Record<string, string | number>, warmupMs: number, ms: number, strategy = 'linux-6.15'): RunJson {
  const ghz = resolveMachine(machine, params).params.clockGhz;
  const cfg: RunConfig = {
    machine: resolveMachine(machine, params), params, strategy, workload: 'hackbench', workloadParams: wparams,
    cycles: Math.round(ms * ghz * 1e6), warmupCycles: Math.round(warmupMs * ghz * 1e6), seed: '1', strategyOptions: {}, perturb: false,
  };
  return runSimulation(cfg, STRATEGIES[strategy], hackbench);
}

const stats = (r: RunJson) => r.workload as unknown as HackbenchStats;

describe('hackbench', () => {
  test('defaults on skylake-sp-2s: every CPU busy, every switch a switch_mm, no flushes, messages bounded by their CPU cost', () => {
    const ms = 1;
    const r = run('skylake-sp-2s', {}, {}, hackbench.warmupMs as number, ms);
    const w = stats(r);
    const p = r.config.machine.params;
    const n = p.sockets * p.ccxPerSocket * p.coresPerCcx * p.threadsPerCore;
    const hz = p.clockGhz * 1e9;
    expect(r.violations).toEqual([]);
    // 800 tasks on 56 CPUs: no CPU ever idles, and, process mode, each switch changes mm.
    expect(r.contextSwitches.toIdle).toBe(0);
    expect(r.contextSwitches.sameMm).toBe(0);
    expect(r.contextSwitches.differentMm).toBe(r.contextSwitches.count);
    expect(r.contextSwitches.switchMmCycles).toBeGreaterThan(0);
    // The fork-free steady state flushes nothing.
    expect(r.flushes.count).toBe(0);
    // Every sleep is a switch; the other switches are tick preemptions, at most one per CPU per tick.
    const sleeps = w.readerSleeps + w.writerSleeps;
    expect(sleeps).toBeGreaterThan(0);
    expect(r.contextSwitches.count).toBeGreaterThanOrEqual(sleeps);
    expect(r.contextSwitches.count).toBeLessThanOrEqual(sleeps + n * (ms * SCHED_DEFAULTS.hz / 1000 + 1));
    // With runnable tasks waiting everywhere each CPU's slice runs out: at least one switch per CPU per slice.
    expect(r.rates.contextSwitches).toBeGreaterThan((0.9 * n) / (SCHED_DEFAULTS.sliceUs * 1e-6));
    // Each write and each read costs at least a syscall and its copy of CPU time, and the machine
    // does little else: the messages moved use between half and all of the machine's cycles.
    const perCall = P.vfs + resolveMachine('skylake-sp-2s').params.syscallEntryExit + P.datasize * P.copyPerByte;
    const share = ((w.sent + w.received) * perCall) / (n * hz * r.simulated.seconds);
    expect(share).toBeLessThan(1);
    expect(share).toBeGreaterThan(0.5);
  });

  test('messages are conserved: received = sent - queued, up to one message in flight per task', () => {
    const groups = 2;
    const fds = 10;
    const r = run('skylake-sp-2s', SMALL, { groups, fds }, 0, 2);
    const w = stats(r);
    expect(w.sent).toBeGreaterThan(10_000);
    expect(w.queued).toBeGreaterThan(0);
    // A write's bytes are in the pipe before `sent` counts it; a read's are gone before `received` does.
    expect(Math.abs(w.sent - w.received - w.queued)).toBeLessThanOrEqual(groups * fds);
  });

  describe('on 8 CPUs, 2 groups of 10', () => {
    const cache = new Map<string, RunJson>();
    const small = (extra: Record<string, string | number>) => {
      const key = JSON.stringify(extra);
      if (!cache.has(key)) cache.set(key, run('skylake-sp-2s', SMALL, { groups: 2, fds: 10, ...extra }, 1, 1));
      return cache.get(key) as RunJson;
    };

    test('threads share one mm: their switches are same-mm and nearly free in switch_mm', () => {
      const proc = small({});
      const thr = small({ mode: 'threads' });
      const sp = proc.contextSwitches;
      const st = thr.contextSwitches;
      expect(sp.sameMm).toBe(0);
      expect(sp.differentMm).toBeGreaterThan(20);
      expect(st.differentMm).toBe(0);
      expect(st.sameMm).toBeGreaterThan(20);
      const perSwitch = (r: RunJson) => r.contextSwitches.switchMmCycles / r.contextSwitches.count;
      expect(perSwitch(thr)).toBeLessThan(0.2 * perSwitch(proc));
    });

    test('smaller pipes: senders and receivers sleep far more often per message, and the switch rate follows', () => {
      const big = small({});
      const tiny = small({ pipeBuffers: 1 });
      const sleepsPerMessage = (r: RunJson) => (stats(r).readerSleeps + stats(r).writerSleeps) / stats(r).received;
      expect(sleepsPerMessage(tiny)).toBeGreaterThan(10 * sleepsPerMessage(big));
      expect(tiny.rates.contextSwitches).toBeGreaterThan(5 * big.rates.contextSwitches);
    });
  });

  const strategies = Object.keys(STRATEGIES).filter((s) => !s.startsWith('rfc2016-') && s !== 'linux-4.13');
  test.each(strategies)('%s: runs to completion in both modes, every message delivered, every mm torn down, no violation', (strategy) => {
    const groups = 1;
    const fds = 4;
    const loops = 100;
    for (const mode of ['process', 'threads']) {
      const r = run('skylake-sp-2s', SMALL, { groups, fds, loops, mode }, 0, 4, strategy);
      const w = stats(r);
      expect(r.violations).toEqual([]);
      expect(w.sent).toBe(groups * fds * fds * loops);
      expect(w.received).toBe(w.sent);
      expect(w.queued).toBe(0);
      // exit_mmap flushes once per mm: one per process, or one for the threads' shared mm.
      expect(r.flushes.count).toBe(mode === 'process' ? groups * fds * 2 : 1);
      expect(r.simulated.cycles).toBeLessThan(r.config.cycles); // everyone exited: the run ended early
    }
  });
});
