import { type MachineProfile, C2C, CEILING, HANSEN, LUTO, v } from './source';

export const SKYLAKE_SP_2S: MachineProfile = {
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
    socketLinks: v(3, 'R', 'Xeon Platinum 81xx: 3 UPI links per socket (2 sockets: one hop either way)'),
    hopCycles: v(220, 'E',
      'unused with 2 sockets; a further UPI hop assumed to cost what the first adds: transferRemote - transferCcx = 310 - 90 = 220'),

    l1Hit: v(4, 'S', 'Intel Optimization Manual, Skylake: L1 4 cycles (via translated copy)'),
    l2Hit: v(14, 'E', 'Skylake client L2 12 cycles [S]; the SP 1 MiB L2 assumed slower (cost-parameters 8.1)'),
    llcHit: v(55, 'E', 'Skylake client L3 44 cycles [S]; the SP mesh LLC is slower (cost-parameters 8.1)'),
    memLatency: v(225, 'R', 'local DRAM ~90 ns [R, typical MLC figure; verify] x 2.5 GHz = 225'),
    memLatencyRemote: v(350, 'R', 'remote DRAM ~140 ns [R, verify] x 2.5 GHz = 350'),
    transferSmt: v(0, 'D',
      `${C2C}: Xeon Gold 6242 SMT sibling 7.4 ns [S] x 2.5 GHz = 18.5 ~ rmwLocal (19): siblings share the L1D, so no transfer`),
    transferCcx: v(90, 'D', `${C2C}: Xeon Gold 6242 same socket 48 ns [S] x 2.5 GHz = 120, less the CAS (rmwLocal 19) and the owner's failed CAS in progress, half of one on average ((l1Hit + rmwLocal) / 2 = 11.5) = 89.5`),
    transferSocket: v(90, 'D', '= transferCcx: one LLC per socket; unused when ccxPerSocket=1'),
    transferRemote: v(310, 'D', `${C2C}: Xeon Gold 6242 other socket 136 ns [S] x 2.5 GHz = 340, less the CAS (19) and half a failed CAS (11.5) = 309.5`),
    rmwLocal: v(19, 'S',
      'uops.info LOCK CMPXCHG m64,r64, Alder Lake-P: 19 cycles (proxy); Agner Fog Skylake ~18 [R]'),
    ownerWindow: v(1, 'E', 'on: a request waits for the snoop to reach the owner and takes effect at its grant (docs/ARCHITECTURE.md, "The owner window"); 0 is the original serialization, each request taking effect at issue'),
    mfence: v(33, 'E',
      'no source in cost-parameters.md; above rmwLocal because Linux x86-64 smp_mb() uses LOCK ADD as the cheaper barrier [R]'),
    storeBufferEntries: v(56, 'R', 'Skylake store buffer 56 entries (Intel Optimization Manual; not re-checked)'),
    storeIssue: v(1, 'E', 'one store retires into the store buffer per cycle'),
    fillBuffers: v(10, 'R',
      'Intel Optimization Manual: 10 L1D fill buffers since Nehalem, Skylake included (not re-checked; ' +
        'onedfrk.com "The Fill Buffer", 2026, quotes 10 for Skylake)'),

    x2apic: v(1, 'R', 'Skylake-SP supports x2APIC; Linux uses it when firmware enables it'),
    ipiSendX2apic: v(150, 'E',
      'cost-parameters 2.2: one ICR write (WRMSR), charged per target as Linux x2APIC physical mode writes the ICR ' +
        'once per CPU; no bare-metal source found'),
    ipiSendXapic: v(500, 'E',
      'cost-parameters 2.2, incl. busy wait; KVM guest xAPIC/x2APIC 6059/4338 cycles = 1.40x (Zeng Guang 2022) [S]'),

    ipiDeliveryCcx: v(1200, 'E',
      'no bare-metal source; guest upper bounds 1.45 us (Zeng Guang 2022), ' +
        '2.51 us (Wanpeng Li 2018, Skylake 2.5 GHz) [S]; 0.48 us as zen3-1s'),
    ipiDeliverySocket: v(1200, 'E', '= ipiDeliveryCcx: one LLC per socket; unused when ccxPerSocket=1'),
    ipiDeliveryRemote: v(1540, 'E', 'ipiDeliveryCcx + 340 for one extra UPI hop (cost-parameters 8.1)'),
    irqEntryExit: v(800, 'F',
      'Multikernel (SOSP 2009) "IPI trap ~800 cycles", Opteron [via notes]: entry, EOI and IRET, no handler body; ' +
        'PTI/mitigations may double it [E]'),
    idleWakeup: v(5000, 'D',
      'Linux intel_idle skx_cstates: C1 exit_latency 2 us [S] x 2.5 GHz = 5000 (declared worst case)'),

    hostPreemptsPerS: v(0, 'E', 'off: bare metal unless set; a free parameter (a host that overcommits its pCPUs deschedules vCPUs often)'),
    hostPreemptNs: v(3_000_000, 'E', 'a host CFS slice, order of magnitude (sched_latency_ns 6 ms shared by two runnable vCPUs); docs/reference/beyond-mainline.md 3.4'),
    vmExitEntry: v(1500, 'E', 'no bare-metal source read; the KVM unit test vmexit/ipi (4338 cycles for a whole guest IPI, cost-parameters 2.1) bounds it from above'),
    hostGuestFlush: v(350, 'E', 'as invpcid'),
    pcid: v(1, 'R', 'Skylake has PCID and INVPCID; Lutomirski measured PCID on Skylake [S]'),
    pti: v(0, 'E',
      'modelling default: the other costs were measured without PTI; real Skylake-SP kernels enable PTI (Meltdown) [R]'),
    invlpg: v(200, 'S', `${HANSEN}: INVLPG ~200 cycles`),
    invlpgPti: v(550, 'S', `${HANSEN}: INVLPG + INVPCID ~550 cycles`),
    invpcid: v(350, 'D', `${HANSEN}: 550 (INVLPG + INVPCID) - 200 (INVLPG) = 350`),
    cr3Write: v(96, 'S', 'Ingo Molnar, linux-mm June 2015: __flush_tlb() 96 cycles'),
    pageWalk: v(20, 'D',
      `${LUTO}: 6.2 - 1.8 = 4.4 us per round trip for 2 x 512 walks on 2 walkers (pageWalkers): ` +
        '4.4 us x 2.3 GHz x 2 / 1024 = 19.8 ~ 20 cycles per walk (cache-resident walks scale with the core clock)'),
    pageWalkers: v(2, 'S',
      'Intel Optimization Manual, Skylake client (via translated copy, blog.51cto.com/u_14850/6626242): ' +
        '"two page walks in parallel; earlier generations one"'),
    kernelTlbPages: v(16, 'E',
      'the vmapped kernel stacks of prev and next (4 pages each) and a few vmalloc\'d structures; the rest of a ' +
        'bare-metal kernel is mapped with 2 MiB/1 GiB pages. Lutomirski\'s KVM guest needs 240 (docs/CALIBRATION.md)'),
    stlbHit: v(12, 'S',
      'PC Watch 2013 (RMMA), Haswell: L1 DTLB miss + L2 TLB hit ~12 cycles (proxy; cost-parameters 8.1: 9-12)'),
    syscallEntryExit: v(100, 'E',
      'SYSCALL + SYSRET and the entry code of a null system call without PTI or other speculation mitigations ' +
        '(~40 ns; no bare-metal source found); a mitigated kernel pays several hundred cycles more'),
    faultEntryExit: v(1050, 'S',
      'Linus Torvalds, Google+ 2014-04-30 "The cost of Linux\'s page fault handling" (quoted by d.hatena.ne.jp/yohei-a/20160509): ' +
        'Haswell, ~715 cycles to enter the fault and ~330 for the IRET (proxy for Skylake)'),
    pageFault: v(1450, 'E',
      'no source in cost-parameters.md: ~1 us for an anonymous fault with a 4 KiB page zeroed, x 2.5 GHz = 2500, ' +
        'less faultEntryExit (1050)'),
    l1dTlbEntries: v(64, 'R', 'Intel Optimization Manual, Skylake: L1 DTLB 64 entries (4K), 4-way'),
    l1dTlbWays: v(4, 'R', 'Intel Optimization Manual, Skylake: L1 DTLB 4-way'),
    stlbEntries: v(1536, 'R', 'Intel Optimization Manual, Skylake: STLB 1536 entries, 12-way, shared 4K+2M'),
    stlbWays: v(12, 'R', 'Intel Optimization Manual, Skylake: STLB 12-way'),
    flushCeiling: v(33, 'S', CEILING),
    flushTlbFixed: v(416, 'D',
      `${HANSEN}: flush_tlb_mm_range of 1 page 692 cycles [S], less the INVLPG (200) and the 76 cycles linux-4.14 ` +
        'charges op by op (tlb_gen XADD, flush_tlb_info stores, loaded_mm and tlb_gen loads) = 416'),
    invlpgb: v(0, 'R', 'INVLPGB/TLBSYNC are AMD extensions (Zen 3 onward); Skylake has none'),
    invlpgbIssue: v(100, 'E', 'unused (invlpgb=0); as zen3-1s'),
    tlbsync: v(1500, 'E', 'unused (invlpgb=0); as zen3-1s'),
    rar: v(1, 'E', 'what-if: Skylake-SP has no RAR (Sapphire Rapids and later do); enabled to run intel-rar'),
    rarService: v(200, 'E', 'no published timing (white paper 341431 not read): a few hundred cycles of microcode'),
    latrEntries: v(256, 'S', 'sslab-gatech/latr latr.patch (Linux 4.10), asm/tlbflush.h: #define LAZY_TLB_NUM_ENTRIES 256'),
    latrMaxPasses: v(2, 'S', 'sslab-gatech/latr latr.patch, arch/x86/mm/tlb.c: #define TLB_SHOOTDOWN_MAX 2'),
    latrBackgroundNs: v(1e9, 'S', 'sslab-gatech/latr latr.patch, background_tlb_invalidate(): schedule_timeout_interruptible(HZ*1), one second'),

    contextSwitch: v(485, 'E',
      `calibrated on the validate scenario pcid-pingpong (no pages, PCID): ${LUTO}: 1.22 us x 2.3 GHz = 2806 cycles ` +
        'per round trip of two switches, four eventfd syscalls and two wake-ups; the model charges 1836 of them op by op ' +
        '(syscalls, queued spinlocks, wake-ups, schedule) at contextSwitch = 0, so (2806 - 1836) / 2 = 485 (with the ticket ' +
        'locks of before, 1900 op by op and 450)'),
  },
};
