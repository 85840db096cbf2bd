import type { Engine } from '../lib/engine/engine';
import { PROC_BLOCKED, type Process } from '../lib/engine/process';
import type { Counter } from '../lib/stats/counter';
import type { StatGroup } from '../lib/stats/group';
import type { Coherence } from './coherence';
import { LINE_SHIFT, WORD_SHIFT, type SimMemory } from './memory';
import { SPIN_GRANT, type OwnerWindow } from './owner-window';
import type { StoreBuffer } from './store-buffer';

/** `Process.spinLine` of a process parked on the lines of a watch set (SPIN_RECHECK is -2). */
const MULTI_PARKED = -3;
/** `Process.spinLine` while a woken multi-line spinner's re-read is scheduled (as SPIN_RECHECK). */
const MULTI_RECHECK = -2;

/**
 * The words a polling loop reads on each pass, with the value it last saw in each: the loop's
 * registers. The owner updates `seen` after it handles a change.
 */
export class WatchSet {
  readonly id: number;
  readonly name: string;
  /** Word addresses, in the order the loop reads them. */
  readonly addrs: readonly number[];
  /** The value last seen at each address: the loop waits while every word still holds it. */
  readonly seen: Float64Array;
  /** The distinct lines of `addrs`, each once (a write to any of them ends the wait). */
  readonly lines: readonly number[];

  constructor(id: number, name: string, addrs: readonly number[]) {
    this.id = id;
    this.name = name;
    this.addrs = addrs;
    this.seen = new Float64Array(addrs.length);
    this.lines = [...new Set(addrs.map((a) => a >>> LINE_SHIFT))];
  }
}

/**
 * A spin-wait on several lines at once (`OP_SPIN_ANY`): the loop
 *
 *   while (a[0] == seen[0] && a[1] == seen[1] && ...) cpu_relax();
 *
 * that Barrelfish's idle dispatcher runs over its UMP channels, and that MONITOR/MWAIT would arm
 * on several lines. As the one-line spin (`MemorySystem.spin`) it costs events per write, not
 * per pass: one pass reads every word (they are independent loads, so an out-of-order core
 * overlaps them and the pass takes the slowest); while nothing changed the process parks on
 * every line of the set, and the first write to any of them wakes it at the write's completion
 * to read them all again, a miss on the written line and L1 hits on the others. It returns the
 * index of the first word (in set order) that differs from `seen`.
 *
 * Nothing here runs, and no stat is registered, until a component calls `watch`, so a run
 * without a watch set is bit-identical to one before this file existed.
 */
export class MultiPark {
  /** Processes parked on some watch set's lines; 0 lets the write path skip the lookup. */
  parked = 0;
  private readonly sets: WatchSet[] = [];
  /** Per watched line with parked processes: their ids, in the order they parked. */
  private readonly waiters = new Map<number, number[]>();
  private readonly engine: Engine;
  private readonly memory: SimMemory;
  private readonly coherence: Coherence;
  private readonly storeBuffers: readonly StoreBuffer[];
  private readonly statsParent: StatGroup;
  private readonly l1Hit: number;
  /** Grants and windows on held lines (MemorySystem.window), else null: a pass waits for them once (`passWaits`). */
  window: OwnerWindow | null = null;
  private hRecheck = -1;
  private parks: Counter | null = null;
  private wakeups: Counter | null = null;
  private waitCycles: Counter | null = null;

  constructor(engine: Engine, memory: SimMemory, coherence: Coherence, storeBuffers: readonly StoreBuffer[], l1Hit: number, stats: StatGroup) {
    this.engine = engine;
    this.memory = memory;
    this.coherence = coherence;
    this.storeBuffers = storeBuffers;
    this.l1Hit = l1Hit;
    this.statsParent = stats;
  }

  /** A new watch set over `addrs` (its `seen` values start at 0): pass its id to `spinUntilAnyChanged`. */
  watch(name: string, addrs: readonly number[]): WatchSet {
    if (addrs.length === 0) throw new Error(`watch set '${name}' has no words`);
    if (this.hRecheck < 0) {
      const s = this.statsParent.group('multiPark');
      this.parks = s.counter('parks', 'multi-line spin-waits that found every word unchanged and parked on all their lines');
      this.wakeups = s.counter('wakeups', 'writes to a watched line that woke a parked multi-line spinner (it then re-reads every word)');
      this.waitCycles = s.counter('waitCycles', 'cycles multi-line spinners spent parked (idle polling included)');
      this.hRecheck = this.engine.registerHandler({ onEvent: (pid: number) => this.recheck(this.engine.processes[pid]) });
    }
    const set = new WatchSet(this.sets.length, name, addrs);
    this.sets.push(set);
    return set;
  }

  /** OP_SPIN_ANY: one pass over the set's words; return the first changed index, else park on every line. */
  spin(p: Process): void {
    const set = this.sets[p.a];
    const now = this.engine.now;
    const sb = this.storeBuffers[p.cpu];
    const values = this.memory.values;
    const window = this.window;
    if (window !== null && window.passWaits(p, set.lines)) {
      p.spinLine = SPIN_GRANT;
      return;
    }
    let done = now;
    let changed = -1;
    for (let i = 0; i < set.addrs.length; i++) {
      const addr = set.addrs[i];
      const slot = sb.count > 0 ? sb.find(addr) : -1;
      if (window !== null && slot < 0) this.coherence.credit = window.takeCredit(addr >>> LINE_SHIFT);
      const t = slot >= 0 ? now + this.l1Hit : this.coherence.read(p.cpu, addr >>> LINE_SHIFT, now);
      if (t > done) done = t;
      const v = slot >= 0 ? sb.valueAt(slot, values[addr >>> WORD_SHIFT]) : values[addr >>> WORD_SHIFT];
      if (changed < 0 && v !== set.seen[i]) changed = i;
    }
    if (changed >= 0) {
      p.spinLine = -1;
      if (p.state === PROC_BLOCKED) (this.waitCycles as Counter).value += done - p.waitSince;
      this.engine.resume(p, done, changed);
      return;
    }
    if (p.state !== PROC_BLOCKED) {
      this.engine.block(p);
      (this.parks as Counter).value++;
    }
    p.spinLine = MULTI_PARKED;
    for (const line of set.lines) {
      const list = this.waiters.get(line);
      if (list === undefined) this.waiters.set(line, [p.id]);
      else list.push(p.id);
    }
    this.parked++;
  }

  /** A write to `line` completes at `at`: every process parked on it re-reads its whole set then. */
  written(line: number, at: number): void {
    const list = this.waiters.get(line);
    if (list === undefined) return;
    for (const pid of [...list]) {
      const p = this.engine.processes[pid];
      this.leave(p);
      p.spinLine = MULTI_RECHECK;
      (this.wakeups as Counter).value++;
      this.engine.schedule(at, this.hRecheck, pid);
    }
  }

  /** A CPU layer interrupts the spin: off every line, or its scheduled re-read cancelled. */
  unpark(p: Process): void {
    if (p.spinLine === MULTI_RECHECK) p.stale++;
    else if (p.spinLine === MULTI_PARKED) this.leave(p);
    p.spinLine = -1;
  }

  describe(p: Process): string {
    const set = this.sets[p.a];
    const words = set.addrs.slice(0, 4).map((a, i) => `[${this.memory.symbolize(a)}] (now ${this.memory.peek(a)}, seen ${set.seen[i]})`);
    const more = set.addrs.length > 4 ? ` and ${set.addrs.length - 4} more words` : '';
    return `polling ${set.name} until one of ${set.addrs.length} words changes: ${words.join(', ')}${more}`;
  }

  private recheck(p: Process): void {
    if (p.stale > 0) {
      p.stale--; // an interrupt took the CPU before the re-read (it restarts the spin itself)
      return;
    }
    this.spin(p);
  }

  /** Takes a parked process off each line of its set. */
  private leave(p: Process): void {
    for (const line of this.sets[p.a].lines) {
      const list = this.waiters.get(line) as number[];
      const i = list.indexOf(p.id);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.waiters.delete(line);
    }
    this.parked--;
  }
}
