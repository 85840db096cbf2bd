import type { Sim } from '../../lib/engine/ops';
import { Cpumask } from '../../cpu/cpumask';
import { KVM_VCPU_FLUSH_TLB, KVM_VCPU_PREEMPTED, type VcpuHost } from '../../cpu/host';
import type { Counter } from '../../lib/stats/counter';
import type { StatGroup } from '../../lib/stats/group';
import type { SimMemory } from '../../mem/memory';
import type { TlbOps } from '../hw/tlb-ops';

/**
 * KVM's paravirtual remote flush, the guest's side (`--pv-flush`): pv_ops.mmu.flush_tlb_multi
 * is kvm_flush_tlb_multi() (arch/x86/kernel/kvm.c; kvm_flush_tlb_others from v4.16 to v5.12,
 * 858a43aae236), which every strategy calls where the kernel calls flush_tlb_multi() or
 * flush_tlb_others():
 *
 *     flushmask = this_cpu_cpumask_var_ptr(__pv_cpu_mask);
 *     cpumask_copy(flushmask, cpumask);
 *     for_each_cpu(cpu, flushmask) {
 *         src = &per_cpu(steal_time, cpu);
 *         state = READ_ONCE(src->preempted);
 *         if ((state & KVM_VCPU_PREEMPTED)) {
 *             if (try_cmpxchg(&src->preempted, &state, state | KVM_VCPU_FLUSH_TLB))
 *                 __cpumask_clear_cpu(cpu, flushmask);
 *         }
 *     }
 *     native_flush_tlb_multi(flushmask, info);
 *
 * A preempted vCPU is dropped from the IPIs; the host flushes its TLB before it next enters the
 * guest (cpu/host.ts). The CMPXCHG and the host's XCHG are locked RMWs on one line, so either
 * the flag is seen at VM entry or the CMPXCHG fails and the vCPU gets its IPI. Strategies older
 * than v4.16 get it as a what-if.
 */
export class KvmPvFlush {
  private readonly host: VcpuHost;
  /** Per CPU: __pv_cpu_mask, a private mask on its own lines. */
  private readonly masks: Cpumask[];
  private readonly dropped: Counter;
  private readonly cmpxchgFailed: Counter;

  constructor(memory: SimMemory, host: VcpuHost, nCpus: number, stats: StatGroup) {
    this.host = host;
    this.masks = [];
    for (let c = 0; c < nCpus; c++) this.masks.push(new Cpumask(memory, `__pv_cpu_mask[${c}]`, nCpus));
    this.dropped = stats.counter('dropped', 'flush targets dropped from the IPI mask because their vCPU was preempted');
    this.cmpxchgFailed = stats.counter('cmpxchgFailed', 'preempted targets whose CMPXCHG failed (the host entered them meanwhile): IPIed');
  }

  /** kvm_flush_tlb_multi()'s filter, run by `cpu`: returns the mask to pass to native_flush_tlb_multi(). */
  *reduce(k: TlbOps, cpu: number, cpumask: Cpumask): Sim<Cpumask> {
    const flushmask = this.masks[cpu];
    // cpumask_copy(): the shared mask's words, read, then written into the private mask.
    for (let w = 0; w < cpumask.nWords; w++) {
      const bits = yield k.load(cpumask.addr + 4 * w);
      yield k.store(flushmask.addr + 4 * w, bits);
    }
    for (const t of yield* flushmask.loadCpus(k)) {
      const st = this.host.stealTime(t);
      const state = yield k.load(st); // READ_ONCE(src->preempted)
      if ((state & KVM_VCPU_PREEMPTED) === 0) continue;
      if ((yield k.cmpxchg(st, state, state | KVM_VCPU_FLUSH_TLB)) !== state) {
        this.cmpxchgFailed.value++;
        continue;
      }
      // __cpumask_clear_cpu(): a plain read-modify-write of the private mask.
      const a = flushmask.wordAddr(t);
      yield k.store(a, ((yield k.load(a)) & ~(1 << Cpumask.bit(t))) >>> 0);
      this.dropped.value++;
    }
    return flushmask;
  }
}

/**
 * pv_ops.mmu.flush_tlb_multi (flush_tlb_others before v5.13): the mask a strategy's remote flush
 * goes to. With `--pv-flush` (`pv` given), kvm_flush_tlb_multi()'s filter; natively the mask as is.
 */
export function* flushTlbMultiMask(pv: KvmPvFlush | null, k: TlbOps, cpu: number, mask: Cpumask): Sim<Cpumask> {
  return pv === null ? mask : yield* pv.reduce(k, cpu, mask);
}
