/**
 * The named machine profiles. Every value carries a source tag and a short citation, taken from
 * docs/reference/cost-parameters.md (its sections 8.1 and 8.2 propose the defaults):
 *
 *   S  read verbatim from the cited public source      F  read off a figure by a third party
 *   D  derived from sourced numbers (arithmetic shown)  E  our estimate: calibrate before trusting
 *   R  remembered from the literature, not re-checked   M  measured by us (Zen 4 KVM guest)
 *
 * Each profile lives in its own module under profiles/; ns are converted at the profile clock.
 * docs/PROFILES.md is generated from these tables (describe.ts) and checked by a test.
 */
import { HASWELL_2S } from './profiles/haswell-2s';
import { OPTERON_8X4 } from './profiles/opteron-8x4';
import { SKYLAKE_SP_2S } from './profiles/skylake-sp-2s';
import type { MachineProfile } from './profiles/source';
import { ZEN3_1S } from './profiles/zen3-1s';

export type { MachineProfile, Sourced, SourceTag } from './profiles/source';

function freezeProfile(p: MachineProfile): MachineProfile {
  Object.freeze(p.params);
  return Object.freeze(p);
}

/** The named profiles, by name. `skylake-sp-2s` is listed first and is the usual default. */
export const PROFILES: Readonly<Record<string, MachineProfile>> = Object.freeze({
  [SKYLAKE_SP_2S.name]: freezeProfile(SKYLAKE_SP_2S),
  [ZEN3_1S.name]: freezeProfile(ZEN3_1S),
  [HASWELL_2S.name]: freezeProfile(HASWELL_2S),
  [OPTERON_8X4.name]: freezeProfile(OPTERON_8X4),
});
