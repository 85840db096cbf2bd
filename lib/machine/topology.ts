/**
 * Machine topology: sockets, CCXs (groups of cores sharing one LLC), cores and SMT threads, and the
 * distance class between two logical CPUs, which selects every distance-dependent cost (line
 * transfer, IPI delivery) in the machine parameters.
 *
 * CPU numbering follows Linux's usual x86 enumeration: first thread 0 of every core, in socket
 * order, then thread 1 of every core, and so on. So `cpu = thread * nCores + core`, and with SMT
 * off (threadsPerCore = 1) CPU numbers are core numbers. Cores are numbered socket-major, then CCX,
 * so `core = (socket * ccxPerSocket + ccxInSocket) * coresPerCcx + coreInCcx`.
 *
 * Skylake-SP has one LLC per socket: model it as ccxPerSocket = 1, so that "same CCX" and "same
 * socket" coincide and DIST_SOCKET never occurs.
 *
 * Sockets sit on a ring and spend their `socketLinks` links on the nearest sockets first (i ± 1,
 * then i ± 2, ...), an odd link left over on the opposite socket: two links make a ring, three on
 * eight sockets the glueless 8-socket Xeon layout, sockets - 1 or more a full mesh. `hops(a, b)`
 * is the shortest path between two CPUs' sockets; remote costs grow with the hops beyond the first.
 */
import { ConfigError } from '../errors';

export interface TopologyParams {
  /** Number of sockets (NUMA packages). */
  sockets: number;
  /** CCXs (core complexes sharing one LLC) per socket; 1 for a monolithic-LLC part. */
  ccxPerSocket: number;
  /** Physical cores per CCX. */
  coresPerCcx: number;
  /** Hardware threads per core: 1 = SMT off, 2 = SMT on. */
  threadsPerCore: number;
  /** Interconnect (QPI/UPI/xGMI) links per socket; default: every pair of sockets linked. */
  socketLinks?: number;
}

// Distance classes between two logical CPUs, nearest first. Plain numbers rather than an enum so
// they inline under isolatedModules and can index cost tables directly.
/** The same logical CPU. */
export const DIST_SELF = 0;
/** Another hardware thread of the same core. */
export const DIST_SMT = 1;
/** Another core sharing the same CCX / LLC. */
export const DIST_CCX = 2;
/** Same socket, another CCX. Never occurs when ccxPerSocket = 1. */
export const DIST_SOCKET = 3;
/** Another socket. */
export const DIST_REMOTE = 4;
/** Names of the distance classes, indexed by class (for stats keys and messages). */
export const DISTANCE_NAMES = ['self', 'smt', 'ccx', 'socket', 'remote'] as const;
export type DistanceName = (typeof DISTANCE_NAMES)[number];

/** Largest supported machine: cpumasks and per-CPU tables are sized by nCpus. */
export const MAX_CPUS = 4096;

const FIELDS = ['sockets', 'ccxPerSocket', 'coresPerCcx', 'threadsPerCore'] as const;

function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : word + 's'}`;
}

export class Topology {
  readonly params: Readonly<TopologyParams>;
  readonly nCpus: number;
  readonly nCores: number;
  readonly nCcx: number;
  readonly nSockets: number;
  readonly coresPerSocket: number;
  // Per-CPU lookup tables: distance() is on the hot path, and three typed-array loads are cheaper
  // than the divisions they replace. At most 3 x 4096 x 4 bytes.
  private readonly coreTab: Int32Array;
  private readonly ccxTab: Int32Array;
  private readonly socketTab: Int32Array;
  /** Interconnect hops between sockets i and j at [i * sockets + j] (0 on the diagonal). */
  private readonly hopTab: Int32Array;
  /** The most hops between any two sockets (1 on a full mesh or a 2-socket machine). */
  readonly maxHops: number;
  /** The smallest distance class between two different CPUs of this machine (a search for the
   *  nearest sharer can stop there). */
  readonly nearestDistance: number;

  /** @throws ConfigError naming the field if a field is not a positive integer, or if the
   *  machine has more than MAX_CPUS logical CPUs. */
  constructor(p: TopologyParams) {
    for (const f of FIELDS) {
      const v = p[f];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new ConfigError(`topology field '${f}' must be a positive integer, got ${String(v)}`);
      }
    }
    this.params = Object.freeze({
      sockets: p.sockets,
      ccxPerSocket: p.ccxPerSocket,
      coresPerCcx: p.coresPerCcx,
      threadsPerCore: p.threadsPerCore,
      socketLinks: p.socketLinks ?? Math.max(1, p.sockets - 1),
    });
    this.nSockets = p.sockets;
    this.nCcx = p.sockets * p.ccxPerSocket;
    this.coresPerSocket = p.ccxPerSocket * p.coresPerCcx;
    this.nCores = this.nCcx * p.coresPerCcx;
    this.nCpus = this.nCores * p.threadsPerCore;
    if (this.nCpus > MAX_CPUS) {
      throw new ConfigError(
        `topology ${this.shape()} = ${this.nCpus} CPUs is too large: at most ${MAX_CPUS} CPUs ` +
          `(sockets x ccxPerSocket x coresPerCcx x threadsPerCore) are supported`,
      );
    }
    this.nearestDistance =
      p.threadsPerCore > 1 ? DIST_SMT : p.coresPerCcx > 1 ? DIST_CCX : p.ccxPerSocket > 1 ? DIST_SOCKET : DIST_REMOTE;
    this.coreTab = new Int32Array(this.nCpus);
    this.ccxTab = new Int32Array(this.nCpus);
    this.socketTab = new Int32Array(this.nCpus);
    for (let cpu = 0; cpu < this.nCpus; cpu++) {
      const core = cpu % this.nCores;
      this.coreTab[cpu] = core;
      this.ccxTab[cpu] = Math.floor(core / p.coresPerCcx);
      this.socketTab[cpu] = Math.floor(core / this.coresPerSocket);
    }
    const links = p.socketLinks ?? Math.max(1, p.sockets - 1);
    if (!Number.isInteger(links) || links < 1) {
      throw new ConfigError(`topology field 'socketLinks' must be a positive integer, got ${String(p.socketLinks)}`);
    }
    this.hopTab = socketHops(p.sockets, links);
    if (this.hopTab.includes(-1)) {
      throw new ConfigError(`topology field 'socketLinks' = ${links} cannot connect ${p.sockets} sockets: expected at least 2`);
    }
    let most = p.sockets > 1 ? 1 : 0;
    for (let i = 0; i < this.hopTab.length; i++) if (this.hopTab[i] > most) most = this.hopTab[i];
    this.maxHops = most;
  }

  /** Interconnect hops between two CPUs' sockets (0 on the same socket); unchecked, for hot paths. */
  hopsUnchecked(a: number, b: number): number {
    return this.hopTab[this.socketTab[a] * this.nSockets + this.socketTab[b]];
  }

  /** Socket of a logical CPU, in [0, sockets). */
  socketOf(cpu: number): number {
    this.check(cpu);
    return this.socketTab[cpu];
  }

  /** Global CCX (LLC) index of a logical CPU, in [0, nCcx). */
  ccxOf(cpu: number): number {
    this.check(cpu);
    return this.ccxTab[cpu];
  }

  /** Global physical-core index of a logical CPU, in [0, nCores). */
  coreOf(cpu: number): number {
    this.check(cpu);
    return this.coreTab[cpu];
  }

  /** Distance class without range checks, for the coherence hot path (callers pass valid CPUs). */
  distanceUnchecked(a: number, b: number): number {
    if (a === b) return DIST_SELF;
    if (this.coreTab[a] === this.coreTab[b]) return DIST_SMT;
    if (this.ccxTab[a] === this.ccxTab[b]) return DIST_CCX;
    if (this.socketTab[a] === this.socketTab[b]) return DIST_SOCKET;
    return DIST_REMOTE;
  }

  /** SMT thread index of a logical CPU within its core, in [0, threadsPerCore). */
  threadOf(cpu: number): number {
    this.check(cpu);
    return Math.floor(cpu / this.nCores);
  }

  /** Distance class (DIST_*) between two logical CPUs; symmetric; O(1), allocation-free. */
  distance(a: number, b: number): number {
    this.check(a);
    this.check(b);
    if (a === b) return DIST_SELF;
    if (this.coreTab[a] === this.coreTab[b]) return DIST_SMT;
    if (this.ccxTab[a] === this.ccxTab[b]) return DIST_CCX;
    if (this.socketTab[a] === this.socketTab[b]) return DIST_SOCKET;
    return DIST_REMOTE;
  }

  /** The other hardware threads of cpu's core, ascending; excludes cpu itself (unlike Linux's
   *  thread_siblings mask). Empty with SMT off. */
  siblings(cpu: number): number[] {
    this.check(cpu);
    const out: number[] = [];
    const core = this.coreTab[cpu];
    for (let t = 0; t < this.params.threadsPerCore; t++) {
      const s = t * this.nCores + core;
      if (s !== cpu) out.push(s);
    }
    return out;
  }

  /** Logical CPUs of global CCX `ccx`, ascending. */
  cpusOfCcx(ccx: number): number[] {
    const out: number[] = [];
    for (let cpu = 0; cpu < this.nCpus; cpu++) if (this.ccxTab[cpu] === ccx) out.push(cpu);
    return out;
  }

  /** E.g. "2 sockets x 1 CCX x 28 cores x 1 thread = 56 CPUs". */
  describe(): string {
    return `${this.shape()} = ${plural(this.nCpus, 'CPU')}`;
  }

  private shape(): string {
    const p = this.params;
    return (
      `${plural(p.sockets, 'socket')} x ${p.ccxPerSocket} CCX x ` +
      `${plural(p.coresPerCcx, 'core')} x ${plural(p.threadsPerCore, 'thread')}`
    );
  }

  // A bad CPU number is a bug in the caller, not a user error: RangeError, not ConfigError.
  // Without it a typed-array miss would read `undefined` and silently compare equal.
  private check(cpu: number): void {
    if (!(cpu >= 0 && cpu < this.nCpus && (cpu | 0) === cpu)) {
      throw new RangeError(`cpu ${cpu} is not in [0, ${this.nCpus})`);
    }
  }
}

/** Shortest paths (BFS) between sockets on the ring-with-chords layout described above. */
function socketHops(n: number, links: number): Int32Array {
  const hops = new Int32Array(n * n);
  const linked = (i: number, j: number): boolean => {
    if (links >= n - 1) return true;
    const d = Math.min((i - j + n) % n, (j - i + n) % n);
    const pairs = links >> 1; // links to i ± 1 .. i ± pairs
    if (d <= pairs) return true;
    return links % 2 === 1 && n % 2 === 0 && d === n / 2; // the odd link: the opposite socket
  };
  for (let s = 0; s < n; s++) {
    const dist = new Int32Array(n).fill(-1);
    dist[s] = 0;
    const queue = [s];
    for (let q = 0; q < queue.length; q++) {
      const u = queue[q];
      for (let v = 0; v < n; v++) {
        if (dist[v] < 0 && v !== u && linked(u, v)) {
          dist[v] = dist[u] + 1;
          queue.push(v);
        }
      }
    }
    for (let v = 0; v < n; v++) hops[s * n + v] = dist[v];
  }
  return hops;
}
