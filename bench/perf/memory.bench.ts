/**
 * Memory-system throughput: 64 processes, one per CPU of zen3-1s, each replaying a precomputed
 * stream of loads, stores and locked RMWs over private and shared lines, measured in simulated
 * memory operations per wall second.
 *
 * A simulation is not idempotent, so benchmark.js cannot re-run it; instead every repetition
 * builds a fresh machine (untimed) and times only `engine.run()` with process.hrtime.bigint().
 * The first run is a JIT warm-up and the reference for the determinism check.
 */
import { createHash } from 'crypto';
import type { Ops, Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { RngStreams } from '../../lib/rng';
import { MemMachine } from '../../mem/machine';
import { median, millions, type Figure, type PerfOptions } from './common';

const SEED = 1;
const PROFILE = 'zen3-1s';
/** Lines only one CPU touches: mostly L1 hits, plus its own stores' drains. */
const PRIVATE_LINES = 8;
/** Lines every CPU touches: GetS/GetM transfers, invalidations, busy lines. */
const SHARED_LINES = 256;
/** Share of accesses that go to the shared lines. */
const SHARED_FRACTION = 0.2;
const WORDS_PER_LINE = 16;

const K_LOAD = 0;
const K_STORE = 1;
const K_XADD = 2;
const K_CMPXCHG = 3;

/** Every CPU's operations back to back: CPU c owns [c * perCpu, (c + 1) * perCpu). */
interface OpStreams {
  perCpu: number;
  kinds: Uint8Array;
  addrs: Int32Array;
}

interface Layout {
  privateBase: number;
  sharedBase: number;
}

/** Allocates the bench's lines; the same order on every fresh machine gives the same addresses. */
function layout(m: MemMachine, nCpus: number): Layout {
  const privateBase = m.memory.allocLines('private', nCpus * PRIVATE_LINES);
  const sharedBase = m.memory.allocLines('shared', SHARED_LINES);
  return { privateBase, sharedBase };
}

/** 60% loads, 30% stores, 5% XADD, 5% CMPXCHG; drawn once, up front, from a named stream. */
function makeStreams(nCpus: number, perCpu: number, lay: Layout): OpStreams {
  const rng = new RngStreams(SEED).stream('bench.memstream');
  const kinds = new Uint8Array(nCpus * perCpu);
  const addrs = new Int32Array(nCpus * perCpu);
  for (let c = 0; c < nCpus; c++) {
    for (let i = c * perCpu; i < (c + 1) * perCpu; i++) {
      const r = rng.next();
      kinds[i] = r < 0.6 ? K_LOAD : r < 0.9 ? K_STORE : r < 0.95 ? K_XADD : K_CMPXCHG;
      const shared = rng.chance(SHARED_FRACTION);
      const line = shared ? rng.int(SHARED_LINES) : c * PRIVATE_LINES + rng.int(PRIVATE_LINES);
      const word = rng.int(WORDS_PER_LINE);
      addrs[i] = (shared ? lay.sharedBase : lay.privateBase) + line * 64 + word * 4;
    }
  }
  return { perCpu, kinds, addrs };
}

/** Replays one CPU's slice; only integers are yielded, so nothing is allocated per operation. */
function* worker(k: Ops, s: OpStreams, cpu: number): Sim<number> {
  const kinds = s.kinds;
  const addrs = s.addrs;
  const end = (cpu + 1) * s.perCpu;
  let v = 0;
  for (let i = cpu * s.perCpu; i < end; i++) {
    const a = addrs[i];
    const kind = kinds[i];
    if (kind === K_LOAD) v = yield k.load(a);
    else if (kind === K_STORE) yield k.store(a, cpu);
    else if (kind === K_XADD) v = yield k.xadd(a, 1);
    else v = yield k.cmpxchg(a, v, v + 1);
  }
  return v;
}

interface RunResult {
  wallNs: number;
  memOps: number;
  events: number;
  cycles: number;
  dump: string;
  counters: Record<string, unknown>;
}

/** Builds a machine (untimed), runs it to completion (timed), reads the stats (untimed). */
function runOnce(streams: OpStreams | null, perCpu: number): { r: RunResult; streams: OpStreams } {
  const m = new MemMachine({ config: resolveMachine(PROFILE), seed: SEED });
  const nCpus = m.topology.nCpus;
  const lay = layout(m, nCpus);
  const s = streams ?? makeStreams(nCpus, perCpu, lay);
  for (let c = 0; c < nCpus; c++) m.engine.spawn(`mix${c}`, c, worker(m.k, s, c));
  const t0 = process.hrtime.bigint();
  const summary = m.engine.run();
  const wallNs = Number(process.hrtime.bigint() - t0);
  const stats = m.stats.dump();
  const mem = stats.mem as Record<string, unknown>;
  const rmw = mem.rmw as Record<string, number>;
  let memOps = (mem.loads as number) + (mem.stores as number);
  for (const key of Object.keys(rmw)) memOps += rmw[key];
  if (memOps !== s.kinds.length) throw new Error(`executed ${memOps} memory ops, expected ${s.kinds.length}`);
  return {
    r: { wallNs, memOps, events: summary.events, cycles: summary.cycles, dump: JSON.stringify(stats), counters: mem },
    streams: s,
  };
}

export function runMemorySuite(opts: PerfOptions): Figure[] {
  const perCpu = opts.quick ? 4_000 : 40_000;
  const reps = opts.quick ? 2 : 7;
  console.log(`memory suite: ${PROFILE}, 64 processes x ${perCpu.toLocaleString('en-US')} ops ` +
    `(60% load, 30% store, 10% locked RMW; ${Math.round(SHARED_FRACTION * 100)}% on ${SHARED_LINES} shared lines)`);

  const first = runOnce(null, perCpu);
  const ref = first.r;
  const rates: number[] = [];
  let identical = true;
  for (let i = 0; i < reps; i++) {
    const { r } = runOnce(first.streams, perCpu);
    // Same seed, same streams: the stats must match byte for byte, and so must the cycle count.
    if (r.dump !== ref.dump || r.cycles !== ref.cycles) identical = false;
    const rate = (r.memOps * 1e9) / r.wallNs;
    rates.push(rate);
    console.log(`  run ${i + 1}: ${(r.wallNs / 1e6).toFixed(1)} ms  ${millions(rate, 2)} M mem ops/s  ` +
      `${millions((r.events * 1e9) / r.wallNs, 2)} M events/s`);
  }
  const c = ref.counters;
  const co = c.coherence as Record<string, unknown>;
  const rmw = c.rmw as Record<string, number>;
  console.log(`  mem ops ${ref.memOps.toLocaleString('en-US')} (loads ${c.loads}, stores ${c.stores}, ` +
    `xadd ${rmw.xadd}, cmpxchg ${rmw.cmpxchg}), events ${ref.events.toLocaleString('en-US')}, ` +
    `simulated cycles ${ref.cycles.toLocaleString('en-US')}`);
  console.log(`  coherence: hits ${co.hits}, misses ${co.misses}, invalidations ${co.invalidations}, ` +
    `busyWaits ${co.busyWaits}; forwarded ${c.forwarded}, sbStalls ${c.sbStalls}`);
  // The digest lets a speed-up be checked against the previous version: it must not change.
  const digest = createHash('sha256').update(ref.dump).digest('hex').slice(0, 16);
  console.log(`  determinism: ${reps + 1} runs with seed ${SEED}: stats.dump() ${identical ? 'identical' : 'DIFFERENT'}, sha256 ${digest}`);
  if (!identical) throw new Error('memory suite: runs with the same seed produced different stats');

  const best = Math.max(...rates);
  const med = median(rates);
  return [{
    label: 'Memory system, 64 cores mixed',
    value: med,
    unit: 'mem ops/s',
    target: 5e6,
    note: `median of ${reps}; best ${millions(best, 2)} M; ${ref.cycles.toLocaleString('en-US')} sim cycles; deterministic`,
  }];
}
