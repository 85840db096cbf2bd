/**
 * The machine-parameter catalogue: one spec per key (unit, allowed range, integer-ness, doc), in
 * the style of gem5's typed Params. Every key has a value in every profile (profiles.ts) with its
 * source; resolve.ts validates overrides against these specs and rejects unknown keys.
 *
 * All latencies are integer core cycles at `clockGhz`, because simulated time is an integer cycle
 * count. Costs in the cost file that are given in ns were converted at the profile clock.
 */

export type ParamUnit = 'cycles' | 'GHz' | 'entries' | 'ways' | 'pages' | 'bool' | 'count' | 'ns';

export interface ParamSpec {
  readonly key: keyof MachineParams;
  readonly unit: ParamUnit;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  readonly doc: string;
}

/** Fully resolved machine parameters: one number per catalogue key (bools are 0/1). The unit,
 *  range and meaning of each field are in PARAM_SPECS below (rendered in docs/PROFILES.md), kept
 *  in one place so they cannot disagree. */
export interface MachineParams {
  // --- core clock and topology
  clockGhz: number;
  sockets: number;
  ccxPerSocket: number;
  coresPerCcx: number;
  threadsPerCore: number;
  socketLinks: number;
  hopCycles: number;
  // --- caches and coherence
  l1Hit: number;
  l2Hit: number;
  llcHit: number;
  memLatency: number;
  memLatencyRemote: number;
  transferSmt: number;
  transferCcx: number;
  transferSocket: number;
  transferRemote: number;
  rmwLocal: number;
  ownerWindow: number;
  mfence: number;
  storeBufferEntries: number;
  storeIssue: number;
  fillBuffers: number;
  // --- APIC and IPIs
  x2apic: number;
  ipiSendX2apic: number;
  ipiSendXapic: number;
  ipiDeliveryCcx: number;
  ipiDeliverySocket: number;
  ipiDeliveryRemote: number;
  irqEntryExit: number;
  idleWakeup: number;
  // --- virtualization: the host under a KVM guest (cpu/host.ts)
  hostPreemptsPerS: number;
  hostPreemptNs: number;
  vmExitEntry: number;
  hostGuestFlush: number;
  // --- TLB
  pcid: number;
  pti: number;
  invlpg: number;
  invlpgPti: number;
  invpcid: number;
  cr3Write: number;
  pageWalk: number;
  pageWalkers: number;
  kernelTlbPages: number;
  stlbHit: number;
  syscallEntryExit: number;
  faultEntryExit: number;
  pageFault: number;
  l1dTlbEntries: number;
  l1dTlbWays: number;
  stlbEntries: number;
  stlbWays: number;
  flushCeiling: number;
  flushTlbFixed: number;
  invlpgb: number;
  invlpgbIssue: number;
  tlbsync: number;
  rar: number;
  rarService: number;
  latrEntries: number;
  latrMaxPasses: number;
  latrBackgroundNs: number;
  // --- scheduler
  contextSwitch: number;
}

export type ParamKey = keyof MachineParams;

const MAX_CYCLES = 100_000;

type Spec = Omit<ParamSpec, 'key'>;
const cycles = (doc: string, max = MAX_CYCLES): Spec => ({ unit: 'cycles', min: 0, max, integer: true, doc });
const count = (doc: string, min: number, max: number): Spec => ({ unit: 'count', min, max, integer: true, doc });
const bool = (doc: string): Spec => ({ unit: 'bool', min: 0, max: 1, integer: true, doc });
const sized = (unit: 'entries' | 'ways', doc: string): Spec => ({ unit, min: 1, max: 65_536, integer: true, doc });

// Insertion order here is the catalogue order: resolved configs, docs and JSON results use it.
const SPECS: { [K in ParamKey]: Spec } = {
  clockGhz: {
    unit: 'GHz', min: 0.1, max: 10, integer: false,
    doc: 'Core clock; converts ns to cycles and cycles to wall time in reports.',
  },
  sockets: count('Sockets (NUMA packages).', 1, 64),
  ccxPerSocket: count('CCXs (cores sharing one LLC) per socket; 1 for a monolithic LLC (Skylake-SP).', 1, 64),
  coresPerCcx: count('Physical cores per CCX.', 1, 256),
  threadsPerCore: count('Hardware threads per core: 1 = SMT off, 2 = SMT on. Total CPUs at most 4096.', 1, 8),
  socketLinks: count(
    'Interconnect links (QPI/UPI/xGMI) per socket. Sockets sit on a ring and link the nearest first (i +- 1, then +- 2, ...), ' +
      'an odd link to the opposite socket: 2 is a ring, 3 on 8 sockets the glueless 8-socket Xeon, sockets - 1 a full mesh.',
    1, 64,
  ),
  hopCycles: cycles('Each interconnect hop beyond the first: added to a line transfer, an invalidation and an IPI delivery between two sockets that many hops apart.'),

  l1Hit: cycles('Load-to-use latency of an L1D hit.'),
  l2Hit: cycles('Load-to-use latency of an L2 hit.'),
  llcHit: cycles("Load-to-use latency of a hit in the own CCX's LLC, line not owned by another core."),
  memLatency: cycles('Line fetched from local DRAM (no other cache holds it).'),
  memLatencyRemote: cycles("Line fetched from another socket's DRAM; unused when sockets = 1."),
  transferSmt: cycles(
    'Line held Modified by the SMT sibling: the transfer alone. CAS ping-pong figures (round trip / 2) include one CAS, ' +
      'so the transfer is the figure less rmwLocal; a remote locked RMW is charged transfer + rmwLocal. Between cores (not ' +
      'siblings, which share the L1D) the figure also holds the wait for the owner\'s failed CAS in progress, half of one ' +
      '((l1Hit + rmwLocal) / 2) on average, so transferCcx and the others are the figure less that too.',
  ),
  transferCcx: cycles('Line held Modified by another core sharing the LLC/CCX: the transfer alone (see transferSmt).'),
  transferSocket: cycles('Line held Modified by a core in another CCX of the same socket: the transfer alone.'),
  transferRemote: cycles('Line held Modified by a core on another socket: the transfer alone.'),
  rmwLocal: cycles('LOCK CMPXCHG / XCHG / LOCK ADD on a line already owned (M/E) in the own L1.'),
  ownerWindow: bool(
    '1: a request to a line another CPU\'s transaction holds takes effect when the line is granted to it, in arrival order, and ' +
      'the CPU owning it (E or M) keeps it for half the transfer to the next requester (the forwarded snoop\'s travel), so ' +
      'its own accesses meanwhile hit (mem/owner-window.ts); SMT siblings have no window. 0: requests take effect at issue, ' +
      'and the line passes to the next requester when a transaction completes (docs/ARCHITECTURE.md, "The owner window").',
  ),
  mfence: cycles('MFENCE with an empty store buffer (draining a non-empty buffer is charged separately).'),
  storeBufferEntries: {
    unit: 'entries', min: 1, max: 1024, integer: true,
    doc: 'Store-buffer entries per logical CPU (x86-TSO); a full buffer stalls the next store.',
  },
  storeIssue: cycles('Cycles for a store to retire into the store buffer.'),
  fillBuffers: {
    unit: 'entries', min: 1, max: 256, integer: true,
    doc: 'L1D fill buffers: the misses of user code (TLB misses and data) that can be outstanding at once. Independent ' +
      'user accesses (Scheduler.touchRange) overlap up to this window; kernel code stays serial.',
  },

  x2apic: bool(
    '1: x2APIC (IPI send is one WRMSR, ipiSendX2apic); 0: xAPIC (MMIO ICR write + busy wait, ipiSendXapic).',
  ),
  ipiSendX2apic: cycles('Sender cost of one ICR write in x2APIC mode (one WRMSR), charged once per target (physical mode).'),
  ipiSendXapic: cycles('Sender cost of one ICR write in xAPIC mode, including the apic_wait_icr_idle busy wait; once per target.'),
  ipiDeliveryCcx: cycles(
    'IPI send -> arrival at a target in the same CCX (or the same core), before interrupt entry.',
  ),
  ipiDeliverySocket: cycles('IPI send -> arrival at a target in another CCX of the same socket.'),
  ipiDeliveryRemote: cycles('IPI send -> arrival at a target on another socket.'),
  irqEntryExit: cycles('Interrupt entry, EOI and exit (IRET) on the target CPU, excluding the handler body, which is charged op by op.'),
  idleWakeup: cycles(
    'Extra latency when an interrupt wakes an idle CPU (C1 exit), added to the delivery time.', 10_000_000,
  ),

  hostPreemptsPerS: count('Host deschedules per vCPU per simulated second (exponential gaps): each freezes the vCPU for hostPreemptNs; 0: no host model (bare metal).', 0, 1_000_000),
  hostPreemptNs: { unit: 'ns', min: 1000, max: 1e9, integer: true, doc: 'How long the host keeps a descheduled vCPU off its pCPU (unused when hostPreemptsPerS = 0).' },
  vmExitEntry: cycles('A VM exit, the host\'s scheduling and the VM entry, added to each deschedule\'s frozen time.'),
  hostGuestFlush: cycles('kvm_vcpu_flush_tlb_guest(): the host flushing all of a vCPU\'s guest translations before VM entry (KVM_VCPU_FLUSH_TLB); the refill is charged by the walks after it.'),

  pcid: bool(
    '1: CR3 writes can keep other address spaces\' TLB entries tagged by PCID; 0: every CR3 write flushes non-global entries.',
  ),
  pti: bool('1: kernel page-table isolation; a single-page user flush costs invlpgPti instead of invlpg.'),
  invlpg: cycles('INVLPG of one page, as seen in the flush handler.'),
  invlpgPti: cycles('Flush of one page with PTI: INVLPG + INVPCID for the user PCID.'),
  invpcid: cycles('One INVPCID (single address or single context).'),
  cr3Write: cycles(
    'Direct cost of a CR3 write (full flush of non-global entries without PCID); refills are charged separately.',
  ),
  pageWalk: cycles('Page walk after an STLB miss, with the page-table lines hot in cache (lines that must be fetched cost their transfer on top).'),
  pageWalkers: count('Page walks the core can run at once (page-miss handlers); bounds how many overlap in user code.', 1, 64),
  kernelTlbPages: {
    unit: 'pages', min: 0, max: 65_536, integer: true,
    doc: "4 KiB kernel translations (global) one pass through the scheduler touches: they share the STLB with the user's entries, so even with PCID some user entries are pushed out.",
  },
  stlbHit: cycles('L1 DTLB miss that hits in the second-level (shared) TLB.'),
  syscallEntryExit: cycles('SYSCALL entry and SYSRET exit of one system call, without the call\'s own work.'),
  faultEntryExit: cycles('Page-fault exception entry and IRET, without the handler\'s work.'),
  pageFault: cycles('The fault handler\'s work for an anonymous fault or COW break (allocation, zeroing or copying the page), apart from the entry/exit, the PTE store and any flush.'),
  l1dTlbEntries: sized('entries', 'L1 DTLB entries for 4 KiB pages.'),
  l1dTlbWays: sized('ways', 'L1 DTLB associativity (= entries when fully associative); must divide l1dTlbEntries.'),
  stlbEntries: sized('entries', 'Second-level TLB entries for 4 KiB pages.'),
  stlbWays: sized('ways', 'Second-level TLB associativity; must divide stlbEntries.'),
  flushCeiling: {
    unit: 'pages', min: 0, max: 1 << 20, integer: true,
    doc: 'Linux tlb_single_page_flush_ceiling: ranges above this many pages get a full flush.',
  },
  flushTlbFixed: cycles('The fixed part of one flush_tlb_mm_range() call that the model does not charge op by op: the function and its callees\' code, flush_tlb_info setup, preempt and irq handling.'),
  invlpgb: bool('1: hardware has AMD INVLPGB/TLBSYNC broadcast invalidation.'),
  invlpgbIssue: cycles('Issue cost of one INVLPGB (non-blocking); unused when invlpgb = 0.'),
  tlbsync: cycles(
    'TLBSYNC: wait until all earlier INVLPGBs completed on every CPU; unused when invlpgb = 0.', 1_000_000,
  ),
  rar: bool('1: hardware has Intel Remote Action Request (RAR): targeted TLB invalidation serviced by microcode, no kernel handler.'),
  rarService: cycles('One RAR action on a target: the microcode reads the payload and invalidates, then writes completion; unused when rar = 0.'),
  latrEntries: count('latr: saved flush states in each CPU\'s ring (LAZY_TLB_NUM_ENTRIES); a munmap that finds its ring full sends IPIs instead.', 2, 65_536),
  latrMaxPasses: count('latr: passes of the background thread an unapplied state survives before it is flushed with IPIs (TLB_SHOOTDOWN_MAX).', 1, 1000),
  latrBackgroundNs: { unit: 'ns', min: 1000, max: 1e11, integer: true, doc: 'latr: period of the background thread that ages unapplied states (schedule_timeout_interruptible(HZ)).' },

  contextSwitch: cycles('The part of a context switch the model does not charge operation by operation: switch_to (registers, stack, FPU state) and the scheduler\'s own bookkeeping. Locks, flags and the mm switch are charged by the memory model.'),
};

/** The catalogue: spec per key (frozen). */
export const PARAM_SPECS: Readonly<Record<ParamKey, ParamSpec>> = Object.freeze(
  Object.fromEntries(
    Object.entries(SPECS).map(([key, s]) => [key, Object.freeze({ key, ...s })]),
  ) as unknown as Record<ParamKey, ParamSpec>,
);

/** All keys in catalogue order. */
export const PARAM_KEYS: readonly ParamKey[] = Object.freeze(Object.keys(SPECS) as ParamKey[]);

/** Keys of the topology fields, which are machine parameters too (`--param threadsPerCore=2`). */
export const TOPOLOGY_KEYS = ['sockets', 'ccxPerSocket', 'coresPerCcx', 'threadsPerCore', 'socketLinks'] as const;

export function isParamKey(key: string): key is ParamKey {
  return Object.prototype.hasOwnProperty.call(SPECS, key);
}

/** "an integer number of cycles in [0, 100000]": what a valid value of this parameter looks like. */
export function describeRange(spec: ParamSpec): string {
  const range = `[${spec.min}, ${spec.max}]`;
  if (spec.unit === 'bool') return `a bool (0/1 or true/false) in ${range}`;
  if (spec.unit === 'count') return `an integer count in ${range}`;
  return `${spec.integer ? 'an integer number of' : 'a number of'} ${spec.unit} in ${range}`;
}
