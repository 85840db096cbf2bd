/**
 * The named machine profiles. Every value carries a source tag and a short citation, taken from
 * the project's cost-parameters.md (its sections 8.1 and 8.2 propose the defaults):
 *
 *   S  read verbatim from the cited public source      F  read off a figure by a third party
 *   D  derived from sourced numbers (arithmetic shown)  E  our estimate: calibrate before trusting
 *   R  remembered from the literature, not re-checked   M  measured by us (Zen 4 KVM guest)
 *
 * ns are converted at the profile clock (2.5 GHz Skylake-SP, 3.0 GHz Zen 3, both [E]).
 * docs/PROFILES.md is generated from these tables (describe.ts) and checked by a test.
 */
import type { MachineParams } from './params';

export type SourceTag = 'S' | 'F' | 'D' | 'E' | 'R' | 'M';

export interface Sourced {
  readonly value: number;
  readonly tag: SourceTag;
  readonly source: string;
}

export interface MachineProfile {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<keyof MachineParams, Sourced>>;
}

const v = (value: number, tag: SourceTag, source: string): Sourced => Object.freeze({ value, tag, source });

const C2C = 'nviennot/core-to-core-latency (CAS ping-pong, round trip / 2)';
const HANSEN = 'Dave Hansen, linux-mm 2017-12-05, Skylake 4C';
const LUTO = 'Lutomirski, commit 10af6235e0d3 (PCID), Skylake 2.3 GHz';

const SKYLAKE_SP_2S: MachineProfile = {
  name: 'skylake-sp-2s',
  description:
    '2-socket Intel Skylake-SP (Xeon Scalable, e.g. 2x Platinum 8180): 2 x 28 cores, one mesh LLC per ' +
    'socket, UPI between sockets, SMT off by default. Coherence costs from Cascade Lake (Skylake-SP refresh).',
  params: {
    clockGhz: v(2.5, 'E', 'cost-parameters 8.1: cycle conversions assume 2.5 GHz'),
    sockets: v(2, 'R', '2-socket Xeon Scalable server'),
    ccxPerSocket: v(1, 'R', 'one shared mesh LLC per socket, so CCX = socket'),
    coresPerCcx: v(28, 'R', 'Xeon Platinum 8180/8176: 28 cores per socket (cost-parameters 8.1: ~20-28)'),
    threadsPerCore: v(1, 'E',
      'modelling default: SMT off (hardware has 2 threads/core [R]); set threadsPerCore=2 for SMT'),

    l1Hit: v(4, 'S', 'Intel Optimization Manual, Skylake: L1 4 cycles (via translated copy)'),
    l2Hit: v(14, 'E', 'Skylake client L2 12 cycles [S]; the SP 1 MiB L2 assumed slower (cost-parameters 8.1)'),
    llcHit: v(55, 'E', 'Skylake client L3 44 cycles [S]; the SP mesh LLC is slower (cost-parameters 8.1)'),
    memLatency: v(225, 'R', 'local DRAM ~90 ns [R, typical MLC figure; verify] x 2.5 GHz = 225'),
    memLatencyRemote: v(350, 'R', 'remote DRAM ~140 ns [R, verify] x 2.5 GHz = 350'),
    transferSmt: v(18, 'D', `${C2C}, Xeon Gold 6242 SMT sibling 7.4 ns [S] x 2.5 GHz = 18.5 ~ 18`),
    transferCcx: v(120, 'D', `${C2C}, Xeon Gold 6242 same socket 48 ns [S] x 2.5 GHz = 120`),
    transferSocket: v(120, 'D', '= transferCcx: one LLC per socket; unused when ccxPerSocket=1'),
    transferRemote: v(340, 'D', `${C2C}, Xeon Gold 6242 other socket 136 ns [S] x 2.5 GHz = 340`),
    rmwLocal: v(19, 'S',
      'uops.info LOCK CMPXCHG m64,r64, Alder Lake-P: 19 cycles (proxy); Agner Fog Skylake ~18 [R]'),
    mfence: v(33, 'E',
      'no source in cost-parameters.md; above rmwLocal because Linux x86-64 smp_mb() uses LOCK ADD as the cheaper barrier [R]'),
    storeBufferEntries: v(56, 'R', 'Skylake store buffer 56 entries (Intel Optimization Manual; not re-checked)'),
    storeIssue: v(1, 'E', 'one store retires into the store buffer per cycle'),

    x2apic: v(1, 'R', 'Skylake-SP supports x2APIC; Linux uses it when firmware enables it'),
    ipiSendX2apic: v(150, 'E', 'cost-parameters 2.2: sender ICR write (one WRMSR); no bare-metal source found'),
    ipiSendXapic: v(500, 'E',
      'cost-parameters 2.2, incl. busy wait; KVM guest xAPIC/x2APIC 6059/4338 cycles = 1.40x (Zeng Guang 2022) [S]'),
    ipiPerTarget: v(170, 'D',
      'cost-parameters 8.1: ~68 ns x 2.5 GHz = 170, "from a published 1->3-target measurement" (not cited there; verify)'),
    ipiDeliveryCcx: v(1200, 'E',
      'no bare-metal source; guest upper bounds 1.45 us (Zeng Guang 2022), ' +
        '2.51 us (Wanpeng Li 2018, Skylake 2.5 GHz) [S]; 0.48 us as zen3-1s'),
    ipiDeliverySocket: v(1200, 'E', '= ipiDeliveryCcx: one LLC per socket; unused when ccxPerSocket=1'),
    ipiDeliveryRemote: v(1540, 'E', 'ipiDeliveryCcx + 340 for one extra UPI hop (cost-parameters 8.1)'),
    irqEntryExit: v(800, 'F',
      'Multikernel (SOSP 2009) "IPI trap ~800 cycles", Opteron [via notes]; PTI/mitigations may double it [E]'),
    idleWakeup: v(5000, 'D',
      'Linux intel_idle skx_cstates: C1 exit_latency 2 us [S] x 2.5 GHz = 5000 (declared worst case)'),

    pcid: v(1, 'R', 'Skylake has PCID and INVPCID; Lutomirski measured PCID on Skylake [S]'),
    pti: v(0, 'E',
      'modelling default: the other costs were measured without PTI; real Skylake-SP kernels enable PTI (Meltdown) [R]'),
    invlpg: v(200, 'S', `${HANSEN}: INVLPG ~200 cycles`),
    invlpgPti: v(550, 'S', `${HANSEN}: INVLPG + INVPCID ~550 cycles`),
    invpcid: v(350, 'D', `${HANSEN}: 550 (INVLPG + INVPCID) - 200 (INVLPG) = 350`),
    cr3Write: v(96, 'S', 'Ingo Molnar, linux-mm June 2015: __flush_tlb() 96 cycles'),
    pageWalk: v(20, 'D',
      `${LUTO}: ~4.4 us / ~512 extra walks = 8.6 ns = 20 cycles (cache-resident walks scale with the core clock)`),
    stlbHit: v(12, 'S',
      'PC Watch 2013 (RMMA), Haswell: L1 DTLB miss + L2 TLB hit ~12 cycles (proxy; cost-parameters 8.1: 9-12)'),
    pageFault: v(2500, 'E', 'no source in cost-parameters.md: ~1 us for an anonymous fault with a 4 KiB page zeroed, x 2.5 GHz'),
    l1dTlbEntries: v(64, 'R', 'Intel Optimization Manual, Skylake: L1 DTLB 64 entries (4K), 4-way'),
    l1dTlbWays: v(4, 'R', 'Intel Optimization Manual, Skylake: L1 DTLB 4-way'),
    stlbEntries: v(1536, 'R', 'Intel Optimization Manual, Skylake: STLB 1536 entries, 12-way, shared 4K+2M'),
    stlbWays: v(12, 'R', 'Intel Optimization Manual, Skylake: STLB 12-way'),
    flushCeiling: v(33, 'S', 'Linux Documentation/arch/x86/tlb.rst; commit a5102476a24b'),
    invlpgb: v(0, 'R', 'INVLPGB/TLBSYNC are AMD extensions (Zen 3 onward); Skylake has none'),
    invlpgbIssue: v(100, 'E', 'unused (invlpgb=0); as zen3-1s'),
    tlbsync: v(1500, 'E', 'unused (invlpgb=0); as zen3-1s'),

    contextSwitch: v(1000, 'E', `${LUTO}: eventfd ping-pong 1.33 us per 2 switches, ~0.6 us each x 2.5 GHz = 1500 [D] in all, less ~500 cycles that lazytlb charges op by op (rq lock, flags, CR3)`),
  },
};

const ZEN3_1S: MachineProfile = {
  name: 'zen3-1s',
  description:
    '1-socket AMD Zen 3 EPYC (e.g. 7763 Milan): 64 cores = 8 CCDs x one 8-core CCX, SMT off by default, ' +
    'with INVLPGB/TLBSYNC broadcast invalidation.',
  params: {
    clockGhz: v(3.0, 'E', 'cost-parameters 8.2: 3.0 GHz (EPYC 7763: 2.45 base to 3.5 boost)'),
    sockets: v(1, 'R', 'single-socket EPYC 7763 (Milan)'),
    ccxPerSocket: v(8, 'R', 'EPYC 7763: 8 CCDs, one CCX per CCD on Zen 3'),
    coresPerCcx: v(8, 'R', 'Zen 3 CCX has 8 cores (7R13 "within 8-core CCX", cost-parameters 1.1)'),
    threadsPerCore: v(1, 'E',
      'modelling default: SMT off (hardware has 2 threads/core [R]); set threadsPerCore=2 for SMT'),

    l1Hit: v(4, 'R', 'AMD Software Optimization Guide, family 19h (verify)'),
    l2Hit: v(12, 'R', 'AMD Software Optimization Guide, family 19h (verify)'),
    llcHit: v(46, 'R', 'AMD Software Optimization Guide, family 19h: own-CCX L3 (verify)'),
    memLatency: v(330, 'E', 'no source in cost-parameters.md; ~110 ns assumed x 3.0 GHz = 330'),
    memLatencyRemote: v(600, 'E', 'unused when sockets=1; ~200 ns assumed x 3.0 GHz = 600'),
    transferSmt: v(30, 'D', `${C2C}, EPYC 7R13 SMT sibling 9.8 ns [S] x 3.0 GHz = 29.4 ~ 30`),
    transferCcx: v(70, 'D', `${C2C}, EPYC 7R13 within CCX 23 ns [S] x 3.0 GHz = 69 ~ 70`),
    transferSocket: v(320, 'D', `${C2C}, EPYC 7R13 other CCX ~90-110 ns [S]: ~107 ns x 3.0 GHz = 321 ~ 320`),
    transferRemote: v(590, 'D',
      `${C2C}, EPYC 7R13 other socket 197 ns [S] (anomalous) x 3.0 GHz = 591 ~ 590; unused when sockets=1`),
    rmwLocal: v(9, 'M',
      'our Zen 4 KVM-guest measurement, LOCK CMPXCHG chain 9.5 cycles (cost-parameters 1.3); Agner Fog Zen 2/3 ~8 [R]'),
    mfence: v(16, 'E',
      'no source in cost-parameters.md; above rmwLocal because Linux x86-64 smp_mb() uses LOCK ADD as the cheaper barrier [R]'),
    storeBufferEntries: v(64, 'R', 'Zen 3 store queue 64 entries (not re-checked)'),
    storeIssue: v(1, 'E', 'one store retires into the store buffer per cycle'),

    x2apic: v(1, 'R', 'EPYC Milan supports x2APIC (needed beyond 255 APIC IDs)'),
    ipiSendX2apic: v(150, 'E', 'cost-parameters 8.2: no AMD source found'),
    ipiSendXapic: v(500, 'E', 'cost-parameters 2.2, incl. busy wait; as skylake-sp-2s'),
    ipiPerTarget: v(200, 'E', 'cost-parameters 8.2'),
    ipiDeliveryCcx: v(1200, 'E', 'cost-parameters 8.2: ~0.4 us within a CCX'),
    ipiDeliverySocket: v(1500, 'E', 'cost-parameters 8.2: ~0.5 us across CCDs'),
    ipiDeliveryRemote: v(2100, 'E',
      'unused when sockets=1; ipiDeliverySocket + ~600 for a cross-socket hop (~transferRemote)'),
    irqEntryExit: v(900, 'E', 'cost-parameters 8.2'),
    idleWakeup: v(3000, 'E',
      'no AMD source; ~1 us C1 exit assumed x 3.0 GHz (intel_idle declares 2 us for SKX, 1 us for ICX [S])'),

    pcid: v(1, 'R', 'Zen 3 supports PCID and INVPCID'),
    pti: v(0, 'R', 'AMD is not affected by Meltdown; Linux does not enable PTI'),
    invlpg: v(200, 'E', 'cost-parameters 8.2; Multikernel Opteron TLB invalidate 95-320 cycles [F]'),
    invlpgPti: v(550, 'E', 'unused (pti=0); as skylake-sp-2s'),
    invpcid: v(350, 'E', 'no AMD source; as skylake-sp-2s'),
    cr3Write: v(100, 'E', 'cost-parameters 8.2'),
    pageWalk: v(25, 'E', 'cost-parameters 8.2'),
    stlbHit: v(12, 'E', 'no AMD source; Haswell ~12 cycles (PC Watch 2013) reused'),
    pageFault: v(3000, 'E', 'no source in cost-parameters.md: ~1 us for an anonymous fault with a 4 KiB page zeroed, x 3.0 GHz'),
    l1dTlbEntries: v(64, 'R', 'Zen 2 L1 DTLB 64 entries, fully assoc. [S: WikiChip, 7-cpu.com]; Zen 3 same'),
    l1dTlbWays: v(64, 'R', 'fully associative: ways = entries'),
    stlbEntries: v(2048, 'R', 'Zen 2 L2 DTLB 2048 entries [S: WikiChip, 7-cpu.com]; Zen 3 same'),
    stlbWays: v(16, 'E',
      'hardware is 12-way skewed (Zen 2 [S]); 2048/12 is no whole set count, so modelled as 16-way x 128 sets'),
    flushCeiling: v(33, 'S', 'Linux Documentation/arch/x86/tlb.rst; commit a5102476a24b'),
    invlpgb: v(1, 'S',
      'Rik van Riel, "[PATCH v5 00/12] AMD broadcast TLB invalidation" (2025), measured on Zen 3 Milan'),
    invlpgbIssue: v(100, 'E', 'cost-parameters 3.1/8.2: non-blocking issue; no per-instruction latency published'),
    tlbsync: v(1500, 'E', 'cost-parameters 3.1/8.2: ~1 fabric round trip (0.3-1 us)'),

    contextSwitch: v(1300, 'E', 'cost-parameters 8.2: ~0.6 us x 3.0 GHz = 1800 in all, less ~500 cycles that lazytlb charges op by op (rq lock, flags, CR3)'),
  },
};

function freezeProfile(p: MachineProfile): MachineProfile {
  Object.freeze(p.params);
  return Object.freeze(p);
}

/** The named profiles, by name. `skylake-sp-2s` is listed first and is the usual default. */
export const PROFILES: Readonly<Record<string, MachineProfile>> = Object.freeze({
  [SKYLAKE_SP_2S.name]: freezeProfile(SKYLAKE_SP_2S),
  [ZEN3_1S.name]: freezeProfile(ZEN3_1S),
});
