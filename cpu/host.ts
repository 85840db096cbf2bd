import type { Engine } from '../lib/engine/engine';
import type { Sim } from '../lib/engine/ops';
import { ProbePoint } from '../lib/probe';
import type { Rng, RngStreams } from '../lib/rng';
import type { Counter } from '../lib/stats/counter';
import type { StatGroup } from '../lib/stats/group';
import type { SimMemory } from '../mem/memory';
import type { CpuSystem } from './cpu-system';
import type { KernelOps } from './kernel-ops';

/** `struct kvm_steal_time.preempted` bits (arch/x86/include/uapi/asm/kvm_para.h). */
export const KVM_VCPU_PREEMPTED = 1 << 0;
export const KVM_VCPU_FLUSH_TLB = 1 << 1;

export interface HostParams {
  /** Clock, to turn the rate and the duration into cycles. */
  clockGhz: number;
  /** Host deschedules per vCPU per simulated second (exponential gaps); 0: no host model. */
  hostPreemptsPerS: number;
  /** How long the host keeps a descheduled vCPU off its pCPU (the frozen time), in ns. */
  hostPreemptNs: number;
  /** A VM exit, the host's scheduling and the VM entry, charged to the frozen time, in cycles. */
  vmExitEntry: number;
  /** kvm_vcpu_flush_tlb_guest(): the host flushing all of a vCPU's guest translations, in cycles. */
  hostGuestFlush: number;
}

/**
 * The host under a KVM guest: each CPU of the machine is a vCPU, which the host deschedules now
 * and then (a renewal process per vCPU, from the stream `host.cpuN`). A deschedule is a VM exit
 * at the guest's next instruction boundary, whatever the guest's IF: no guest instruction runs
 * until VM entry, interrupts sent meanwhile are posted and taken after it. The host's side of
 * the paravirtual remote flush runs on the vCPU's own pCPU, against the guest's `steal_time`
 * record in simulated memory (arch/x86/kvm/x86.c):
 *
 *     kvm_arch_vcpu_put():  kvm_steal_time_set_preempted(): st->preempted = KVM_VCPU_PREEMPTED
 *     vcpu_enter_guest():   record_steal_time(): st_preempted = xchg(&st->preempted, 0);
 *                           if (st_preempted & KVM_VCPU_FLUSH_TLB) kvm_vcpu_flush_tlb_guest(vcpu);
 *
 * A vCPU blocked in HLT is not preempted (kvm_sched_out() sets vcpu->preempted only when it is
 * still runnable), so it is left alone. The model has no pCPU of its own: each vCPU keeps its
 * caches and TLBs, and the host's cache pollution is not modelled.
 */
export class VcpuHost {
  readonly name = 'host';
  /** The guest translations of a vCPU must go before VM entry (KVM_VCPU_FLUSH_TLB was set): the TLB layer attaches the flush. */
  readonly guestFlush: ProbePoint<number>;
  /** A vCPU was frozen (`from`, `to` in cycles), told at its VM entry, before it runs a guest instruction. */
  readonly stolen: ProbePoint<number, number, number>;
  protected readonly engine: Engine;
  protected readonly params: HostParams;
  /** Per vCPU: the address of its `steal_time.preempted` (a 64-byte record of its own, __aligned(64)). */
  private readonly stealTimeAddr: number[];
  /** Per vCPU: the intervals it was frozen, [from, to, from, to, ...]. */
  private readonly frozenSpans: number[][];
  /** Per vCPU: when its current freeze began, or -1 while it runs. */
  private readonly frozenSince: Float64Array;
  private readonly preemptions: Counter;
  private readonly halted: Counter;
  private readonly stolenCycles: Counter;
  private readonly guestFlushes: Counter;

  constructor(engine: Engine, cpu: CpuSystem, memory: SimMemory, rng: RngStreams, params: HostParams, stats: StatGroup) {
    this.engine = engine;
    this.params = params;
    this.guestFlush = new ProbePoint('host.guestFlush');
    this.stolen = new ProbePoint('host.stolen');
    const n = cpu.cpus.length;
    this.stealTimeAddr = [];
    this.frozenSpans = [];
    this.frozenSince = new Float64Array(n).fill(-1);
    for (let c = 0; c < n; c++) {
      this.stealTimeAddr.push(memory.allocLines(`steal_time[${c}]`) + 16); // after u64 steal, u32 version, u32 flags
      this.frozenSpans.push([]);
    }
    this.preemptions = stats.counter('preemptions', 'vCPUs descheduled by the host while runnable');
    this.halted = stats.counter('haltedAtExit', 'host deschedules that found the vCPU halted (not preempted, left alone)');
    this.stolenCycles = stats.counter('stolenCycles', 'cycles vCPUs spent descheduled (steal time), counted whole when the vCPU enters again');
    this.guestFlushes = stats.counter('guestFlushes', 'VM entries that flushed the guest TLB for KVM_VCPU_FLUSH_TLB');
    const k = engine.ops as KernelOps;
    for (let c = 0; c < n; c++) engine.spawn(`cpu${c}/host`, c, this.hostContext(k, c, rng.stream(`host.cpu${c}`)), engine.now, true);
  }

  /** The address of vCPU `cpu`'s `steal_time.preempted` byte (a word here). */
  stealTime(cpu: number): number {
    return this.stealTimeAddr[cpu];
  }

  /** Cycles `cpu` spent frozen within [from, to), its current freeze included. */
  stolenIn(cpu: number, from: number, to: number): number {
    const s = this.frozenSpans[cpu];
    const since = this.frozenSince[cpu];
    let sum = since >= 0 && to > Math.max(since, from) ? to - Math.max(since, from) : 0;
    for (let i = 0; i < s.length; i += 2) {
      const a = s[i] > from ? s[i] : from;
      const b = s[i + 1] < to ? s[i + 1] : to;
      if (b > a) sum += b - a;
    }
    return sum;
  }

  /**
   * The part of a wait by a context on `cpu` within [from, to) that host preemption explains: the
   * time `cpu` itself was frozen, plus the most any one other vCPU was (the one it waits on: a lock
   * holder, a CSD's target). Steal-time-aware lockup checks discount it (tlb/check/liveness.ts).
   */
  excusedIn(cpu: number, from: number, to: number): number {
    let most = 0;
    for (let c = 0; c < this.frozenSpans.length; c++) if (c !== cpu) most = Math.max(most, this.stolenIn(c, from, to));
    return this.stolenIn(cpu, from, to) + most;
  }

  /** One vCPU's host side: wait, deschedule it, keep it off, then enter the guest again. */
  private *hostContext(k: KernelOps, c: number, rng: Rng): Sim {
    const p = this.params;
    const meanGap = (p.clockGhz * 1e9) / p.hostPreemptsPerS;
    const off = Math.max(1, Math.round(p.hostPreemptNs * p.clockGhz));
    for (;;) {
      yield k.delay(Math.max(1, Math.round(rng.exponential(meanGap))));
      if ((yield k.vmExit()) === 0) {
        this.halted.value++;
        continue;
      }
      const from = this.engine.now;
      this.frozenSince[c] = from;
      this.preemptions.value++;
      yield k.store(this.stealTimeAddr[c], KVM_VCPU_PREEMPTED); // kvm_steal_time_set_preempted()
      yield k.delay(off);
      const old = yield* this.recordStealTime(k, c);
      if ((old & KVM_VCPU_FLUSH_TLB) !== 0) {
        this.guestFlushes.value++;
        this.guestFlush.notify(c); // kvm_vcpu_flush_tlb_guest()
        yield k.delay(p.hostGuestFlush);
      }
      yield k.delay(p.vmExitEntry);
      const to = this.engine.now;
      this.frozenSpans[c].push(from, to);
      this.frozenSince[c] = -1;
      this.stolenCycles.value += to - from;
      this.stolen.notify(c, from, to);
      yield k.vmEnter();
    }
  }

  /**
   * record_steal_time() since the CVE-2019-3016 fix: one XCHG takes the flags and clears them, so
   * a guest's CMPXCHG that sets KVM_VCPU_FLUSH_TLB is either seen here or fails. Returns the old
   * `preempted` value.
   */
  protected *recordStealTime(k: KernelOps, c: number): Sim<number> {
    return yield k.xchg(this.stealTimeAddr[c], 0);
  }
}
