import type { Rng } from '../lib/rng';
import type { Counter } from '../lib/stats/counter';
import type { StatGroup } from '../lib/stats/group';
import { DIST_CCX, DIST_REMOTE, DIST_SMT, DIST_SOCKET, type Topology } from '../lib/machine/topology';
import { E, EV_STORE, I, M, S, cacheNext } from './mesi';
import { growArray, type SimMemory } from './memory';
import { groupMasks, type GroupMasks } from './group-masks';
import { hottestLines } from './hot-lines';

/** The costs the coherence fabric charges, in cycles; a machine profile supplies them. */
export interface CoherenceParams {
  l1Hit: number;
  llcHit: number;
  memLatency: number;
  transferSmt: number;
  transferCcx: number;
  transferSocket: number;
  transferRemote: number;
  /** Each interconnect hop beyond the first between two sockets (topology.hopsUnchecked). */
  hopCycles: number;
  rmwLocal: number;
}

/**
 * A directory-based MESI fabric over 64-byte lines (ProtoGen MESI.pcc, see `mesi.ts`).
 *
 * Every request is charged by the line's state and the distance between the requester and the
 * caches that hold it:
 * - a dirty or exclusive line held by another core costs a core-to-core transfer
 *   (`transfer{Smt,Ccx,Socket,Remote}`; these come from CAS ping-pong medians), plus `hopCycles`
 *   for each interconnect hop beyond the first between the two sockets;
 * - a clean shared line comes from the requester's LLC when a sharer sits in its CCX (`llcHit`),
 *   otherwise across the fabric;
 * - invalidating sharers costs the round trip to the farthest one;
 * - an uncached line comes from the LLC if it was cached before, else from DRAM.
 *
 * Requests for one line serialize: a request that finds the line in flight starts when the line
 * is free, so a contended line's throughput is 1 / (transfer + local RMW), as on hardware
 * (reference/cost-parameters.md §1.4). Transitions take effect when a request is issued; since
 * the line is busy until the request completes, later requests see them in issue order, which
 * gives one global order of coherent accesses.
 *
 * The caches' states are not stored per (line, CPU): they follow from the directory, as in a
 * full-map directory, so the model's memory grows with lines × CPUs / 8 (the sharer bitmap), not
 * lines × CPUs. A cache holds a line in S when its sharer bit is set, in E or M when it is the
 * owner (`ownerState` says which: a store upgrades E to M silently, the directory still says E),
 * and in I otherwise. The transitions are still those of the cache table (`mesi.ts`).
 */
export class Coherence {
  readonly nCpus: number;
  nLines: number;
  /** Directory state per line (I, S, E or M as the directory believes it). */
  dir: Uint8Array;
  owner: Int32Array;
  /** The owner's cache state (E or M) of a line the directory has in E or M. */
  private ownerState: Uint8Array;
  sharerCount: Int32Array;
  /** The caches holding each line in S, as a bitmap (W words a line): scans visit sharers only. */
  private sharerBits: Uint32Array;
  private readonly words: number;
  private readonly groups: GroupMasks;
  busyUntil: Float64Array;
  /** Per line: when its last directory transaction ended; `credit`: cycles the request being granted now
   *  already waited (OwnerWindow), taken off its charge once. */
  grantEnd: Float64Array;
  credit = 0;
  /** The line was cached before, so an uncached line is in the LLC rather than DRAM. */
  private warm: Uint8Array;
  lineTransfers: Float64Array;
  lineWaitCycles: Float64Array;
  private readonly topology: Topology;
  private readonly params: CoherenceParams;
  /** Cost of fetching a dirty/exclusive line from a cache at each distance class. */
  private readonly dirtyCost: Float64Array;
  /** Cost of fetching a clean shared line when the nearest sharer is at each distance class. */
  private readonly cleanCost: Float64Array;
  /** Extra hop cycles to the sharer the last `nearestSharer` found (0 unless it is remote). */
  private nearestExtra: number;
  private jitter: Rng | null;
  private jitterMax: number;
  private readonly hits: Counter;
  private readonly misses: Counter;
  private readonly transfers: Counter[];
  private readonly memoryFetches: Counter;
  private readonly llcFills: Counter;
  private readonly invalidations: Counter;
  private readonly upgrades: Counter;
  private readonly writebacks: Counter;
  private readonly busyWaits: Counter;
  private readonly busyWaitCycles: Counter;

  constructor(topology: Topology, params: CoherenceParams, memory: SimMemory, stats: StatGroup) {
    const n = topology.nCpus;
    const lines = memory.lineCount;
    this.nCpus = n;
    this.nLines = lines;
    this.dir = new Uint8Array(lines);
    this.owner = new Int32Array(lines).fill(-1);
    this.ownerState = new Uint8Array(lines);
    this.sharerCount = new Int32Array(lines);
    this.words = Math.ceil(n / 32);
    this.sharerBits = new Uint32Array(lines * this.words);
    this.groups = groupMasks(topology, this.words);
    this.busyUntil = new Float64Array(lines);
    this.grantEnd = new Float64Array(lines);
    this.warm = new Uint8Array(lines);
    this.lineTransfers = new Float64Array(lines);
    this.lineWaitCycles = new Float64Array(lines);
    this.topology = topology;
    this.params = params;
    const p = params;
    this.dirtyCost = Float64Array.of(p.l1Hit, p.transferSmt, p.transferCcx, p.transferSocket, p.transferRemote);
    this.cleanCost = Float64Array.of(p.l1Hit, p.transferSmt, p.llcHit, p.transferSocket, p.transferRemote);
    this.nearestExtra = 0;
    this.jitter = null;
    this.jitterMax = 0;
    this.hits = stats.counter('hits', 'accesses that found the line in a sufficient state in the own cache');
    this.misses = stats.counter('misses', 'requests sent to the directory (GetS, GetM, upgrades)');
    const t = stats.group('transfers');
    this.transfers = [
      t.counter('self', 'unused: a cache never transfers to itself'),
      t.counter('smt', 'cache-to-cache transfers between SMT siblings'),
      t.counter('ccx', 'cache-to-cache transfers within a CCX/LLC domain'),
      t.counter('socket', 'cache-to-cache transfers between CCXs of one socket'),
      t.counter('remote', 'cache-to-cache transfers between sockets'),
    ];
    this.llcFills = stats.counter('llcFills', 'clean lines served by the LLC (a sharer in the same LLC domain, or a line cached before)');
    this.memoryFetches = stats.counter('memoryFetches', 'lines fetched from DRAM (never cached before)');
    this.invalidations = stats.counter('invalidations', 'Inv messages sent to sharers');
    this.upgrades = stats.counter('upgrades', 'S to M upgrades');
    this.writebacks = stats.counter('writebacks', 'PutM: dirty lines written back on replacement');
    this.busyWaits = stats.counter('busyWaits', 'requests that found their line busy with another request');
    this.busyWaitCycles = stats.counter('busyWaitCycles', 'cycles requests waited for a busy line');
    memory.grown.attach((lines) => this.grow(lines));
    stats.formula('hottestLines', 'the 8 lines with the most cache-to-cache transfers', () => hottestLines(this, memory, 8));
  }

  /** Adds a uniformly drawn 0..max extra cycles to every miss (litmus runs, exploration). */
  setJitter(rng: Rng | null, max: number): void {
    this.jitter = rng;
    this.jitterMax = max;
  }

  /** The cache state of `line` in `cpu`'s cache, as the directory implies it. */
  stateOf(cpu: number, line: number): number {
    const d = this.dir[line];
    if (d === S) return this.isSharer(line, cpu) ? S : I;
    if (d === I || this.owner[line] !== cpu) return I;
    return this.ownerState[line];
  }

  /** Load: hit in S/E/M, else GetS. Returns the cycle the data arrives. */
  read(cpu: number, line: number, now: number): number {
    const dirState = this.dir[line];
    if (dirState === S ? this.isSharer(line, cpu) : dirState !== I && this.owner[line] === cpu) {
      this.hits.value++;
      return now + this.params.l1Hit;
    }
    const start = this.begin(line, now);
    let cost: number;
    if (dirState === I) {
      // Directory I + GetS: exclusive data to the requester, which goes to E.
      cost = this.fromMemory(line);
      this.ownerState[line] = E;
      this.dir[line] = E;
      this.owner[line] = cpu;
    } else if (dirState === S) {
      // Directory S + GetS: data, requester joins the sharers (I → S).
      cost = this.cleanCost[this.nearestSharer(cpu, line)] + this.nearestExtra;
      this.sharerCount[line]++;
      this.setSharer(line, cpu);
    } else {
      // Directory E/M + GetS: Fwd_GetS to the owner, which sends data and a writeback and keeps S
      // (cacheNext(E|M, Fwd_GetS) = S); the requester goes I → S beside it.
      const o = this.owner[line];
      cost = this.transferFrom(cpu, o, line);
      this.dir[line] = S;
      this.owner[line] = -1;
      this.sharerCount[line] = 2;
      this.setSharer(line, o);
      this.setSharer(line, cpu);
    }
    return this.finish(line, start, cost);
  }

  /** Store (a store-buffer drain): hit in M, silent E→M, else GetM. Returns the cycle the line is owned. */
  write(cpu: number, line: number, now: number): number {
    return this.acquire(cpu, line, now, 0);
  }

  /** Locked RMW: own the line, then hold it for the local RMW. */
  rmw(cpu: number, line: number, now: number): number {
    return this.acquire(cpu, line, now, this.params.rmwLocal);
  }

  /** Replacement: PutS / PutE / PutM; the line goes back to the LLC. */
  evict(cpu: number, line: number): void {
    const st = this.stateOf(cpu, line);
    if (st === I) return; // cacheNext(S|E|M, Replacement) = I: PutS, PutE or PutM
    this.warm[line] = 1;
    if (st === S) {
      this.sharerBits[line * this.words + (cpu >>> 5)] &= ~(1 << (cpu & 31));
      if (--this.sharerCount[line] === 0) this.dir[line] = I;
    } else {
      if (st === M) this.writebacks.value++;
      this.dir[line] = I;
      this.owner[line] = -1;
    }
  }

  private acquire(cpu: number, line: number, now: number, hold: number): number {
    const st = this.stateOf(cpu, line);
    if (st === M || st === E) {
      // Store hit in M, or the silent E→M upgrade; the directory still says E and forwards to us.
      this.ownerState[line] = cacheNext(st, EV_STORE);
      this.hits.value++;
      if (hold === 0) return now + this.params.l1Hit;
      const start = this.busyUntil[line] > now ? this.busyUntil[line] : now;
      return this.finishLocal(line, start, this.params.l1Hit + hold);
    }
    const start = this.begin(line, now);
    let cost: number;
    const dirState = this.dir[line];
    if (dirState === I) {
      cost = this.fromMemory(line);
    } else if (dirState === S) {
      // GetM (or upgrade from S): data unless we hold it, plus an Inv to every other sharer.
      if (st === S) {
        this.upgrades.value++;
        cost = this.params.llcHit;
      } else {
        cost = this.cleanCost[this.nearestSharer(cpu, line)] + this.nearestExtra;
      }
      const inv = this.invalidateSharers(cpu, line);
      if (inv > cost) cost = inv;
    } else {
      // Directory E/M + GetM: Fwd_GetM to the owner, which sends the data and drops to I
      // (cacheNext(E|M, Fwd_GetM) = I: it is no longer the owner).
      cost = this.transferFrom(cpu, this.owner[line], line);
    }
    this.ownerState[line] = M;
    this.dir[line] = M;
    this.owner[line] = cpu;
    this.sharerCount[line] = 0;
    this.sharerBits.fill(0, line * this.words, (line + 1) * this.words);
    return this.finish(line, start, cost + hold);
  }

  /**
   * Sends Inv to every sharer but the requester (each goes S → I when the caller clears the
   * sharer bitmap); returns the slowest ack's round trip.
   */
  private invalidateSharers(cpu: number, line: number): number {
    const wbase = line * this.words;
    let slowest = 0;
    for (let w = 0; w < this.words; w++) {
      let bits = this.sharerBits[wbase + w];
      while (bits !== 0) {
        const c = (w << 5) + 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        if (c === cpu) continue;
        this.invalidations.value++;
        const cost = this.costTo(cpu, c, this.topology.distanceUnchecked(cpu, c));
        if (cost > slowest) slowest = cost;
      }
    }
    return slowest;
  }

  /** The memory grew to `lines`: every per-line array follows (new lines are uncached, never used). */
  private grow(lines: number): void {
    this.dir = growArray(this.dir, lines, 0);
    this.owner = growArray(this.owner, lines, -1);
    this.ownerState = growArray(this.ownerState, lines, 0);
    this.sharerCount = growArray(this.sharerCount, lines, 0);
    this.sharerBits = growArray(this.sharerBits, lines * this.words, 0);
    this.busyUntil = growArray(this.busyUntil, lines, 0);
    this.grantEnd = growArray(this.grantEnd, lines, 0);
    this.warm = growArray(this.warm, lines, 0);
    this.lineTransfers = growArray(this.lineTransfers, lines, 0);
    this.lineWaitCycles = growArray(this.lineWaitCycles, lines, 0);
    this.nLines = lines;
  }

  /**
   * The distance class of the nearest sharer (the requester is not one), found by masking the
   * sharer bitmap with the requester's core, LLC and socket, then with the sockets 1, 2, ...
   * hops away: a few words per class, however many CPUs share the line.
   */
  private nearestSharer(cpu: number, line: number): number {
    const g = this.groups;
    let best = DIST_REMOTE;
    this.nearestExtra = 0;
    if (this.anyIn(line, g.core, this.topology.coreOf(cpu))) best = DIST_SMT;
    else if (this.anyIn(line, g.ccx, this.topology.ccxOf(cpu))) best = DIST_CCX;
    else if (this.anyIn(line, g.socket, this.topology.socketOf(cpu))) best = DIST_SOCKET;
    else {
      const first = this.topology.socketOf(cpu) * (g.maxHops + 1);
      let h = 1;
      while (h < g.maxHops && !this.anyIn(line, g.hops, first + h)) h++;
      if (h > 1) this.nearestExtra = (h - 1) * this.params.hopCycles;
    }
    if (best <= DIST_CCX) this.llcFills.value++;
    else this.transfers[best].value++;
    if (best > DIST_CCX) this.lineTransfers[line]++;
    return best;
  }

  /** Whether a sharer of `line` is in group `group` of `masks`. */
  private anyIn(line: number, masks: Uint32Array, group: number): boolean {
    const words = this.words;
    const wbase = line * words;
    const mbase = group * words;
    for (let w = 0; w < words; w++) if ((this.sharerBits[wbase + w] & masks[mbase + w]) !== 0) return true;
    return false;
  }

  private isSharer(line: number, cpu: number): boolean {
    return ((this.sharerBits[line * this.words + (cpu >>> 5)] >>> (cpu & 31)) & 1) !== 0;
  }

  private setSharer(line: number, cpu: number): void {
    this.sharerBits[line * this.words + (cpu >>> 5)] |= 1 << (cpu & 31);
  }

  private transferFrom(cpu: number, from: number, line: number): number {
    const d = this.topology.distanceUnchecked(cpu, from);
    this.transfers[d].value++;
    this.lineTransfers[line]++;
    return this.costTo(cpu, from, d);
  }

  /** A dirty line's transfer (or an invalidation's round trip) between two CPUs `d` apart, hops included. */
  costTo(cpu: number, other: number, d: number): number {
    if (d !== DIST_REMOTE) return this.dirtyCost[d];
    const hops = this.topology.hopsUnchecked(cpu, other);
    return this.dirtyCost[d] + (hops > 1 ? (hops - 1) * this.params.hopCycles : 0);
  }

  private fromMemory(line: number): number {
    if (this.warm[line] === 1) {
      this.llcFills.value++;
      return this.params.llcHit;
    }
    this.warm[line] = 1;
    this.memoryFetches.value++;
    return this.params.memLatency;
  }

  /** A directory request starts when its line is no longer busy. */
  private begin(line: number, now: number): number {
    this.misses.value++;
    const busy = this.busyUntil[line];
    if (busy <= now) return now;
    this.busyWaits.value++;
    this.busyWaitCycles.value += busy - now;
    this.lineWaitCycles[line] += busy - now;
    return busy;
  }

  private finish(line: number, start: number, cost: number): number {
    cost = cost > this.credit ? cost - this.credit : 0; // the wait a grant already counted (OwnerWindow resets it; else 0)
    if (this.jitter !== null) cost += this.jitter.int(this.jitterMax + 1);
    return (this.grantEnd[line] = this.finishLocal(line, start, cost));
  }

  private finishLocal(line: number, start: number, cost: number): number {
    const end = start + cost;
    this.busyUntil[line] = end;
    return end;
  }

  /**
   * The directory is consistent, so the cache states it implies obey SWMR: a line in E/M has one
   * owner (in E or M) and no sharer; a line in S has no owner and as many sharers as it counts;
   * an uncached line has neither. Returns the violation or null.
   */
  checkInvariant(line: number): string | null {
    const d = this.dir[line];
    let sharers = 0;
    for (let w = 0; w < this.words; w++) {
      for (let bits = this.sharerBits[line * this.words + w]; bits !== 0; bits &= bits - 1) sharers++;
    }
    const o = this.owner[line];
    if (d === E || d === M) {
      if (o < 0 || o >= this.nCpus) return `line ${line}: directory owner mismatch`;
      if (this.ownerState[line] !== E && this.ownerState[line] !== M) return `line ${line}: owner not in E or M`;
      if (sharers > 0 || this.sharerCount[line] !== 0) return `line ${line}: 1 owner and ${sharers} sharers`;
    } else if (d === S) {
      if (o !== -1) return `line ${line}: an owner of a shared line`;
      if (sharers === 0 || this.sharerCount[line] !== sharers) return `line ${line}: directory sharers mismatch`;
    } else if (o !== -1 || sharers > 0 || this.sharerCount[line] !== 0) return `line ${line}: directory not I for an uncached line`;
    return null;
  }
}

