import type { Topology } from '../lib/machine/topology';

/**
 * CPU bitmaps (W 32-bit words each, in the sharer bitmap's layout) of every core, LLC and socket,
 * and per socket of the CPUs 1, 2, ... maxHops interconnect hops away: masking a line's sharers
 * with them finds the nearest sharer's distance without visiting the sharers one by one.
 */
export interface GroupMasks {
  readonly core: Uint32Array;
  readonly ccx: Uint32Array;
  readonly socket: Uint32Array;
  /** Group `socket * (maxHops + 1) + h`: the CPUs `h` hops from `socket`. */
  readonly hops: Uint32Array;
  readonly maxHops: number;
}

export function groupMasks(t: Topology, words: number): GroupMasks {
  const maxHops = t.maxHops;
  const m: GroupMasks = {
    core: new Uint32Array(t.nCores * words),
    ccx: new Uint32Array(t.nCcx * words),
    socket: new Uint32Array(t.nSockets * words),
    hops: new Uint32Array(t.nSockets * (maxHops + 1) * words),
    maxHops,
  };
  const set = (masks: Uint32Array, group: number, cpu: number): void => {
    masks[group * words + (cpu >>> 5)] |= 1 << (cpu & 31);
  };
  // One CPU of each socket stands for it when counting hops.
  const some = new Int32Array(t.nSockets);
  for (let cpu = t.nCpus - 1; cpu >= 0; cpu--) some[t.socketOf(cpu)] = cpu;
  for (let cpu = 0; cpu < t.nCpus; cpu++) {
    set(m.core, t.coreOf(cpu), cpu);
    set(m.ccx, t.ccxOf(cpu), cpu);
    set(m.socket, t.socketOf(cpu), cpu);
    for (let s = 0; s < t.nSockets; s++) {
      const h = t.hopsUnchecked(cpu, some[s]);
      if (h > 0) set(m.hops, s * (maxHops + 1) + h, cpu);
    }
  }
  return m;
}
