import { ConfigError } from '../../lib/errors';
import { DIST_CCX, DIST_REMOTE, DIST_SMT, DIST_SOCKET } from '../../lib/machine/topology';
import { resolveMachine } from '../../lib/machine/resolve';
import { casPingPongNs } from './cas-pingpong';
import { localFlush } from './local-flush';
import { pcidPingPong } from './pcid-pingpong';

/** How long each scenario runs (the quick form is for tests), and the user's `--param` overrides. */
export interface Effort {
  casRoundTrips: number;
  flushCycles: number;
  pingPongCycles: number;
  params?: Record<string, string>;
}
export const FULL: Effort = { casRoundTrips: 2_000, flushCycles: 4e5, pingPongCycles: 4e6 };
export const QUICK: Effort = { casRoundTrips: 200, flushCycles: 1e5, pingPongCycles: 1e6 };

/** One published measurement the simulator must reproduce on one profile. */
export interface Target {
  /** Stable id: scenario.quantity. */
  readonly id: string;
  readonly what: string;
  readonly profile: string;
  readonly published: number;
  readonly unit: string;
  readonly source: string;
  /** Allowed |simulated / published - 1|. */
  readonly tolerance: number;
  /** True when a parameter was fitted on this very point: it passes by construction, and says so. */
  readonly fitted?: string;
  readonly simulate: (e: Effort) => number;
}

const NVIENNOT = 'nviennot/core-to-core-latency README (CAS ping-pong, round trip / 2, medians)';
const HANSEN = 'Dave Hansen, "x86 TLB flushing: INVPCID vs. deferred CR3 write", linux-mm 2017-12-05, Skylake 4C';
const LUTO = 'Andy Lutomirski, commit 10af6235e0d3 (x86/mm: PCID), Skylake laptop at 2.3 GHz, KVM guest';

/** Runs each scenario once per effort and overrides, however many targets read it. */
function once<T>(f: (e: Effort) => T): (e: Effort) => T {
  const cache = new Map<string, T>();
  return (e) => {
    const key = JSON.stringify(e);
    if (!cache.has(key)) cache.set(key, f(e));
    return cache.get(key) as T;
  };
}

function casTargets(profile: string, cpu: string, rows: [number, string, number][]): Target[] {
  return rows.map(([dist, name, ns]) => ({
    id: `cas.${name.replace(/ /g, '-')}`,
    what: `CAS ping-pong, ${name}`,
    profile,
    published: ns,
    unit: 'ns',
    source: `${NVIENNOT}: ${cpu} ${ns} ns`,
    tolerance: 0.1,
    simulate: once((e) => {
      const simulated = casPingPongNs(resolveMachine(profile, { threadsPerCore: 2, ...e.params }), dist, e.casRoundTrips);
      // Only a --param can reshape a profile so (sockets=1, threadsPerCore=1, ...): name it.
      if (simulated === null) {
        const given = Object.entries(e.params ?? {}).map(([k, v]) => `--param ${k}=${v}`).join(' ');
        throw new ConfigError(`${profile} with ${given} has no two CPUs at distance '${name}': target cas.${name.replace(/ /g, '-')} cannot be measured (validate --machine another profile)`);
      }
      return simulated;
    }),
  }));
}

/** Hansen 2017: 692 cycles at 1 page and 25,663 at 129, so 195.1 per extra page between them. */
const hansenCurve = (pages: number): number => Math.round(692 + ((25_663 - 692) / 128) * (pages - 1));

function hansenTargets(profile: string): Target[] {
  const point = (pages: number) => once((e) => localFlush(profile, e.params ?? {}, 'linux-4.14', pages, e.flushCycles));
  const sizes = [1, 2, 4, 8, 16, 33];
  const out: Target[] = sizes.map((pages) => ({
    id: `local-flush.${pages}p`,
    what: `local flush_tlb_mm_range(), ${pages} page${pages > 1 ? 's' : ''}`,
    profile,
    published: hansenCurve(pages),
    unit: 'cycles',
    source: pages === 1 ? `${HANSEN}: 692 cycles` : `${HANSEN}: 692 + 195.1 x ${pages - 1} (the line through his 1- and 129-page points) [D]`,
    tolerance: 0.15,
    fitted: pages === 1 ? 'flushTlbFixed is derived from this point' : undefined,
    simulate: (e: Effort) => point(pages)(e).flushCycles,
  }));
  const full = point(34);
  out.push({
    id: 'local-flush.full',
    what: 'full flush above the ceiling (34 pages): the call',
    profile,
    published: 692 - 200 + 96,
    unit: 'cycles',
    source: `${HANSEN}: 692 at 1 page less its INVLPG (200), plus the CR3 write (96, Molnar 2015) [D]`,
    tolerance: 0.15,
    simulate: (e) => full(e).flushCycles,
  }, {
    id: 'local-flush.full-refill',
    what: 'full flush above the ceiling: walks of the refill, per iteration',
    profile,
    published: 34,
    unit: 'walks',
    source: 'Intel SDM 4.10.4.1: a CR3 write without PCID drops every non-global entry, so each of the 34 pages touched again is walked',
    tolerance: 0.05, // an iteration cut by the window's edges
    simulate: (e) => full(e).walksPerIteration,
  });
  return out;
}

function lutomirskiTargets(profile: string): Target[] {
  const pcid = once((e) => pcidPingPong(profile, e.params ?? {}, true, 512, e.pingPongCycles));
  const nopcid = once((e) => pcidPingPong(profile, e.params ?? {}, false, 512, e.pingPongCycles));
  const base = once((e) => pcidPingPong(profile, e.params ?? {}, true, 0, e.pingPongCycles));
  const t = (id: string, what: string, published: number, unit: string, quote: string, tolerance: number, simulate: (e: Effort) => number, fitted?: string): Target =>
    ({ id: `pcid-pingpong.${id}`, what, profile, published, unit, source: `${LUTO}: ${quote}`, tolerance, simulate, fitted });
  return [
    t('base', 'eventfd ping-pong round trip, no pages, PCID', 1.22, 'us', '1.22 us', 0.25, (e) => base(e).roundTripUs, 'contextSwitch is calibrated on this point'),
    t('pcid', 'round trip writing 512 pages per turn, PCID', 1.8, 'us', '1.8 us', 0.25, (e) => pcid(e).roundTripUs),
    t('nopcid', 'round trip writing 512 pages per turn, no PCID', 6.2, 'us', '6.2 us', 0.25, (e) => nopcid(e).roundTripUs),
    t('time-ratio', 'time ratio no PCID / PCID', 6.2 / 1.8, 'ratio', '6.2 / 1.8', 0.2, (e) => nopcid(e).roundTripUs / pcid(e).roundTripUs),
    t('walk-ratio', 'dTLB walk ratio no PCID / PCID', 207 / 11, 'ratio', '207M / 11M dTLB misses', 0.2,
      (e) => nopcid(e).walksPerRoundTrip / pcid(e).walksPerRoundTrip, 'the guest kernel footprint (kernelTlbPages = 240) is calibrated on this ratio'),
  ];
}

/** Every target, in report order. */
export function allTargets(): Target[] {
  return [
    ...casTargets('skylake-sp-2s', 'Xeon Gold 6242', [[DIST_SMT, 'SMT sibling', 7.4], [DIST_CCX, 'same socket', 48], [DIST_REMOTE, 'other socket', 136]]),
    ...casTargets('zen3-1s', 'EPYC 7R13', [[DIST_SMT, 'SMT sibling', 9.8], [DIST_CCX, 'same CCX', 23], [DIST_SOCKET, 'other CCX', 107]]),
    // No Haswell-EP pair in the README: Broadwell-EP, the same platform, stands in (the profile's
    // transfers come from other Broadwell-EP parts' CSVs, so this is a check across parts).
    ...casTargets('haswell-2s', 'Xeon E5-2695 v4 (Broadwell-EP)', [[DIST_SMT, 'SMT sibling', 7.6], [DIST_CCX, 'same socket', 44], [DIST_REMOTE, 'other socket', 118]]),
    ...hansenTargets('skylake-sp-2s'),
    ...lutomirskiTargets('skylake-sp-2s'),
  ];
}
