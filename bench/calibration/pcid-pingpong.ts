import { requireMeasured, scenarioRun } from './run';

/**
 * Lutomirski's machine, described from parameters: the skylake-sp-2s core at the laptop's
 * 2.3 GHz, four cores, and the kernel footprint of a KVM guest (guest large pages are cached as
 * 4 KiB translations unless the host backs them with huge pages), calibrated on the walk ratio.
 */
export const LUTOMIRSKI_MACHINE = { clockGhz: '2.3', sockets: '1', coresPerCcx: '4', kernelTlbPages: '240' } as const;

export interface PingPongPoint {
  /** Mean µs per round trip (two switches). */
  roundTripUs: number;
  /** Page walks (STLB misses, the user's and the kernel's) per round trip. */
  walksPerRoundTrip: number;
}

/**
 * The pcid-pingpong workload on `machine` with Lutomirski's machine's overrides (the user's
 * `params` win over them): PCID on
 * (linux-4.14-pcid, the commit's kernel) or off (linux-4.14, "nopcid"), `pages` per turn.
 */
export function pcidPingPong(machine: string, params: Record<string, string>, pcid: boolean, pages: number, cycles: number): PingPongPoint {
  const strategy = pcid ? 'linux-4.14-pcid' : 'linux-4.14';
  const r = scenarioRun(machine, { ...LUTOMIRSKI_MACHINE, ...params }, strategy, 'pcid-pingpong', { pages }, cycles, 200_000);
  const w = r.workload as { roundTrips: number; roundTripCycles: { mean: number } };
  requireMeasured(`pcid-pingpong (${pcid ? 'PCID' : 'no PCID'}, ${pages} pages)`, 'round trip', w.roundTrips, params, cycles);
  return {
    roundTripUs: w.roundTripCycles.mean / (r.config.machine.params.clockGhz * 1e3),
    walksPerRoundTrip: (r.tlb.stlbMisses + r.tlb.kernelWalks) / w.roundTrips, // perf's dTLB walks count the kernel's too
  };
}
