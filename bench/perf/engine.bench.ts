/**
 * Engine throughput with benchmark.js: the hold model (pop the earliest event, push it back a
 * small random increment later) on a bare binary heap, on lazytlb's EventQueue, through the
 * Engine's schedule/dispatch loop, and through generator processes.
 *
 * Every benchmark function does a fixed batch of work so benchmark.js's per-call overhead is
 * negligible; rates are batch x hz. No `setup`/`teardown` is passed to benchmark.js: with them
 * it decompiles the functions into source and the closures below would be lost.
 */
import Benchmark from 'benchmark';
import { Engine } from '../../lib/engine/engine';
import type { Sim } from '../../lib/engine/ops';
import { EventQueue } from '../../lib/engine/event-queue';
import { INC_MASK, INC_MEAN, incrementTable, millions, type Figure, type PerfOptions } from './common';

/** Operations per benchmark call: large enough to hide the call, small enough for many samples. */
const BATCH = 100_000;
/** Key = time * ID_SPACE + item id, so ties break by id and no unpacking is needed. */
const ID_SPACE = 256;

/**
 * The baseline: a minimal binary min-heap of packed keys in a plain JS number array, sifting a
 * hole rather than swapping (FastPriorityQueue / flatqueue style). No sequence numbers, no
 * parallel arrays, no growth: what a priority queue costs at the least.
 */
class BareHeap {
  private readonly keys: number[];
  size = 0;

  constructor(capacity: number) {
    // 0.5 makes the backing store a double array from the start (keys exceed the Smi range).
    this.keys = new Array<number>(capacity).fill(0.5);
  }

  push(key: number): void {
    const k = this.keys;
    let pos = this.size++;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const pk = k[parent];
      if (pk <= key) break;
      k[pos] = pk;
      pos = parent;
    }
    k[pos] = key;
  }

  pop(): number {
    const k = this.keys;
    const top = k[0];
    const n = --this.size;
    if (n === 0) return top;
    const last = k[n];
    const half = n >> 1;
    let pos = 0;
    while (pos < half) {
      let child = 2 * pos + 1;
      const right = child + 1;
      if (right < n && k[right] < k[child]) child = right;
      const ck = k[child];
      if (last <= ck) break;
      k[pos] = ck;
      pos = child;
    }
    k[pos] = last;
    return top;
  }
}

/** A: hold model on the bare heap; one op = one pop + one push. */
function bareHeapCase(items: number, inc: Int32Array): () => void {
  const heap = new BareHeap(items + 1);
  for (let i = 0; i < items; i++) heap.push(inc[i & INC_MASK] * ID_SPACE + i);
  let j = items;
  return () => {
    for (let i = 0; i < BATCH; i++) {
      const key = heap.pop();
      heap.push(key + inc[j++ & INC_MASK] * ID_SPACE);
    }
  };
}

/** B: the same hold model on EventQueue (time, seq tie-break, handler, arg). */
function eventQueueCase(items: number, inc: Int32Array): () => void {
  const q = new EventQueue();
  for (let i = 0; i < items; i++) q.push(inc[i & INC_MASK], 1, i);
  let j = items;
  return () => {
    for (let i = 0; i < BATCH; i++) {
      q.pop();
      q.push(q.popTime + inc[j++ & INC_MASK], q.popHandler, q.popArg);
    }
  };
}

/** Counts the events an engine case really dispatched, since `until` batches vary a little. */
interface EventTally {
  events: number;
  calls: number;
}

/** C: a handler that re-schedules itself; the Engine's own loop does pop, dispatch and push. */
function engineHandlerCase(pending: number, inc: Int32Array, tally: EventTally): () => void {
  const engine = new Engine();
  let j = pending;
  const self = {
    id: 0,
    onEvent(arg: number): void {
      engine.schedule(engine.now + inc[j++ & INC_MASK], self.id, arg);
    },
  };
  self.id = engine.registerHandler(self);
  for (let i = 0; i < pending; i++) engine.schedule(inc[i & INC_MASK], self.id, i);
  // `pending` events spread over a mean increment: this span holds about BATCH events.
  const span = Math.round((BATCH * INC_MEAN) / pending);
  return () => {
    const e0 = engine.eventCount;
    engine.run({ until: engine.now + span });
    tally.events += engine.eventCount - e0;
    tally.calls++;
  };
}

/** D: generator processes, each an endless `yield k.delay(d)` loop (daemons: never "deadlocked"). */
function engineProcessCase(nProcs: number, inc: Int32Array, tally: EventTally): () => void {
  const engine = new Engine();
  const k = engine.ops;
  function* body(start: number): Sim<void> {
    let j = start;
    for (;;) yield k.delay(inc[j++ & INC_MASK]);
  }
  for (let p = 0; p < nProcs; p++) engine.spawn(`delay${p}`, p, body(p * 61), 0, true);
  const span = Math.round((BATCH * INC_MEAN) / nProcs);
  return () => {
    const e0 = engine.eventCount;
    engine.run({ until: engine.now + span });
    tally.events += engine.eventCount - e0;
    tally.calls++;
  };
}

interface Case {
  name: string;
  fn: () => void;
  unit: string;
  /** Operations per call: fixed for A/B, measured for the engine cases. */
  perCall: () => number;
  summary?: { label: string; target?: number };
}

export function runEngineSuite(opts: PerfOptions): Figure[] {
  const inc = incrementTable();
  const cases: Case[] = [];
  const sizes = opts.quick ? [128] : [64, 128, 256];
  for (const n of sizes) {
    const sum = n === 128;
    cases.push({
      name: `bare binary heap (hold, ${n} items)`, fn: bareHeapCase(n, inc), unit: 'ops/s', perCall: () => BATCH,
      summary: sum ? { label: `bare binary heap (hold, ${n} items)` } : undefined,
    });
    cases.push({
      name: `EventQueue (hold, ${n} items)`, fn: eventQueueCase(n, inc), unit: 'ops/s', perCall: () => BATCH,
      summary: sum ? { label: `EventQueue (hold, ${n} items)` } : undefined,
    });
  }
  const tc: EventTally = { events: 0, calls: 0 };
  cases.push({
    name: 'Engine schedule+dispatch (128 pending)', fn: engineHandlerCase(128, inc, tc), unit: 'events/s',
    perCall: () => tc.events / tc.calls, summary: { label: 'Engine schedule+dispatch', target: 10e6 },
  });
  const td: EventTally = { events: 0, calls: 0 };
  cases.push({
    name: 'Engine generator processes (64 procs)', fn: engineProcessCase(64, inc, td), unit: 'events/s',
    perCall: () => td.events / td.calls, summary: { label: 'Engine generator processes' },
  });

  // Short runs for --quick; otherwise ~3 s per case with enough samples for a stable mean.
  const benchOpts: Benchmark.Options = opts.quick
    ? { maxTime: 0.5, minSamples: 5, initCount: 1 }
    : { maxTime: 3, minSamples: 20, initCount: 1 };
  const suite = new Benchmark.Suite('engine');
  for (const c of cases) suite.add(c.name, c.fn, benchOpts);

  const figures: Figure[] = [];
  suite.on('cycle', (ev: Benchmark.Event) => {
    const b = ev.target as unknown as Benchmark;
    const c = cases.find((x) => x.name === b.name) as Case;
    const rate = b.hz * c.perCall();
    const rme = b.stats.rme;
    const samples = b.stats.sample.length;
    const note = `±${rme.toFixed(1)}%, ${samples} samples`;
    console.log(`  ${c.name.padEnd(42)} ${millions(rate).padStart(7)} M ${c.unit}  (${note})`);
    if (c.summary !== undefined) figures.push({ label: c.summary.label, value: rate, unit: c.unit, target: c.summary.target, note });
  });
  suite.on('error', (ev: Benchmark.Event) => {
    throw (ev.target as unknown as Benchmark).error;
  });
  console.log(`engine suite: benchmark.js, ${BATCH.toLocaleString('en-US')} ops per call`);
  suite.run({ async: false });
  return figures;
}
