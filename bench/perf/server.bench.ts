/**
 * The whole model at work: `memcache` (300,000 switches and 19,000 flushes per simulated second,
 * van Riel 2018) on `skylake-sp-2s` (56 CPUs) under `linux-4.20`, the speed targets:
 *
 * - the steady rate, in simulated seconds per wall second (benchmark.js, 50-ms windows);
 * - one simulated second from a cold process (setup, JIT warm-up and the 1-ms warm-up included),
 *   target at most 10 s;
 * - scaling: the same per-CPU load on 256 CPUs (8 sockets x 32 cores), target at most 4x the wall
 *   time of 56 CPUs per simulated ms, in steady state (the marginal cost of a window's last four
 *   fifths). With a memcached per socket each mm spans about as many CPUs on both machines; with
 *   one memcached a flush reaches more CPUs on the larger one, so its events grow faster than the
 *   CPUs. Both are printed, with the wall time per event beside them;
 * - the cost of one flush against its targets (munmap-micro with n spinners on 256 CPUs), which
 *   must grow at most linearly: events and wall time per flush per target;
 * - the peak RSS of a 256-CPU process over one simulated second, target at most 500 MB;
 * - the bytes allocated per event in steady state (after a warm-up), target at most 16.
 *
 * Each run is a child process (`server-child.ts`), so that its peak RSS is its own; the scaling
 * runs are timed after an untimed JIT warm-up and the machine's build, the cold run is not. Two runs of each
 * configuration must give identical results.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import Benchmark from 'benchmark';
import { simulate, type SimulateConfig } from '../experiment/api';
import { median, millions, type Figure, type PerfOptions } from './common';

const BASE: SimulateConfig = { machine: 'skylake-sp-2s', strategy: 'linux-4.20', workload: 'memcache', seed: 1 };
const BASE_CPUS = 56;
/** memcache's machine-wide defaults (its spec table), scaled per CPU for the larger machine. */
const SWITCHES_PER_S = 300_000;
const FLUSHES_PER_S = 19_000;
const BIG = { sockets: 8, coresPerCcx: 32 };
const BIG_CPUS = 8 * 32;

interface ChildRun {
  wallMs: number;
  events: number;
  maxRssKb: number;
  allocBytes: number;
  result: { flushes: { count: number }; ipis: { tlbFlush: number } };
}

/** Per flush per target, for n = 7, 31, 127 targets: the last over the first must stay near 1. */
function perTarget(opts: PerfOptions): Figure {
  const rows = [7, 31, 127].map((n) => {
    const r = child({ ...BASE, workload: 'munmap-micro', workloadParams: { n }, params: BIG, ms: opts.quick ? 1 : 4 }, 'warm');
    const flushes = r.result.flushes.count;
    return { n, events: r.events / flushes / n, us: (r.wallMs * 1000) / flushes / n };
  });
  for (const x of rows) console.log(`  munmap-micro, ${x.n} targets: ${x.events.toFixed(0)} events and ${x.us.toFixed(1)} wall µs per flush per target`);
  const growth = rows[rows.length - 1].us / rows[0].us;
  return { label: 'wall per flush per target, 127 vs 7', value: growth, unit: 'x', ceiling: 2, note: 'linear growth gives about 1' };
}

/** Bytes allocated per event over a window after a warm-up (the steady state). */
function allocation(opts: PerfOptions): Figure {
  const ms = opts.quick ? 5 : 20;
  const r = child({ ...BASE, ms }, 'alloc');
  const perEvent = r.allocBytes / r.events;
  console.log(`  allocation, ${ms} simulated ms after a warm-up: ${(r.allocBytes / 1e6).toFixed(1)} MB, ${perEvent.toFixed(0)} bytes per event`);
  return { label: 'allocation per event, steady', value: perEvent, unit: 'B/event', ceiling: 16, note: 'V8 GC profiler: heap growth between collections' };
}

function child(config: SimulateConfig, mode: 'cold' | 'warm' | 'alloc' | 'marginal' = 'cold'): ChildRun {
  const script = path.join(__dirname, 'server-child.js');
  const out = execFileSync(process.execPath, [script, JSON.stringify(config), ...(mode === 'cold' ? [] : [mode])], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return JSON.parse(out) as ChildRun;
}

/** Two cold runs of one configuration: identical results, or the suite fails. */
function twice(config: SimulateConfig, what: string, mode: 'cold' | 'warm' | 'marginal' = 'cold'): ChildRun[] {
  const runs = [child(config, mode), child(config, mode)];
  if (JSON.stringify(runs[0].result) !== JSON.stringify(runs[1].result)) throw new Error(`server suite: two runs of ${what} differ`);
  return runs;
}

/**
 * memcache's load scaled per CPU. `perSocket` runs a memcached per socket (2 at 56 CPUs, 8 at
 * 256), so that each mm spans about as many CPUs on both machines (28 and 32): the same per-CPU
 * load. Without it one process spans the machine, and each flush reaches more CPUs on the larger.
 */
function scaled(cpus: number, ms: number, perSocket = false): SimulateConfig {
  const f = cpus / BASE_CPUS;
  const workloadParams: Record<string, number> = { contextSwitchesPerSecond: Math.round(SWITCHES_PER_S * f), flushesPerSecond: Math.round(FLUSHES_PER_S * f) };
  if (perSocket) workloadParams.instances = cpus === BASE_CPUS ? 2 : BIG.sockets;
  return { ...BASE, ms, params: cpus === BASE_CPUS ? {} : BIG, workloadParams };
}

/** 256 vs 56 CPUs: wall time per simulated ms in steady state (marginal windows, machine built and warm). */
function scaling(opts: PerfOptions, perSocket: boolean): Figure {
  const ms = opts.quick ? 10 : 50;
  const what = perSocket ? 'a memcached per socket' : 'one memcached';
  // Alternating rounds, medians: the host's noise (±30% between processes on a shared VM) hits both sides alike.
  const small: ChildRun[] = [];
  const big: ChildRun[] = [];
  for (let round = 0; round < (opts.quick ? 1 : 3); round++) {
    small.push(...twice(scaled(BASE_CPUS, ms, perSocket), `56 CPUs, ${what}`, 'marginal'));
    big.push(...twice(scaled(BIG_CPUS, ms, perSocket), `256 CPUs, ${what}`, 'marginal'));
  }
  const wall = (rs: ChildRun[]) => median(rs.map((r) => r.wallMs));
  const ratio = wall(big) / wall(small);
  const events = big[0].events / small[0].events;
  const perEvent = wall(big) / big[0].events / (wall(small) / small[0].events);
  const ipisPerFlush = (r: ChildRun) => (r.result.ipis.tlbFlush / Math.max(1, r.result.flushes.count)).toFixed(2);
  console.log(`  scaling, ${what}, the last ${(ms * 4) / 5} of ${ms} simulated ms: 56 CPUs ${wall(small).toFixed(0)} ms, 256 CPUs ${wall(big).toFixed(0)} ms (x${ratio.toFixed(2)}); ` +
    `events x${events.toFixed(2)}, wall per event x${perEvent.toFixed(2)}; flush IPIs per flush ${ipisPerFlush(small[0])} -> ${ipisPerFlush(big[0])}`);
  return {
    label: `256 vs 56 CPUs per sim ms, ${perSocket ? 'per socket' : 'one process'}`, value: ratio, unit: 'x', ceiling: perSocket ? 4 : undefined,
    note: `events x${events.toFixed(2)}, wall per event x${perEvent.toFixed(2)}`,
  };
}

function steadyRate(opts: PerfOptions): Figure {
  const windowMs = 50;
  const suite = new Benchmark.Suite('server');
  const figures: Figure[] = [];
  suite.add('memcache 50 ms', () => simulate({ ...BASE, ms: windowMs }), opts.quick ? { maxTime: 1, minSamples: 2 } : { maxTime: 10, minSamples: 8 });
  suite.on('cycle', (ev: Benchmark.Event) => {
    const b = ev.target as unknown as Benchmark;
    const rate = (b.hz * windowMs) / 1000;
    const note = `±${b.stats.rme.toFixed(1)}%, ${b.stats.sample.length} samples of ${windowMs} simulated ms (+1 ms warm-up), benchmark.js`;
    console.log(`  steady: ${rate.toFixed(3)} simulated s per wall s (${note})`);
    figures.push({ label: 'memcache, 56 CPUs, linux-4.20, steady', value: rate, unit: 'sim s/wall s', target: 0.1, note });
  });
  suite.on('error', (ev: Benchmark.Event) => {
    throw (ev.target as unknown as Benchmark).error;
  });
  suite.run({ async: false });
  return figures[0];
}

export function runServerSuite(opts: PerfOptions): Figure[] {
  console.log(`server suite: memcache on skylake-sp-2s under linux-4.20${opts.quick ? ' (--quick: shorter windows)' : ''}`);
  const figures: Figure[] = [steadyRate(opts)];

  const simS = opts.quick ? 0.1 : 1;
  const cold = twice({ ...BASE, ms: simS * 1000 }, 'the cold run');
  const coldS = median(cold.map((r) => r.wallMs)) / 1000;
  console.log(`  cold: ${simS} simulated s in ${cold.map((r) => (r.wallMs / 1000).toFixed(2)).join(' / ')} wall s (${millions(cold[0].events, 1)} M events); identical results`);
  figures.push({ label: `memcache, 56 CPUs, ${simS} sim s from cold`, value: coldS, unit: 'wall s', ceiling: opts.quick ? undefined : 10, note: 'median of 2 child processes' });

  figures.push(scaling(opts, true), scaling(opts, false));
  figures.push(perTarget(opts));

  const rssRun = child(scaled(BIG_CPUS, opts.quick ? 20 : 1000));
  const rssMb = rssRun.maxRssKb / 1024;
  console.log(`  peak RSS, 256 CPUs over ${opts.quick ? 20 : 1000} simulated ms: ${rssMb.toFixed(0)} MB (${(rssRun.wallMs / 1000).toFixed(1)} wall s)`);
  figures.push({ label: `peak RSS, 256 CPUs, ${opts.quick ? '20 ms' : '1 s'}`, value: rssMb, unit: 'MB', ceiling: opts.quick ? undefined : 500 });
  figures.push(allocation(opts));
  return figures;
}
