import { type MachineProfile, CEILING, v } from './source';

/** Where the Multikernel's figure readings come from (the paper itself was not read; see the design note). */
const MK = 'Baumann et al., "The Multikernel", SOSP 2009';
const MK_NOTE = 'docs/reference/beyond-mainline.md 5.3';
/** The one-way URPC latency the line transfers are fitted to (Table 2, 8x4-core AMD, two HyperTransport hops). */
const URPC_2HOP = 618;
const HOP = 40;

/**
 * The Multikernel paper's largest machine, for comparing `mc-shootdown`'s four protocols with its
 * Fig 6. Barely anything of it is read from a source: the topology and three costs come from the
 * paper's figures (via third-party readings), one transfer is fitted to its Table 2, the rest are
 * estimates. Report ratios and shapes on it, not cycles.
 */
export const OPTERON_8X4: MachineProfile = {
  name: 'opteron-8x4',
  description:
    '8-socket AMD Opteron (family 10h, the Multikernel paper\'s 8x4-core machine): 8 quad-core dies, one L3 per die, ' +
    'HyperTransport links, at most two hops between dies; no SMT, no PCID, xAPIC. Most costs are estimates; the ' +
    'remote line transfer is fitted to the paper\'s URPC latency.',
  params: {
    clockGhz: v(2.0, 'D', `${MK} Table 1 [F, ${MK_NOTE}]: 1549 cycles = 774 ns, so 2.0 GHz`),
    sockets: v(8, 'F', `${MK}: the 8x4-core AMD system of Tables 1-2 and Figs 6-7 [${MK_NOTE}]`),
    ccxPerSocket: v(1, 'R', 'family 10h: one shared L3 per quad-core die'),
    coresPerCcx: v(4, 'F', `${MK}: 8x4-core [${MK_NOTE}]`),
    threadsPerCore: v(1, 'R', 'family 10h Opterons have no SMT'),
    socketLinks: v(3, 'D',
      `${MK} Table 2 [F]: the farthest URPC pair is two HyperTransport hops; 3 links per die on the ring-with-chords ` +
        'layout (i +- 1 and i + 4) give a diameter = 2 hops on 8 dies (2 links would give 4)'),
    hopCycles: v(HOP, 'E', 'a HyperTransport hop forwarded by the middle die\'s crossbar, ~20 ns assumed; no source read'),

    l1Hit: v(3, 'R', 'AMD family 10h Software Optimization Guide: L1D load-to-use 3 cycles (not re-checked)'),
    l2Hit: v(15, 'R', 'family 10h: L2 ~15 cycles (7-cpu.com, K10; not re-checked)'),
    llcHit: v(50, 'E', 'family 10h shared L3 ~45-55 cycles [R]; no source read'),
    memLatency: v(200, 'E', '~100 ns local DRAM (DDR2, integrated controller) assumed x 2.0 GHz'),
    memLatencyRemote: v(320, 'E', '~160 ns assumed for a line from another die\'s DRAM'),
    transferSmt: v(0, 'E', 'unused: no SMT'),
    transferCcx: v(120, 'E',
      'a dirty line from another core of the same die (through the L3/crossbar), ~60 ns assumed; the paper\'s same-die ' +
        'URPC figure for this machine was not read'),
    transferSocket: v(120, 'D', '= transferCcx: one L3 per die; unused when ccxPerSocket=1'),
    transferRemote: v(Math.round((URPC_2HOP - 1) / 2) - HOP, 'D',
      `fitted to ${MK} Table 2 [F, ${MK_NOTE}]: URPC one-way ${URPC_2HOP} cycles over two HyperTransport hops. A message ` +
        'on a line the receiver polls costs the sender\'s store (storeIssue 1) whose GetM invalidates the receiver, then ' +
        `the receiver's miss: 2 x (transferRemote + hopCycles) + 1 = ${URPC_2HOP}, so transferRemote = ` +
        `(${URPC_2HOP} - 1) / 2 - ${HOP} = ${Math.round((URPC_2HOP - 1) / 2) - HOP} (tests/tlb/strategies/mc-shootdown.test.ts measures it)`),
    rmwLocal: v(20, 'E', 'LOCK CMPXCHG on an owned line, family 10h ~20 cycles assumed (Agner Fog K10 [R])'),
    ownerWindow: v(1, 'E', 'on: a request waits for the snoop to reach the owner and takes effect at its grant (docs/ARCHITECTURE.md, "The owner window"); 0 is the original serialization, each request taking effect at issue'),
    mfence: v(30, 'E', 'no source; above rmwLocal as on the other profiles'),
    storeBufferEntries: v(32, 'E', 'family 10h LS2 store queue, order of magnitude [R]'),
    storeIssue: v(1, 'E', 'one store retires into the store buffer per cycle'),
    fillBuffers: v(8, 'R', 'family 10h: 8 miss address buffers (not re-checked)'),

    x2apic: v(0, 'R', 'family 10h has no x2APIC: IPIs are xAPIC MMIO ICR writes'),
    ipiSendX2apic: v(150, 'E', 'unused (x2apic=0); as zen3-1s'),
    ipiSendXapic: v(500, 'E', 'cost-parameters 2.2, incl. busy wait; as skylake-sp-2s'),
    ipiDeliveryCcx: v(1000, 'E', '~0.5 us assumed x 2.0 GHz; no Opteron source read'),
    ipiDeliverySocket: v(1000, 'E', '= ipiDeliveryCcx: one die per socket; unused when ccxPerSocket=1'),
    ipiDeliveryRemote: v(1300, 'E', 'ipiDeliveryCcx + ~transferRemote for the HyperTransport crossing'),
    irqEntryExit: v(800, 'F', `${MK} "IPI trap ~800 cycles", this Opteron [via notes]: entry, EOI and IRET, no handler body`),
    idleWakeup: v(2000, 'E', '~1 us C1 exit assumed x 2.0 GHz (as zen3-1s)'),

    hostPreemptsPerS: v(0, 'E', 'off: bare metal unless set'),
    hostPreemptNs: v(3_000_000, 'E', 'a host CFS slice, order of magnitude; docs/reference/beyond-mainline.md 3.4'),
    vmExitEntry: v(1500, 'E', 'as skylake-sp-2s; unused on bare metal'),
    hostGuestFlush: v(350, 'E', 'as skylake-sp-2s; unused on bare metal'),
    pcid: v(0, 'R', 'family 10h has no PCID: every CR3 write flushes non-global entries'),
    pti: v(0, 'R', 'AMD is not affected by Meltdown; Linux does not enable PTI'),
    invlpg: v(200, 'E', `${MK}: Opteron TLB invalidate 95-320 cycles [F, via cost-parameters]; the middle of the range`),
    invlpgPti: v(550, 'E', 'unused (pti=0); as skylake-sp-2s'),
    invpcid: v(350, 'E', 'unused (no INVPCID on family 10h); as skylake-sp-2s'),
    cr3Write: v(100, 'E', 'as zen3-1s'),
    pageWalk: v(25, 'E', 'as zen3-1s'),
    pageWalkers: v(1, 'E', 'one outstanding walk assumed for family 10h'),
    kernelTlbPages: v(16, 'E', 'as skylake-sp-2s'),
    stlbHit: v(10, 'E', 'no source; as the other profiles, order of magnitude'),
    syscallEntryExit: v(100, 'E', 'as skylake-sp-2s: no AMD source found'),
    faultEntryExit: v(1050, 'E', 'as skylake-sp-2s (Torvalds 2014, Haswell): no AMD source found'),
    pageFault: v(950, 'E', '~1 us for an anonymous fault with a page zeroed, x 2.0 GHz = 2000, less faultEntryExit (1050)'),
    l1dTlbEntries: v(48, 'R', 'family 10h L1 DTLB: 48 entries, fully associative (not re-checked)'),
    l1dTlbWays: v(48, 'R', 'fully associative: ways = entries'),
    stlbEntries: v(512, 'R', 'family 10h L2 DTLB: 512 4 KiB entries, 4-way (not re-checked)'),
    stlbWays: v(4, 'R', 'family 10h L2 DTLB 4-way (not re-checked)'),
    flushCeiling: v(33, 'S', CEILING),
    flushTlbFixed: v(416, 'E', 'as skylake-sp-2s (Hansen 2017, Intel): no AMD measurement found'),
    invlpgb: v(0, 'R', 'INVLPGB arrived with Zen 3'),
    invlpgbIssue: v(100, 'E', 'unused (invlpgb=0); as zen3-1s'),
    tlbsync: v(1500, 'E', 'unused (invlpgb=0); as zen3-1s'),
    rar: v(0, 'E', 'AMD: no RAR'),
    rarService: v(200, 'E', 'unused (rar=0); as skylake-sp-2s'),
    latrEntries: v(256, 'S', 'sslab-gatech/latr latr.patch (Linux 4.10), asm/tlbflush.h: #define LAZY_TLB_NUM_ENTRIES 256'),
    latrMaxPasses: v(2, 'S', 'sslab-gatech/latr latr.patch, arch/x86/mm/tlb.c: #define TLB_SHOOTDOWN_MAX 2'),
    latrBackgroundNs: v(1e9, 'S', 'sslab-gatech/latr latr.patch, background_tlb_invalidate(): schedule_timeout_interruptible(HZ*1), one second'),

    contextSwitch: v(485, 'E', 'as skylake-sp-2s (calibrated on Lutomirski\'s ping-pong): no AMD source found'),
  },
};
