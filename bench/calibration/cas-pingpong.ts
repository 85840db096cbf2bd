import { DIST_CCX, DIST_REMOTE, DIST_SMT, DIST_SOCKET, DISTANCE_NAMES } from '../../lib/machine/topology';
import { topologyOf, type MachineConfig } from '../../lib/machine/resolve';
import { MemMachine } from '../../mem/machine';

/** The core-pair classes nviennot/core-to-core-latency reports (same CCX or socket, other CCX, other socket, SMT sibling). */
export const CAS_CLASSES = [DIST_SMT, DIST_CCX, DIST_SOCKET, DIST_REMOTE] as const;

const PING = 0;
const PONG = 1;

/**
 * nviennot/core-to-core-latency's CAS benchmark, as simulated code: two threads pinned to two CPUs
 * bounce one line, each spinning on `compare_exchange(flag, mine, theirs)` until it succeeds
 * (its bench/cas.rs; a failed CAS takes the line too). The benchmark reports round trip / 2.
 * Returns that figure in ns, or null when the machine has no CPU pair at `distance`.
 */
export function casPingPongNs(cfg: MachineConfig, distance: number, roundTrips: number): number | null {
  const topo = topologyOf(cfg);
  let other = -1;
  for (let c = 1; c < topo.nCpus && other < 0; c++) if (topo.distance(0, c) === distance) other = c;
  if (other < 0) return null;
  const m = new MemMachine({ config: cfg, seed: 'cas-pingpong' });
  const k = m.k;
  const flag = m.memory.allocLines('flag');
  const warm = 10; // the first trips fetch the line from DRAM
  let t0 = 0;
  function* side(mine: number, theirs: number, first: boolean): Generator<number, void, number> {
    for (let i = 0; i < warm + roundTrips; i++) {
      if (first && i === warm) t0 = m.engine.now;
      while ((yield k.cmpxchg(flag, mine, theirs)) !== mine);
    }
  }
  m.engine.spawn('ping', 0, side(PING, PONG, true));
  m.engine.spawn('pong', other, side(PONG, PING, false));
  m.engine.run({ maxCycles: 1e9 });
  return (m.engine.now - t0) / roundTrips / 2 / cfg.params.clockGhz;
}

/** "same CCX", "other socket", ...: the class as the benchmark's tables name it. */
export function casClassName(distance: number): string {
  return DISTANCE_NAMES[distance];
}
