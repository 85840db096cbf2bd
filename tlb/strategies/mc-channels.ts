import { ConfigError } from '../../lib/errors';
import { WORD_SHIFT, type SimMemory } from '../../mem/memory';
import { CSD_BYTES } from '../../cpu/smp';

/**
 * How `mc-shootdown` sends a shootdown (Baumann et al., SOSP 2009, §5 and Fig 6):
 * - `unicast`: a point-to-point channel to each target; the initiator writes one line per target.
 * - `broadcast`: one channel line per initiator, written once; every target reads the same line.
 * - `multicast`: one message per LLC domain (the paper's package) to an aggregator there, which
 *   forwards it to the other targets of its domain and replies once they all have.
 * - `numa-multicast`: multicast, the farthest domains first (the System Knowledge Base's
 *   topology), so the long-latency messages overlap the local ones.
 */
export const MC_PROTOCOLS = ['unicast', 'broadcast', 'multicast', 'numa-multicast'] as const;
export type McProtocol = (typeof MC_PROTOCOLS)[number];

/**
 * How a target learns of a message: `poll`, only where it polls (the idle loop, the tick,
 * __schedule(): a busy CPU up to a tick later); `ipi`, an IPI as well to each target not in the
 * idle poll loop, a hybrid and not Barrelfish (docs/reference/beyond-mainline.md 5.4, 5.7).
 */
export const MC_NOTIFY = ['poll', 'ipi'] as const;
export type McNotify = (typeof MC_NOTIFY)[number];

/**
 * What a target that is lazy on the flushed mm does: `leave` runs Linux 4.8's leave_mm() (a LOCK
 * BTR on mm_cpumask and a CR3 write); `stay` flushes the range in place and stays in the mask, as
 * a Barrelfish core with no lazy mm to leave would, so the message path never writes the mask.
 */
export const MC_LAZY = ['leave', 'stay'] as const;
export type McLazy = (typeof MC_LAZY)[number];

/** mc-shootdown's own parameters: `--strategy mc-shootdown:protocol=unicast:notify=ipi:handler=100:lazy=stay`. */
export interface McShootdownParams {
  /** Message protocol (MC_PROTOCOLS); default `numa-multicast`, the paper's best. */
  protocol: McProtocol;
  /** Notification (MC_NOTIFY); default `poll`, as the issue says ("each core polls for them"). */
  notify: McNotify;
  /**
   * Cycles a receiver spends decoding and dispatching one message, apart from its loads and the
   * flush itself (design 5.4: `mcHandler`, 100 cycles [E], Barrelfish's stubs excluded). An
   * integer in [0, 100000].
   */
  handler: number;
  /** A lazy target (MC_LAZY): default `leave`, Linux 4.8's leave_mm(). */
  lazy: McLazy;
}

export const MC_SHOOTDOWN_DEFAULTS: Readonly<McShootdownParams> = Object.freeze({ protocol: 'numa-multicast', notify: 'poll', handler: 100, lazy: 'leave' });

/** `key=value` options of `mc-shootdown:...`, checked: an unknown key or a bad value is one line naming it. */
export function parseMcShootdownOptions(opts: Readonly<Record<string, string>>): McShootdownParams {
  const p: McShootdownParams = { ...MC_SHOOTDOWN_DEFAULTS };
  for (const [key, value] of Object.entries(opts)) {
    if (key === 'protocol') {
      if (!(MC_PROTOCOLS as readonly string[]).includes(value)) throw new ConfigError(`mc-shootdown: protocol expects one of ${MC_PROTOCOLS.join(', ')}, got '${value}'`);
      p.protocol = value as McProtocol;
    } else if (key === 'notify') {
      if (!(MC_NOTIFY as readonly string[]).includes(value)) throw new ConfigError(`mc-shootdown: notify expects one of ${MC_NOTIFY.join(', ')}, got '${value}'`);
      p.notify = value as McNotify;
    } else if (key === 'handler') {
      const n = Number(value);
      if (!(value.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= 100_000)) throw new ConfigError(`mc-shootdown: handler expects an integer number of cycles in [0, 100000], got '${value}'`);
      p.handler = n;
    } else if (key === 'lazy') {
      if (!(MC_LAZY as readonly string[]).includes(value)) throw new ConfigError(`mc-shootdown: lazy expects one of ${MC_LAZY.join(', ')}, got '${value}'`);
      p.lazy = value as McLazy;
    } else {
      throw new ConfigError(`mc-shootdown: unknown option '${key}' (known: protocol, notify, handler, lazy)`);
    }
  }
  return p;
}

// A message is one 64-byte line, as a UMP message ("UMP message size is fixed to cache-line size",
// Barrelfish include/barrelfish/ump_impl.h): payload words, then the header written last, which
// the receiver polls. Here the header is the channel's sequence number (ump's epoch bit and
// position, folded into one counter since a channel holds one message at a time).
export const MSG_MM = 0;
export const MSG_START = 8;
export const MSG_END = 16;
export const MSG_KIND = 24;
/** A cpumask: broadcast's targets, or an aggregate's members by their index in the domain. */
export const MSG_MASK = 28;
export const MSG_MASK_WORDS = 8;
export const MSG_HEADER = 60;
/** Flush your TLB and reply. */
export const KIND_FLUSH = 1;
/** Flush, forward to the members in the mask, and reply once they all have. */
export const KIND_AGGREGATE = 2;
/** The most CPUs a message's mask can name. */
export const MC_MAX_CPUS = MSG_MASK_WORDS * 32;

/**
 * The channels in simulated memory, allocated once: per ordered pair (i, j) a request line
 * req[i][j] (unicast and multicast) and a reply line ack[j][i], each written by one CPU and read
 * by one (single producer, single consumer, as UMP channels); per CPU a broadcast line bc[i]
 * (broadcast only), a `pending` word (the replies its own shootdown still waits for, on a line of
 * its own), a `polling` word (the idle loop's TIF_POLLING_NRFLAG, notify=ipi only) and the CSDs its
 * notifications use.
 */
export class McChannels {
  readonly n: number;
  private readonly reqBase: number;
  private readonly ackBase: number;
  private readonly bcBase: number;
  private readonly pollingBase: number;
  private readonly pendingBase: number;
  private readonly csdBase: number;

  constructor(memory: SimMemory, n: number, p: McShootdownParams) {
    if (n > MC_MAX_CPUS) throw new ConfigError(`mc-shootdown: a 64-byte message names at most ${MC_MAX_CPUS} CPUs in its mask; this machine has ${n}`);
    this.n = n;
    this.reqBase = p.protocol === 'broadcast' ? -1 : memory.allocLines('mc_req', n * n);
    this.ackBase = memory.allocLines('mc_ack', n * n);
    this.bcBase = p.protocol === 'broadcast' ? memory.allocLines('mc_bcast', n) : -1;
    this.pendingBase = memory.allocLines('mc_pending', n);
    this.pollingBase = p.notify === 'ipi' ? memory.allocLines('mc_polling', n) : -1;
    this.csdBase = p.notify === 'ipi' ? memory.alloc('mc_csd', n * n * CSD_BYTES, 64) : -1;
  }

  /** The request line from `from` to `to`. */
  req(from: number, to: number): number {
    return this.reqBase + (from * this.n + to) * 64;
  }

  /** The line `from` replies to `to` on (the last sequence number it handled from `to`). */
  ack(from: number, to: number): number {
    return this.ackBase + (from * this.n + to) * 64;
  }

  /** `from`'s broadcast line. */
  bc(from: number): number {
    return this.bcBase + from * 64;
  }

  /** The line a message from `from` to `to` arrives on under the protocol in use. */
  incoming(from: number, to: number): number {
    return this.bcBase >= 0 ? this.bc(from) : this.req(from, to);
  }

  /** The count of replies `cpu`'s own shootdown waits for (what its wait loop polls beside the channels). */
  pending(cpu: number): number {
    return this.pendingBase + cpu * 64;
  }

  polling(cpu: number): number {
    return this.pollingBase + cpu * 64;
  }

  /** The CSD `from` notifies `to` with. */
  csd(from: number, to: number): number {
    return this.csdBase + (from * this.n + to) * CSD_BYTES;
  }

  /** Address of mask word `w` of the message at `msg`. */
  static maskWord(msg: number, w: number): number {
    return msg + MSG_MASK + (w << WORD_SHIFT);
  }
}

/** A message waiting to be written: what it carries. */
export interface Payload {
  kind: number;
  mm: number;
  start: number;
  end: number;
  /** Mask words (broadcast's targets; an aggregate's members by domain index). */
  mask: number[];
}

/** An aggregation in progress on its aggregator: who asked, and how many members still owe a reply. */
export interface Aggregation {
  from: number;
  seq: number;
  waiting: number;
}
