import { type MachineProfile, C2C, CEILING, v } from './source';

const HSX = 'CPUID dump of a Xeon E5-2690 v3 (vsrinivas/fuchsia, zircon/kernel/lib/arch/test/data/cpuid/haswell-xeon-e5-2690v3.json)';
const BDX = `${C2C}, Broadwell-EP proxy (no Haswell-EP data there): dual E5-2630 v4 10C / E5-2680 v4 14C medians we took from results/*.csv`;
const H14 = 'Dave Hansen, "x86: mm: set TLB flush tunable to sane value" (RFC, <20140218193017.ECDF1089@viggo.jf.intel.com>; ' +
  'repost <20140701164856.3020D644@viggo.jf.intel.com>, "this hardware (IvyBridge i5-3320M)"), flush_tlb_mm_range avg cycles';
const LINUS = 'Linus Torvalds, Google+ 2014-04-30 "The cost of Linux\'s page fault handling" (quoted by d.hatena.ne.jp/yohei-a/20160509)';
const MLC = 'Intel MLC v3.9 idle latency on 2x E5-2682 v4 (Broadwell-EP proxy), plantegg blog post on NUMA and zone_reclaim_mode (2021, in Chinese)';

export const HASWELL_2S: MachineProfile = {
  name: 'haswell-2s',
  description:
    '2-socket Intel Haswell-EP (2x Xeon E5-2690 v3, 12C/24T each at 2.6 GHz, ring LLC, QPI, xAPIC, SMT on): the ' +
    '"2-socket, 48-logical-cores (24+SMT) Haswell-X" of Nadav Amit\'s concurrent-TLB-flush series (2019) and the class ' +
    'of Rik van Riel\'s 2-socket Haswell/Broadwell memcache numbers (2018). Coherence and DRAM costs from Broadwell-EP, ' +
    'the same Grantley platform; flush costs from Ivy Bridge (Hansen 2014).',
  params: {
    clockGhz: v(2.6, 'S', `${HSX}: brand string "E5-2690 v3 @ 2.60GHz" (turbo to 3.5 GHz [R])`),
    sockets: v(2, 'S', 'Nadav Amit, "[PATCH v3 0/9] x86: Concurrent TLB flushes" (2019): "2-socket, 48-logical-cores (24+SMT) Haswell-X"'),
    ccxPerSocket: v(1, 'R', 'one ring LLC per socket; Cluster-on-Die (2 halves on >=10C dies) is a BIOS option, off by default [R]'),
    coresPerCcx: v(12, 'S', `${HSX}: CPUID 0xB level 1 = 24 logical CPUs per package / 2 threads = 12 cores; Amit: 24 cores in 2 sockets`),
    threadsPerCore: v(2, 'S', 'Amit 2019 ran with SMT ("24+SMT"); set threadsPerCore=1 (and storeBufferEntries=42) for SMT off'),
    socketLinks: v(2, 'R', 'Xeon E5-2690 v3: 2 QPI 9.6 GT/s links (E5-26xx v3 have 2; the E5-46xx and E7 parts have 3 or more)'),
    hopCycles: v(198, 'E',
      'unused with 2 sockets; a further QPI hop assumed to cost what the first adds: transferRemote - transferCcx = 277 - 79 = 198'),

    l1Hit: v(4, 'S', '7-cpu.com/cpu/Haswell.html, i7-4770: L1 4 cycles (5 with complex addressing) [S via quotes in several repos]'),
    l2Hit: v(12, 'S', '7-cpu.com Haswell i7-4770: L2 12 cycles [S via quote] (client L2 = server L2, 256 KiB)'),
    llcHit: v(45, 'D', '7-cpu.com "RAM Latency = 62 cycles + 100 ns (3.6 GHz E5-2699 dual)" (Tosatti, linux-mm 2017-05-19): ' +
      'L3 62 cycles at 3.6 GHz; the LLC runs on the uncore clock, so x 2.6/3.6 = 44.8 ~ 45 (18C die; 12C ring shorter)'),
    memLatency: v(221, 'D', `${MLC}: local 85.0/84.2 ns [S] x 2.6 GHz = 221 (7-cpu E5-2699 v3: ~117 ns incl. L3 lookup)`),
    memLatencyRemote: v(356, 'D', `${MLC}: remote 136.3/137.2 ns [S]: 137 x 2.6 GHz = 356`),
    transferSmt: v(2, 'D', `${BDX}: SMT sibling 8.2/8.3 ns (E5-2695 v4 README 7.6 ns): 8 x 2.6 = 21, less rmwLocal 19 = 2 (shared L1D: no snoop, so no wait for the owner's CAS)`),
    transferCcx: v(79, 'D', `${BDX}: same socket 39.2/45.2 ns (E5-2695 v4 18C README 44 ns); 12C ~42 ns x 2.6 = 109, less the CAS (19) and half the owner's failed CAS in progress ((l1Hit + rmwLocal) / 2 = 11.5) = 78.5`),
    transferSocket: v(79, 'D', '= transferCcx: one LLC per socket; unused when ccxPerSocket=1'),
    transferRemote: v(277, 'D', `${BDX}: other socket 117.9/127.5 ns; E5-2695 v4 README 118 ns [S]: 118 x 2.6 = 307, less 19 and 11.5 = 276.5`),
    rmwLocal: v(19, 'R', 'Agner Fog, Haswell LOCK CMPXCHG ~18-19 (not re-checked); i7-3930K (SNB-E) cmpxchg 20.5 cycles/op ' +
      '[S: rygorous/atomic_ops_test results gist, comment by spayne]'),
    ownerWindow: v(1, 'E', 'on: a request waits for the snoop to reach the owner and takes effect at its grant (docs/ARCHITECTURE.md, "The owner window"); 0 is the original serialization, each request taking effect at issue'),
    mfence: v(33, 'R', 'Agner Fog, Haswell MFENCE ~33 (not re-checked); SNB-E add_mfence 46.0 - add 1.9 = 44 [D, same gist]'),
    storeBufferEntries: v(21, 'R', 'Intel Optimization Manual, Haswell: 42 store-buffer entries per core (not re-checked), ' +
      'statically split between 2 threads = 21 per logical CPU'),
    storeIssue: v(1, 'E', 'one store retires into the store buffer per cycle'),
    fillBuffers: v(10, 'R', 'Intel Optimization Manual: 10 L1D fill buffers per core (not re-checked; SO "Does software ' +
      'prefetching allocate a Line Fill Buffer": "Nehalem, Sandy Bridge, Ivy Bridge, Haswell have 10 LFBs"); shared by the 2 threads'),

    x2apic: v(0, 'E', `CPU has x2APIC [S: ${HSX}, CPUID.1:ECX bit 21], but Grantley servers typically boot xAPIC: a 2x E5-2650 v4 ` +
      'dmesg, "x2apic is disabled because BIOS sets x2apic opt out bit ... Switched APIC routing to physical flat" [S: apptainer/singularity#4774]'),
    ipiSendX2apic: v(150, 'E', 'unused (x2apic=0); one WRMSR per target, as skylake-sp-2s (cost-parameters 2.2)'),
    ipiSendXapic: v(500, 'E', 'cost-parameters 2.2: ICR2 + ICR MMIO writes incl. apic_wait_icr_idle; physical flat = once per target; ' +
      'no bare-metal source'),
    ipiDeliveryCcx: v(1250, 'E', 'no bare-metal source; ~0.48 us as skylake-sp-2s/zen3-1s x 2.6 GHz = 1248 ~ 1250'),
    ipiDeliverySocket: v(1250, 'E', '= ipiDeliveryCcx: one LLC per socket; unused when ccxPerSocket=1'),
    ipiDeliveryRemote: v(1540, 'E', 'ipiDeliveryCcx + one QPI crossing ~ the other-socket CAS figure less the CAS (307 - 19 = 288) = 1538 ~ 1540'),
    irqEntryExit: v(1300, 'E', `faultEntryExit 1050 (${LINUS}, Haswell) [S] for the IDT entry + IRET, plus ~250 for the ` +
      'xAPIC EOI write and irq_enter/irq_exit [E]'),
    idleWakeup: v(5200, 'D', 'Linux intel_idle: HASWELL_X -> idle_cpu_hsx -> hsw_cstates, C1 exit_latency 2 us [S] x 2.6 GHz = 5200'),

    hostPreemptsPerS: v(0, 'E', 'off: bare metal unless set; a free parameter (a host that overcommits its pCPUs deschedules vCPUs often)'),
    hostPreemptNs: v(3_000_000, 'E', 'a host CFS slice, order of magnitude (sched_latency_ns 6 ms shared by two runnable vCPUs); docs/reference/beyond-mainline.md 3.4'),
    vmExitEntry: v(1500, 'E', 'no bare-metal source read; the KVM unit test vmexit/ipi (4338 cycles for a whole guest IPI, cost-parameters 2.1) bounds it from above'),
    hostGuestFlush: v(350, 'E', 'as invpcid'),
    pcid: v(1, 'S', `${HSX}: CPUID.1:ECX bit 17 (PCID) and CPUID.7:EBX bit 10 (INVPCID) set; Linux uses PCID from 4.14`),
    pti: v(0, 'E', 'modelling default, as skylake-sp-2s; real Haswell kernels since 2018 enable PTI (Meltdown) [R]'),
    invlpg: v(227, 'D', `${H14}: (33 pages 8534 - 1 page 1276) / 32 = 226.8 ~ 227 per page (least squares 1..33: 249, ` +
      'call-weighted 233); the merged a5102476a24b says "about 100 ns" [S] = 260 at 2.6 GHz. Ivy Bridge proxy'),
    invlpgPti: v(577, 'E', 'invlpg 227 [D] + invpcid 350 [E] = 577; unused when pti=0'),
    invpcid: v(350, 'E', 'no Haswell source; Hansen 2017, Skylake: 550 - 200 = 350 [D] reused'),
    cr3Write: v(96, 'S', 'Ingo Molnar, linux-mm 2015-06-08 <20150608195237.GA15429@gmail.com>: __flush_tlb() 96 cycles (CPU not stated)'),
    pageWalk: v(20, 'S', 'PC Watch 2013 (RMMA, news.mynavi/impress 20130621-s_haswell2/015), Haswell: L2 TLB miss ~20 cycles, ' +
      'page tables in cache'),
    pageWalkers: v(1, 'S', 'Intel Optimization Manual, Skylake client (translated, blog.51cto.com/u_14850/6626242): "two page walks in ' +
      'parallel; earlier generations only one"; Haswell perf DTLB_LOAD_MISSES.WALK_DURATION: "the page miss handler (PMH)"'),
    kernelTlbPages: v(16, 'E', 'as skylake-sp-2s'),
    stlbHit: v(12, 'S', 'PC Watch 2013 (RMMA), Haswell: L1 DTLB miss + L2 TLB hit 12 cycles (Ivy Bridge 11)'),
    syscallEntryExit: v(100, 'E', 'as skylake-sp-2s: no Haswell source found'),
    faultEntryExit: v(1050, 'S', `${LINUS}: on Haswell "a single page fault seems to be about 715 cycles. The iret to return is 330 ` +
      'cycles" = 1050; Xeon E5 v3 2.4 GHz ring crossing via #PF 440 + 270 = 710 cycles [S: lastweek.io/notes/xperf]'),
    pageFault: v(1000, 'E', `${LINUS}: the zero-page case is 1050 = 80.7% of all time, so lookup + PTE + user loop = ` +
      '1050/0.807 - 1050 = 250 [D]; plus page allocation and zeroing 4 KiB, ~750 [E]'),
    l1dTlbEntries: v(64, 'S', `PC Watch 2013: L1 DTLB 4-way, 64 entries for 4 KiB; ${HSX}: CPUID.2 descriptor 0x03 (64, 4-way)`),
    l1dTlbWays: v(4, 'S', 'PC Watch 2013; CPUID.2 descriptor 0x03, Linux intel_tlb_table "4-way set associative"'),
    stlbEntries: v(1024, 'S', `${HSX}: CPUID.2 descriptor 0xc1 = Linux intel_tlb_table "STLB 4 KByte and 2 MByte pages, 8-way", 1024`),
    stlbWays: v(8, 'S', 'CPUID.2 descriptor 0xc1: 8-way; PC Watch 2013 (from Intel manual Table 2-4): 1024 entries, 8-way'),
    flushCeiling: v(33, 'S', `${CEILING}; 33 chosen in Hansen's 2014 patch (see flushTlbFixed)`),
    flushTlbFixed: v(970, 'D', `${H14}: 1 page 1276 [S] - INVLPG 227 - 79 charged op by op (as skylake-sp-2s) = 970; includes ` +
      'the tracepoint timestamp bias Hansen puts at "a couple hundred cycles" (min delta seen 335). Ivy Bridge proxy'),
    invlpgb: v(0, 'R', 'INVLPGB/TLBSYNC are AMD extensions (Zen 3 onward); Haswell has none'),
    invlpgbIssue: v(100, 'E', 'unused (invlpgb=0); as zen3-1s'),
    tlbsync: v(1500, 'E', 'unused (invlpgb=0); as zen3-1s'),
    rar: v(0, 'E', 'no RAR before Sapphire Rapids'),
    rarService: v(200, 'E', 'unused (rar=0); no published timing (white paper 341431 not read): a few hundred cycles of microcode'),
    latrEntries: v(256, 'S', 'sslab-gatech/latr latr.patch (Linux 4.10), asm/tlbflush.h: #define LAZY_TLB_NUM_ENTRIES 256'),
    latrMaxPasses: v(2, 'S', 'sslab-gatech/latr latr.patch, arch/x86/mm/tlb.c: #define TLB_SHOOTDOWN_MAX 2'),
    latrBackgroundNs: v(1e9, 'S', 'sslab-gatech/latr latr.patch, background_tlb_invalidate(): schedule_timeout_interruptible(HZ*1), one second'),

    contextSwitch: v(485, 'E', 'as skylake-sp-2s (calibrated on Lutomirski\'s Skylake ping-pong): no Haswell source found'),
  },
};
