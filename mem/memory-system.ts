import type { Engine, EventHandler, OpExecutor } from '../lib/engine/engine';
import {
  OP_CMPXCHG, OP_LOAD, OP_LOAD_OVERLAPPED, OP_MFENCE, OP_NAMES, OP_SERIALIZE, OP_SPIN, OP_SPIN_ANY, OP_STORE, SPIN_NO_MASK, isLockedRmw, type Ops,
} from '../lib/engine/ops';
import { PROC_BLOCKED, PROC_READY, type Process } from '../lib/engine/process';
import type { Topology } from '../lib/machine/topology';
import type { Rng } from '../lib/rng';
import type { StatGroup } from '../lib/stats/group';
import { applyRmw } from './atomics';
import type { PctSchedule } from './pct';
import { Coherence, type CoherenceParams } from './coherence';
import { LINE_SHIFT, SimMemory, WORD_SHIFT, growArray } from './memory';
import { MultiPark } from './multi-park';
import { MemoryStats } from './memory-stats';
import { OwnerWindow, SPIN_GRANT } from './owner-window';
import { StoreBuffer } from './store-buffer';
import { describeMemoryWait } from './wait-description';

export interface MemoryParams extends CoherenceParams {
  /** Store-buffer entries per logical CPU. */
  storeBufferEntries: number;
  /** Cycles for a store to retire into the store buffer. */
  storeIssue: number;
  /** Cycles of an MFENCE once the store buffer is empty. */
  mfence: number;
  /** 1: requests on a held line wait for its grant, and its owner keeps a window (mem/owner-window.ts). */
  ownerWindow: number;
}

/** `Process.spinLine` while a woken spinner's re-read is scheduled. */
const SPIN_RECHECK = -2;

/** Randomized timing for litmus runs and exploration; each draw comes from a named stream. */
export interface Perturbation {
  /** Extra 0..transferMax cycles on every coherence miss. */
  transferMax: number;
  /** Extra 0..drainMax cycles (log-uniform) before each store-buffer entry starts to drain. */
  drainMax: number;
  transferRng: Rng;
  drainRng: Rng;
  /** Extra 0..opDelayMax cycles (log-uniform) before one memory operation in eight; 0 = off. */
  opDelayMax: number;
  opDelayRng: Rng;
}

/**
 * The memory system as the CPU sees it: x86-TSO store buffers in front of the MESI fabric.
 * It executes the memory operations of simulated code (loads, stores, fences, locked RMWs and
 * parked spin-waits) and charges each what the coherence model says it costs.
 *
 * Memory values change when a store drains or an RMW is issued, in the engine's single event
 * order, which is the one global order of drains x86-TSO requires.
 */
export class MemorySystem implements OpExecutor, EventHandler {
  readonly memory: SimMemory;
  readonly coherence: Coherence;
  readonly storeBuffers: StoreBuffer[];
  /** Spin-waits on several lines at once (OP_SPIN_ANY; `watch` makes a set). */
  readonly multi: MultiPark;
  /** Grants and windows on held lines (`ownerWindow` = 1), else null: requests take effect at issue. */
  readonly window: OwnerWindow | null;
  /** Per CPU: the latency of its last OP_LOAD_OVERLAPPED, in cycles. */
  readonly overlapLatency: Float64Array;
  private readonly engine: Engine;
  private readonly params: MemoryParams;
  private values: Float64Array;
  /** Head of each line's list of parked spinners (process ids linked through `nextWaiter`). */
  private spinHead: Int32Array;
  /** The memory system's counters (mem.*). */
  private readonly st: MemoryStats;
  private readonly hDrain: number;
  private readonly hSpin: number;
  private readonly hDrainDone: number;
  private drainRng: Rng | null;
  private drainMax: number;
  private opDelayRng: Rng | null;
  private opDelayMax: number;
  private readonly hDelayed: number;
  /** PCT exploration (`--search pct`): each operation and each drain is a step; null = off. */
  private pct: PctSchedule | null;
  private readonly nCpus: number;

  constructor(engine: Engine, topology: Topology, params: MemoryParams, memory: SimMemory, stats: StatGroup) {
    this.memory = memory;
    this.engine = engine;
    this.params = params;
    this.values = memory.values;
    this.coherence = new Coherence(topology, params, memory, stats.group('coherence'));
    this.storeBuffers = [];
    for (let c = 0; c < topology.nCpus; c++) this.storeBuffers.push(new StoreBuffer(params.storeBufferEntries));
    this.overlapLatency = new Float64Array(topology.nCpus);
    this.spinHead = new Int32Array(memory.lineCount).fill(-1);
    memory.grown.attach((lines) => {
      this.values = memory.values;
      this.spinHead = growArray(this.spinHead, lines, -1);
    });
    this.hDrain = engine.registerHandler(this);
    const self = this;
    this.hSpin = engine.registerHandler({ onEvent: (pid: number) => self.spinRecheck(pid) });
    this.hDrainDone = engine.registerHandler({ onEvent: (cpu: number) => self.drainDone(cpu) });
    this.drainRng = null;
    this.drainMax = 0;
    this.opDelayRng = null;
    this.opDelayMax = 0;
    this.pct = null;
    this.nCpus = topology.nCpus;
    this.hDelayed = engine.registerHandler({ onEvent: (pid: number) => self.delayedDispatch(engine.processes[pid]) });
    this.st = new MemoryStats(stats);
    this.multi = new MultiPark(engine, memory, this.coherence, this.storeBuffers, params.l1Hit, stats);
    const grants = { grantProcess: (p: Process) => self.delayedDispatch(p), grantDrain: (cpu: number) => self.onEvent(cpu) };
    this.window = params.ownerWindow === 1 ? new OwnerWindow(engine, topology, this.coherence, memory, grants, stats.group('ownerWindow')) : null;
    this.multi.window = this.window;
  }

  perturb(p: Perturbation | null): void {
    this.coherence.setJitter(p === null ? null : p.transferRng, p === null ? 0 : p.transferMax);
    this.drainRng = p === null ? null : p.drainRng;
    this.drainMax = p === null ? 0 : p.drainMax;
    this.opDelayRng = p === null || p.opDelayMax === 0 ? null : p.opDelayRng;
    this.opDelayMax = p === null ? 0 : p.opDelayMax;
  }

  /** PCT in place of the random operation and drain delays (mem/pct.ts); null turns it off. */
  setPct(pct: PctSchedule | null): void {
    this.pct = pct;
  }

  execute(p: Process, ops: Ops): void {
    const op = ops.op;
    p.op = op;
    p.a = ops.a;
    p.b = ops.b;
    p.c = ops.c;
    p.d = ops.d;
    if (this.opDelayRng !== null && this.opDelayRng.int(8) === 0) {
      // Exploration: this operation issues late, as if the core had stalled before it.
      this.engine.block(p);
      this.engine.schedule(this.engine.now + this.opDelayRng.logUniform(this.opDelayMax), this.hDelayed, p.id);
      return;
    }
    if (this.pct !== null) {
      // PCT: this CPU's step starts as late as its priority says (held back at a change point).
      const late = this.pct.step(p.cpu);
      if (late > 0) {
        this.engine.block(p);
        this.engine.schedule(this.engine.now + late, this.hDelayed, p.id);
        return;
      }
    }
    this.dispatch(p);
  }

  private delayedDispatch(p: Process): void {
    if (p.stale > 0) {
      p.stale--; // an interrupt took over the CPU meanwhile (a spin restarts after it)
      return;
    }
    p.state = PROC_READY;
    this.dispatch(p);
  }

  /** Carries out the operation staged in the process's registers. */
  private dispatch(p: Process): void {
    const op = p.op;
    if (op === OP_LOAD) this.load(p);
    else if (op === OP_LOAD_OVERLAPPED) this.loadOverlapped(p);
    else if (op === OP_STORE) this.store(p);
    else if (op === OP_SPIN) this.spin(p);
    else if (op === OP_SPIN_ANY) this.multi.spin(p);
    else if (op === OP_MFENCE || op === OP_SERIALIZE || isLockedRmw(op)) this.afterDrain(p);
    else throw new Error(`memory system cannot execute '${OP_NAMES[op] ?? op}'`);
  }

  private load(p: Process): void {
    const now = this.engine.now;
    const addr = p.a;
    const sb = this.storeBuffers[p.cpu];
    if (sb.count > 0) {
      const slot = sb.find(addr);
      if (slot >= 0) {
        this.st.loads.value++;
        this.st.forwarded.value++;
        this.engine.resume(p, now + this.params.l1Hit, sb.valueAt(slot, this.values[addr >>> WORD_SHIFT]));
        return;
      }
    }
    if (this.window !== null && this.window.processWaits(p, addr >>> LINE_SHIFT, false)) return; // counted at its grant
    this.st.loads.value++;
    const t = this.coherence.read(p.cpu, addr >>> LINE_SHIFT, now);
    this.engine.resume(p, t, this.values[addr >>> WORD_SHIFT]);
  }

  /** OP_LOAD_OVERLAPPED: the load's coherence transaction now, its value at once, its latency aside. */
  private loadOverlapped(p: Process): void {
    const now = this.engine.now;
    const addr = p.a;
    const sb = this.storeBuffers[p.cpu];
    const slot = sb.count > 0 ? sb.find(addr) : -1;
    if (slot < 0 && this.window !== null && this.window.processWaits(p, addr >>> LINE_SHIFT, false)) return; // counted at its grant
    this.st.loads.value++;
    if (slot >= 0) {
      this.st.forwarded.value++;
      this.overlapLatency[p.cpu] = this.params.l1Hit;
      this.engine.resume(p, now, sb.valueAt(slot, this.values[addr >>> WORD_SHIFT]));
      return;
    }
    this.overlapLatency[p.cpu] = this.coherence.read(p.cpu, addr >>> LINE_SHIFT, now) - now;
    this.engine.resume(p, now, this.values[addr >>> WORD_SHIFT]);
  }

  private store(p: Process): void {
    const now = this.engine.now;
    const sb = this.storeBuffers[p.cpu];
    if (sb.full) {
      if (p.state !== PROC_BLOCKED) {
        this.engine.block(p);
        this.st.sbStalls.value++;
      }
      if (!sb.fullWaiters.includes(p.id)) sb.fullWaiters.push(p.id);
      return;
    }
    if (p.state === PROC_BLOCKED) this.st.sbStallCycles.value += now - p.waitSince;
    sb.push(p.a, p.b, p.c);
    this.st.stores.value++;
    if (!sb.draining) {
      sb.draining = true;
      this.engine.schedule(now + this.params.storeIssue + this.drainDelay(p.cpu), this.hDrain, p.cpu);
    }
    this.engine.resume(p, now + this.params.storeIssue, 0);
  }

  /**
   * Drains the oldest entry of `cpu`'s store buffer: the value becomes visible now, in the global
   * order, and the GetM for its line is issued; the entry stays until the line is owned.
   */
  onEvent(cpu: number): void {
    const now = this.engine.now;
    const sb = this.storeBuffers[cpu];
    const addr = sb.headAddr();
    const line = addr >>> LINE_SHIFT;
    if (this.window !== null && this.window.drainWaits(cpu, line)) return;
    const t = this.coherence.write(cpu, line, now);
    const word = addr >>> WORD_SHIFT;
    this.values[word] = sb.headMerged(this.values[word]);
    this.st.drains.value++;
    if (this.spinHead[line] !== -1) this.wakeSpinners(line, t);
    if (this.multi.parked !== 0) this.multi.written(line, t);
    this.engine.schedule(t, this.hDrainDone, cpu);
  }

  /** The drained store owns its line: free the entry, then drain the next or wake a fence. */
  private drainDone(cpu: number): void {
    const sb = this.storeBuffers[cpu];
    sb.shift();
    if (sb.fullWaiters.length > 0) this.store(this.engine.processes[sb.fullWaiters.shift() as number]); // one entry freed: the oldest waiter
    if (sb.count > 0) {
      this.engine.schedule(this.engine.now + this.drainDelay(cpu), this.hDrain, cpu);
    } else {
      sb.draining = false;
      while (sb.emptyWaiters.length > 0 && sb.count === 0) this.afterDrain(this.engine.processes[sb.emptyWaiters.shift() as number]);
    }
  }

  /** MFENCE, serializing operations and locked RMWs first wait for the store buffer to drain. */
  private afterDrain(p: Process): void {
    const now = this.engine.now;
    const sb = this.storeBuffers[p.cpu];
    if (sb.count > 0) {
      if (p.state !== PROC_BLOCKED) this.engine.block(p);
      if (!sb.emptyWaiters.includes(p.id)) sb.emptyWaiters.push(p.id);
      return;
    }
    if (p.state === PROC_BLOCKED) this.st.fenceWaitCycles.value += now - p.waitSince;
    const op = p.op;
    if (op === OP_MFENCE) {
      this.st.fences.value++;
      this.engine.resume(p, now + this.params.mfence, 0);
    } else if (op === OP_SERIALIZE) {
      this.st.fences.value++;
      this.engine.resume(p, now + p.a, 0);
    } else {
      this.rmw(p, now);
    }
  }

  private rmw(p: Process, now: number): void {
    const addr = p.a;
    const line = addr >>> LINE_SHIFT;
    if (this.window !== null && this.window.processWaits(p, line, true)) return;
    const t = this.coherence.rmw(p.cpu, line, now);
    const result = applyRmw(p.op, this.values, addr >>> WORD_SHIFT, p.b, p.c);
    this.st.rmws[p.op].value++;
    if (p.op === OP_CMPXCHG && result !== p.b) this.st.cmpxchgFailed.value++;
    // Even a failed CMPXCHG takes the line exclusively, so spinners must re-read it.
    if (this.spinHead[line] !== -1) this.wakeSpinners(line, t);
    if (this.multi.parked !== 0) this.multi.written(line, t);
    this.engine.resume(p, t, result);
  }

  /** Reads the spun-on word; returns when the condition holds, else parks on the line until it is written. */
  private spin(p: Process): void {
    const now = this.engine.now;
    const addr = p.a;
    const line = addr >>> LINE_SHIFT;
    const sb = this.storeBuffers[p.cpu];
    const slot = sb.count > 0 ? sb.find(addr) : -1;
    let t: number;
    let v: number;
    if (slot >= 0) {
      t = now + this.params.l1Hit;
      v = sb.valueAt(slot, this.values[addr >>> WORD_SHIFT]);
    } else if (this.window !== null && this.window.processWaits(p, line, false)) {
      p.spinLine = SPIN_GRANT; // an interrupt takes it out of the queue (unpark)
      return;
    } else {
      t = this.coherence.read(p.cpu, line, now);
      v = this.values[addr >>> WORD_SHIFT];
    }
    const x = p.b === SPIN_NO_MASK ? v : (v & p.b) >>> 0;
    if ((x === p.c) !== (p.d === 1)) {
      p.spinLine = -1;
      if (p.state === PROC_BLOCKED) this.st.spinCycles.value += t - p.waitSince;
      this.engine.resume(p, t, v);
      return;
    }
    if (p.state !== PROC_BLOCKED) {
      this.engine.block(p);
      this.st.spinParks.value++;
    }
    p.spinLine = line;
    p.nextWaiter = this.spinHead[line];
    this.spinHead[line] = p.id;
  }

  /**
   * Takes a spinning process off its line (a CPU layer interrupting the spin loop): it is no
   * longer woken, and a re-read already scheduled for it is cancelled. `retry` restarts the spin.
   */
  unpark(p: Process): void {
    if (p.spinLine === SPIN_GRANT) (this.window as OwnerWindow).remove(p);
    else if (p.op === OP_SPIN_ANY) this.multi.unpark(p);
    else if (p.spinLine === SPIN_RECHECK) {
      p.stale++;
    } else if (p.spinLine >= 0) {
      let prev = -1;
      let pid = this.spinHead[p.spinLine];
      while (pid !== p.id) {
        prev = pid;
        pid = this.engine.processes[pid].nextWaiter;
      }
      if (prev === -1) this.spinHead[p.spinLine] = p.nextWaiter;
      else this.engine.processes[prev].nextWaiter = p.nextWaiter;
      p.nextWaiter = -1;
    }
    p.spinLine = -1;
  }

  /** A woken spinner's re-read, unless an interrupt cancelled it (the spin restarts after it). */
  private spinRecheck(pid: number): void {
    const p = this.engine.processes[pid];
    if (p.stale > 0) p.stale--;
    else this.spin(p);
  }

  /** Re-executes a process's interrupted spin-wait from its first read, as the loop would. */
  retry(p: Process): void {
    this.dispatch(p); // OP_SPIN or OP_SPIN_ANY
  }

  /** A write to `line` completes at `at`: every parked spinner re-reads it then (and pays the miss). */
  private wakeSpinners(line: number, at: number): void {
    let pid = this.spinHead[line];
    this.spinHead[line] = -1;
    const procs = this.engine.processes;
    while (pid !== -1) {
      const p = procs[pid];
      pid = p.nextWaiter;
      p.nextWaiter = -1;
      p.spinLine = SPIN_RECHECK;
      this.engine.schedule(at, this.hSpin, p.id);
    }
  }

  private drainDelay(cpu: number): number {
    // PCT: the store buffer is an entity of its own, so a drain is a step.
    if (this.pct !== null) return this.pct.step(this.nCpus + cpu);
    return this.drainRng === null ? 0 : this.drainRng.logUniform(this.drainMax);
  }

  describeWait(p: Process): string {
    return describeMemoryWait(this.memory, this.multi, p);
  }
}
