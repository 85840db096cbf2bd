import type { Engine, EventHandler } from '../lib/engine/engine';
import { OP_SPIN_ANY } from '../lib/engine/ops';
import { PROC_BLOCKED, type Process } from '../lib/engine/process';
import { DIST_SMT, type Topology } from '../lib/machine/topology';
import type { Counter } from '../lib/stats/counter';
import type { StatGroup } from '../lib/stats/group';
import type { Coherence } from './coherence';
import { growArray, type SimMemory } from './memory';
import { I, S } from './mesi';

/** `Process.spinLine` while a spin's read (OP_SPIN, or a pass of OP_SPIN_ANY) waits for a grant: an interrupt takes it out (`remove`). */
export const SPIN_GRANT = -4;

/** What the memory system does when a waiting request is granted: carry it out, now. */
export interface GrantTarget {
  /** Re-executes a process's staged memory operation (a load, a spin's read, a locked RMW). */
  grantProcess(p: Process): void;
  /** Re-runs the drain of `cpu`'s oldest store-buffer entry. */
  grantDrain(cpu: number): void;
}

/**
 * The owner's window on a contended line (machine parameter `ownerWindow` = 1; docs/ARCHITECTURE.md,
 * "The owner window"). Without it a directory request takes effect at issue, and a line passes to
 * the next requester the moment a transaction completes, so a CPU whose CMPXCHG failed never
 * finds the line still its own when it retries. With it:
 * - a request that misses waits in its line's FIFO while a transaction is in flight, others wait,
 *   or another CPU owns the line in E or M, and takes effect when granted: its value is the
 *   line's as of its grant, as the home agent serializes requests on real hardware;
 * - the owner keeps the line until the snoop for the head of the queue reaches it, half the
 *   transfer after it left (when the last transaction ended, or the head arrived): its accesses
 *   meanwhile hit, and queue after, so an owner's spin cannot starve a waiter;
 * - the granted request is charged its transfer less the window it waited (`Coherence.credit`):
 *   a hand-off costs what it cost before.
 * A waiting entry is a process (its id, >= 0) or a store-buffer drain (-2 - cpu).
 */
export class OwnerWindow implements EventHandler {
  private readonly engine: Engine;
  private readonly coherence: Coherence;
  private readonly topology: Topology;
  private readonly target: GrantTarget;
  private readonly hGrant: number;
  /** Per line: the first and last waiting entry (-1: none), and the cycle of its pending grant event (-1: none). */
  private head: Int32Array;
  private tail: Int32Array;
  private eventAt: Float64Array;
  /** The next entry in a line's FIFO, per process id and per CPU's drain. */
  private nextOfProc: Int32Array;
  private readonly nextOfDrain: Int32Array;
  /** Per process id: the line it waits for, or -1. */
  private waitLine: Int32Array;
  /** The entry being granted: it passes its own line's queue (a poll pass: every line's). */
  private granting: number;
  /** A poll pass being granted: its line and what its read is charged less (`takeCredit`). */
  private creditLine: number;
  private creditCycles: number;
  /** When each waiting process (by id) and each CPU's waiting drain began to wait. */
  private sinceProc: Float64Array;
  private readonly sinceDrain: Float64Array;
  private readonly waits: Counter;
  private readonly waitCycles: Counter;

  constructor(engine: Engine, topology: Topology, coherence: Coherence, memory: SimMemory, target: GrantTarget, stats: StatGroup) {
    this.engine = engine;
    this.coherence = coherence;
    this.topology = topology;
    this.target = target;
    this.hGrant = engine.registerHandler(this);
    const lines = memory.lineCount;
    this.head = new Int32Array(lines).fill(-1);
    this.tail = new Int32Array(lines).fill(-1);
    this.eventAt = new Float64Array(lines).fill(-1);
    this.nextOfProc = new Int32Array(64).fill(-1);
    this.nextOfDrain = new Int32Array(topology.nCpus).fill(-1);
    this.waitLine = new Int32Array(64).fill(-1);
    this.granting = -1;
    this.creditLine = -1;
    this.creditCycles = 0;
    this.sinceProc = new Float64Array(64);
    this.sinceDrain = new Float64Array(topology.nCpus);
    this.waits = stats.counter('waits', 'directory requests that waited for their line to be granted (another CPU\'s transaction or window)');
    this.waitCycles = stats.counter('waitCycles', 'cycles those requests waited');
    memory.grown.attach((n) => {
      this.head = growArray(this.head, n, -1);
      this.tail = growArray(this.tail, n, -1);
      this.eventAt = growArray(this.eventAt, n, -1);
    });
  }

  /**
   * The cycle from which `cpu` may be granted `line`: once the line's transaction in flight is done;
   * and, if another CPU holds it in E or M, once the snoop sent for `cpu` has reached that owner (it
   * leaves when the last directory transaction ended, or when the head of the queue arrived,
   * whichever is later) and the locked RMW the owner may be in has finished. The owner's hits do
   * not move that snoop. A line in S needs no snoop: the LLC serves it, invalidations are charged.
   */
  private freeAt(cpu: number, line: number): number {
    const c = this.coherence;
    const o = c.owner[line];
    if (o < 0 || o === cpu) return c.busyUntil[line];
    return Math.max(c.busyUntil[line], this.sentAt(line) + this.window(cpu, o));
  }

  /** When the snoop for the head of `line`'s queue left: the last transaction's end or the head's arrival (now, if nobody waits). */
  private sentAt(line: number): number {
    return Math.max(this.coherence.grantEnd[line], this.arrivedAt(line));
  }

  /** When the head of `line`'s queue began to wait (now, if nobody waits). */
  private arrivedAt(line: number): number {
    const h = this.head[line];
    return h === -1 ? this.engine.now : this.sinceOf(h);
  }

  /**
   * Whether `cpu`, holding `line` well enough, may use it now: yes unless it owns the line (E or M)
   * and the snoop for the request at the head of the queue has reached it: the line is leaving.
   */
  private mayHit(cpu: number, line: number): boolean {
    const h = this.head[line];
    if (h === -1 || this.coherence.owner[line] !== cpu) return true;
    return this.engine.now < this.sentAt(line) + this.window(this.cpuOf(h), cpu);
  }

  /**
   * Half the dirty transfer from `last` to `cpu`: the forwarded snoop's way to the owner. None
   * between SMT siblings: they share the L1D, so no snoop travels, and the line goes to the
   * sibling's locked op when the owner's op in progress ends (nviennot's SMT figures: one CAS per hand-off).
   */
  private window(cpu: number, last: number): number {
    const d = this.topology.distanceUnchecked(cpu, last);
    return d === DIST_SMT ? 0 : Math.floor(this.coherence.costTo(cpu, last, d) / 2);
  }

  /**
   * A request of `cpu` on `line` may proceed now: a hit the owner's window allows, or a miss nothing
   * holds up. The common case first: nobody waits, and the line is `cpu`'s own or idle in no one's.
   */
  private mayGo(cpu: number, line: number, write: boolean): boolean {
    if (this.head[line] === -1) {
      const o = this.coherence.owner[line];
      if (o === cpu || (o < 0 && this.coherence.busyUntil[line] <= this.engine.now)) return true;
    }
    return this.hits(cpu, line, write) ? this.mayHit(cpu, line) : !this.mustWait(cpu, line);
  }

  /** Whether `cpu` holds `line` well enough for a read (any valid state) or a write (E or M). */
  private hits(cpu: number, line: number, write: boolean): boolean {
    const st = this.coherence.stateOf(cpu, line);
    return write ? st !== I && st !== S : st !== I;
  }

  /**
   * A process's request on `line` (a load or spin read; `write` for a locked RMW): true if it must
   * wait, in which case it is queued and blocked until its grant re-executes it.
   */
  processWaits(p: Process, line: number, write: boolean): boolean {
    if (this.granting === p.id || this.mayGo(p.cpu, line, write)) return false;
    this.wait(p, line);
    return true;
  }

  /** Blocks `p` and queues it on `line`. */
  private wait(p: Process, line: number): void {
    if (p.state !== PROC_BLOCKED) this.engine.block(p);
    if (p.id >= this.waitLine.length) {
      this.waitLine = growArray(this.waitLine, 2 * p.id + 2, -1);
      this.nextOfProc = growArray(this.nextOfProc, 2 * p.id + 2, -1);
      this.sinceProc = growArray(this.sinceProc, 2 * p.id + 2, 0);
    }
    this.waitLine[p.id] = line;
    this.enqueue(p.id, line);
  }

  /**
   * A pass of a multi-line poll (OP_SPIN_ANY) over `lines`: its reads overlap, as a poll loop's
   * loads do, so if some must wait, the pass waits once, on the one whose grant comes last, and
   * then reads every line at its grant. True if it waits.
   */
  passWaits(p: Process, lines: readonly number[]): boolean {
    if (this.granting === p.id) return false;
    let on = -1;
    let latest = -1;
    for (const line of lines) {
      if (this.mayGo(p.cpu, line, false)) continue;
      const at = this.freeAt(p.cpu, line);
      if (at > latest) {
        latest = at;
        on = line;
      }
    }
    if (on < 0) return false;
    this.wait(p, on);
    return true;
  }

  /** What the read of `line` in a granted poll pass is charged less: the window its grant waited (once). */
  takeCredit(line: number): number {
    if (line !== this.creditLine) return 0;
    this.creditLine = -1;
    return this.creditCycles;
  }

  /** The drain of `cpu`'s oldest store on `line`: true if it must wait (it is re-run at its grant). */
  drainWaits(cpu: number, line: number): boolean {
    const entry = -2 - cpu;
    if (this.granting === entry || this.mayGo(cpu, line, true)) return false;
    this.enqueue(entry, line);
    return true;
  }

  /** Takes a waiting process out of its line's queue (an interrupt took the CPU from its spin). */
  remove(p: Process): void {
    const line = this.waitLine[p.id];
    this.waitLine[p.id] = -1;
    let prev = -1;
    for (let e = this.head[line]; e !== -1; prev = e, e = this.nextOf(e)) {
      if (e !== p.id) continue;
      const next = this.nextOf(e);
      if (prev === -1) this.head[line] = next;
      else this.setNext(prev, next);
      if (this.tail[line] === e) this.tail[line] = prev;
      this.setNext(e, -1);
      return;
    }
  }

  /** A miss waits while others queue on its line, or while another CPU's transaction or window holds it. */
  private mustWait(cpu: number, line: number): boolean {
    return this.head[line] !== -1 || this.freeAt(cpu, line) > this.engine.now;
  }

  private enqueue(entry: number, line: number): void {
    this.waits.value++;
    if (entry >= 0) this.sinceProc[entry] = this.engine.now;
    else this.sinceDrain[-2 - entry] = this.engine.now;
    if (this.head[line] === -1) this.head[line] = entry;
    else this.setNext(this.tail[line], entry);
    this.tail[line] = entry;
    this.setNext(entry, -1);
    if (this.eventAt[line] < 0) this.schedule(line);
  }

  private schedule(line: number): void {
    const at = Math.max(this.engine.now, this.freeAt(this.cpuOf(this.head[line]), line));
    this.eventAt[line] = at;
    this.engine.schedule(at, this.hGrant, line);
  }

  /** A grant event: the head of the line's queue is granted if the line is free for it, and so on. */
  onEvent(line: number): void {
    this.eventAt[line] = -1;
    const c = this.coherence;
    const now = this.engine.now;
    while (this.head[line] !== -1) {
      const entry = this.head[line];
      const cpu = this.cpuOf(entry);
      if (this.freeAt(cpu, line) > now) {
        this.schedule(line);
        return;
      }
      // Its snoop left when the last transaction ended or when it arrived: the transfer runs from then.
      const o = c.owner[line];
      const credit = o >= 0 && o !== cpu ? Math.min(now - this.sentAt(line), this.window(cpu, o)) : 0;
      // A poll pass reads several lines: the credit goes to this line's read (takeCredit), not the first.
      const pass = entry >= 0 && this.engine.processes[entry].op === OP_SPIN_ANY;
      c.credit = pass ? 0 : credit;
      this.creditLine = pass ? line : -1;
      this.creditCycles = credit;
      this.head[line] = this.nextOf(entry);
      if (this.head[line] === -1) this.tail[line] = -1;
      this.setNext(entry, -1);
      this.waitCycles.value += now - this.sinceOf(entry);
      this.granting = entry;
      if (entry >= 0) {
        this.waitLine[entry] = -1;
        this.target.grantProcess(this.engine.processes[entry]);
      } else {
        this.target.grantDrain(-2 - entry);
      }
      this.granting = -1;
      this.creditLine = -1;
      c.credit = 0;
    }
  }

  /** When a waiting entry began to wait. */
  private sinceOf(entry: number): number {
    return entry >= 0 ? this.sinceProc[entry] : this.sinceDrain[-2 - entry];
  }

  private cpuOf(entry: number): number {
    return entry >= 0 ? this.engine.processes[entry].cpu : -2 - entry;
  }

  private nextOf(entry: number): number {
    return entry >= 0 ? this.nextOfProc[entry] : this.nextOfDrain[-2 - entry];
  }

  private setNext(entry: number, next: number): void {
    if (entry >= 0) this.nextOfProc[entry] = next;
    else this.nextOfDrain[-2 - entry] = next;
  }
}
