/**
 * Scheduler throughput: zen3-1s (64 CPUs) under a context-switch-heavy synthetic load, measured in
 * simulated seconds per wall second. Target (the project's issue): about 300,000 switches per
 * simulated second with wake-ups across CPUs, at least 1 simulated second per 10 wall seconds.
 *
 * The load is request/response pairs plus a few kernel threads. A client computes, sleeps on an
 * hrtimer ("I/O"), computes a short burst, posts a request (store + wake-up) and waits for the
 * reply; its server waits, computes a burst, replies and wakes the client. Half the pairs are two
 * threads of one mm, half a client process talking to one of the multi-threaded services. A
 * quarter of the servers start on their client's CPU, a quarter elsewhere in its CCX and half in
 * another CCX, so most wake-ups cross CPUs and send IPIs to halted ones.
 *
 * Every run builds a fresh machine (untimed), times `engine.run({ until })` alone and reads the
 * stats (untimed). Two runs with the same seed must dump identical stats.
 */
import { createHash } from 'crypto';
import { CpuMachine } from '../../cpu/machine';
import { Scheduler } from '../../cpu/sched';
import type { AddressSpace, Task, TaskBody } from '../../cpu/task';
import { resolveMachine } from '../../lib/machine/resolve';
import { RngStreams } from '../../lib/rng';
import { median, millions, type Figure, type PerfOptions } from './common';

const SEED = 1;
const PROFILE = 'zen3-1s';
const PAIRS = 80;
const SERVICES = 8;
const KTHREADS = 8;
/** Duration tables, indexed `i & TABLE_MASK`; each task starts at its own offset. */
const TABLE_SIZE = 4096;
const TABLE_MASK = TABLE_SIZE - 1;
/** In µs, uniform: request/reply bursts, the client's work before its I/O, the I/O sleep. */
/** THINK_US sets the pace: tuned so that the machine makes about 300,000 switches per second. */
const BURST_US = [2, 20] as const;
const WORK_US = [20, 400] as const;
const THINK_US = [200, 2700] as const;
const KTHREAD_PERIOD_US = 1000;
const TARGET_SIM_PER_WALL = 0.1;

interface Tables {
  burst: Int32Array;
  work: Int32Array;
  think: Int32Array;
}

/** Durations in cycles, drawn once from a named stream (never Math.random). */
function makeTables(clockGhz: number): Tables {
  const rng = new RngStreams(SEED).stream('bench.sched');
  const draw = ([lo, hi]: readonly [number, number]): Int32Array => {
    const t = new Int32Array(TABLE_SIZE);
    for (let i = 0; i < TABLE_SIZE; i++) t[i] = Math.round((lo + rng.next() * (hi - lo)) * clockGhz * 1e3);
    return t;
  };
  return { burst: draw(BURST_US), work: draw(WORK_US), think: draw(THINK_US) };
}

interface Pair {
  turn: number; // 0: the client's turn, 1: the server's
  client: Task | null;
  server: Task | null;
}

function client(p: Pair, t: Tables, start: number): TaskBody<Scheduler> {
  return function* ({ k, task, sched }) {
    for (let i = start; ; i++) {
      const j = i & TABLE_MASK;
      yield k.compute(t.work[j]);
      yield* sched.sleepFor(task, t.think[j]);
      yield k.compute(t.burst[j]);
      yield k.store(p.turn, 1);
      yield* sched.wakeUp(task, p.server as Task);
      yield* sched.waitUntil(task, p.turn, 0);
    }
  };
}

function server(p: Pair, t: Tables, start: number): TaskBody<Scheduler> {
  return function* ({ k, task, sched }) {
    for (let i = start; ; i++) {
      yield* sched.waitUntil(task, p.turn, 1);
      yield k.compute(t.burst[i & TABLE_MASK]);
      yield k.store(p.turn, 0);
      yield* sched.wakeUp(task, p.client as Task);
    }
  };
}

/** A kworker: a short burst every period, woken by its hrtimer. */
function kthread(t: Tables, start: number, period: number): TaskBody<Scheduler> {
  return function* ({ k, task, sched }) {
    for (let i = start; ; i++) {
      yield* sched.sleepFor(task, period);
      yield k.compute(t.burst[i & TABLE_MASK]);
    }
  };
}

/** Builds the machine and its tasks; nothing runs yet. */
function build(): { m: CpuMachine; s: Scheduler } {
  const m = new CpuMachine({ config: resolveMachine(PROFILE), seed: SEED });
  const s = new Scheduler(m);
  const n = m.topology.nCpus;
  const perCcx = m.config.params.coresPerCcx * m.config.params.threadsPerCore;
  const t = makeTables(m.config.params.clockGhz);
  const services: AddressSpace[] = [];
  for (let v = 0; v < SERVICES; v++) services.push({ id: 1000 + v, name: `svc${v}` });
  for (let i = 0; i < PAIRS; i++) {
    const p: Pair = { turn: m.memory.allocLines(`pair${i}.turn`), client: null, server: null };
    const threads = i % 2 === 0;
    const mm: AddressSpace = { id: 1 + i, name: threads ? `app${i}` : `client${i}` };
    const c = i % n;
    const ccx = c - (c % perCcx);
    const place = (i >> 1) % 4;
    const sc = place === 0 ? c // same CPU
      : place === 1 ? ccx + ((c + 1) % perCcx) // same CCX
        : (c + perCcx * (1 + ((i >> 3) % (n / perCcx - 1)))) % n; // another CCX
    p.client = s.createTask(`${mm.name}.c`, mm, c, client(p, t, i * 37));
    p.server = s.createTask(`${mm.name}.s`, threads ? mm : services[(i >> 1) % SERVICES], sc, server(p, t, i * 53));
  }
  const period = Math.round(KTHREAD_PERIOD_US * m.config.params.clockGhz * 1e3);
  for (let j = 0; j < KTHREADS; j++) {
    s.createTask(`kworker/${j}`, null, (j * perCcx + perCcx / 2) % n, kthread(t, j * 101, period));
  }
  s.start();
  return { m, s };
}

interface RunResult {
  wallNs: number;
  events: number;
  cycles: number;
  dump: string;
  stats: Record<string, unknown>;
  neverRan: string[];
  nCpus: number;
}

function runOnce(cycles: number): RunResult {
  const { m, s } = build();
  const t0 = process.hrtime.bigint();
  const summary = m.engine.run({ until: cycles });
  const wallNs = Number(process.hrtime.bigint() - t0);
  const stats = m.stats.dump();
  const neverRan = s.tasks.filter((x) => !x.isIdle && x.switchesIn === 0).map((x) => x.name);
  const nCpus = m.topology.nCpus;
  return { wallNs, events: summary.events, cycles: summary.cycles, dump: JSON.stringify(stats), stats, neverRan, nCpus };
}

type Hist = { count: number; mean: number; p50: number; p99: number; max: number };
/** The parts of `stats.dump()` this suite reads. */
interface Dump {
  sched: {
    contextSwitches: Record<'count' | 'sameMm' | 'differentMm' | 'toIdle' | 'fromIdle' | 'toKernelThread' | 'fromKernelThread', number>;
    wakeups: number; wakeupIpis: number; migrations: number; preemptions: number;
    switchCycles: Hist; rqLockWaitCycles: Hist;
  };
  apic: { sent: number };
  [cpu: string]: unknown;
}
const hist = (h: Hist): string => `n ${h.count}, mean ${h.mean.toFixed(0)}, p50 ${h.p50}, p99 ${h.p99}, max ${h.max}`;
const perSec = (x: number, simS: number): string => Math.round(x / simS).toLocaleString('en-US');

export function runSchedSuite(opts: PerfOptions): Figure[] {
  const simSeconds = opts.quick ? 0.05 : 1;
  const p = resolveMachine(PROFILE).params;
  const cycles = Math.round(simSeconds * p.clockGhz * 1e9);
  const nCpus = p.sockets * p.ccxPerSocket * p.coresPerCcx * p.threadsPerCore;
  console.log(`sched suite: ${PROFILE}, ${nCpus} cpus, ${PAIRS} request/response pairs ` +
    `(${PAIRS / 2} thread pairs, ${PAIRS / 2} client/service), ${KTHREADS} kthreads; ${simSeconds} simulated s ` +
    `(${cycles.toLocaleString('en-US')} cycles)`);

  const runs: RunResult[] = [];
  for (let i = 0; i < 2; i++) {
    const r = runOnce(cycles);
    runs.push(r);
    console.log(`  run ${i + 1}: ${(r.wallNs / 1e6).toFixed(0)} ms wall  ` +
      `${((simSeconds * 1e9) / r.wallNs).toFixed(3)} sim s/wall s  ${millions((r.events * 1e9) / r.wallNs, 2)} M events/s`);
  }
  const ref = runs[0];
  const identical = runs.every((r) => r.dump === ref.dump && r.cycles === ref.cycles && r.events === ref.events);

  const st = ref.stats as unknown as Dump;
  const sched = st.sched;
  const cs = sched.contextSwitches;
  console.log(`  events ${ref.events.toLocaleString('en-US')} (${perSec(ref.events, simSeconds)} per sim s, ` +
    `${(ref.events / cs.count).toFixed(1)} per switch)`);
  console.log(`  context switches ${cs.count.toLocaleString('en-US')} = ${perSec(cs.count, simSeconds)} per sim s ` +
    `(sameMm ${cs.sameMm}, differentMm ${cs.differentMm}, toIdle ${cs.toIdle}, fromIdle ${cs.fromIdle}, ` +
    `toKthread ${cs.toKernelThread}, fromKthread ${cs.fromKernelThread})`);
  console.log(`  wakeups ${sched.wakeups} (${perSec(sched.wakeups, simSeconds)} per sim s), wakeupIpis ${sched.wakeupIpis}, ` +
    `IPIs sent ${st.apic.sent}, migrations ${sched.migrations}, preemptions ${sched.preemptions}`);
  console.log(`  switchCycles: ${hist(sched.switchCycles)}`);
  console.log(`  rqLockWaitCycles: ${hist(sched.rqLockWaitCycles)}`);
  // idleCycles counts finished halts only, so this slightly overstates the load.
  let idle = 0;
  for (let c = 0; c < ref.nCpus; c++) idle += (st[`cpu${c}`] as { idleCycles: number }).idleCycles;
  console.log(`  cpus busy ~${(100 - (100 * idle) / (ref.cycles * ref.nCpus)).toFixed(1)}% (1 - halted cycles / all cycles)`);
  if (ref.neverRan.length > 0) console.log(`  WARNING: tasks that never ran: ${ref.neverRan.join(', ')}`);
  const digest = createHash('sha256').update(ref.dump).digest('hex').slice(0, 16);
  console.log(`  determinism: 2 runs with seed ${SEED}: stats.dump() ${identical ? 'identical' : 'DIFFERENT'}, sha256 ${digest}`);
  if (!identical) throw new Error('sched suite: runs with the same seed produced different stats');

  const simRates = runs.map((r) => (simSeconds * 1e9) / r.wallNs);
  const evRates = runs.map((r) => (r.events * 1e9) / r.wallNs);
  const note = `median of 2; ${perSec(cs.count, simSeconds)} switches per sim s; deterministic (sha256 ${digest})`;
  return [
    { label: 'Scheduler, 64 cpus switch-heavy', value: median(simRates), unit: 'sim s/wall s', target: TARGET_SIM_PER_WALL, note },
    { label: 'Scheduler, 64 cpus switch-heavy, events', value: median(evRates), unit: 'events/s' },
  ];
}
