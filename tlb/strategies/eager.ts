import type { Sim } from '../../lib/engine/ops';
import type { Cpu } from '../../cpu/cpu';
import { INIT_MM_ID, type Mm } from '../mm/mm';
import type { Strategy } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';
import { Linux48 } from './linux-4.8';

/**
 * No lazy TLB mode: Linux v4.8's code with lazy mode removed. A switch to a kernel thread or the
 * idle task leaves the mm at once (v4.8's leave_mm(): clear the CPU's bit in the old mm's
 * mm_cpumask, CR3 to swapper_pg_dir), so no CPU is ever lazy, flushes IPI exactly the CPUs
 * running the mm, and every return from a kernel thread is a full switch (CR3 write, cpumask set).
 *
 * This is how v4.14–4.19 behaved on PCID machines, where the static key `tlb_use_lazy_mode` /
 * `tlb_defer_switch_to_init_mm()` made enter_lazy_tlb() an immediate switch_mm(NULL, &init_mm)
 * (docs/reference/linux-lazy-tlb.md §4 C4). Unlike those kernels it does not set and clear
 * init_mm's own mm_cpumask bit (v4.8's leave_mm never touched it), so it leaves out C4's two
 * extra locked RMWs per round trip on the contended init_mm mask line; and it has no PCID.
 */
export class Eager extends Linux48 {
  override readonly name: string = 'eager';
  override readonly kernel: string = 'Linux v4.8 with lazy TLB mode removed (as v4.14–4.19 on PCID machines: enter_lazy_tlb switches to init_mm)';

  /**
   * enter_lazy_tlb() without laziness: v4.8's leave_mm() at once. cpu_tlbstate.active_mm becomes
   * init_mm, so the next switch_mm_irqs_off() sees a different mm and does a full switch; the
   * state stays OK (nothing is lazy). Interrupts are off (schedule()), so a flush IPI that was
   * already aimed at this CPU runs after the switch and ignores the flush (active_mm != flush_mm).
   */
  override *enterLazyTlb(k: TlbOps, cpu: Cpu): Sim {
    const c = cpu.id;
    const activeAddr = this.tlbstate.addr(c, 'active_mm');
    const active = this.ctx.mmById(yield k.load(activeAddr));
    if (active.id === INIT_MM_ID) return;
    yield k.store(activeAddr, INIT_MM_ID);
    // leave_mm(): stop flush IPIs for the old mm, then load swapper_pg_dir (a full flush).
    yield* active.cpumask.clearBit(k, c);
    yield k.writeCr3(INIT_MM_ID, 0, false);
  }

  /**
   * switch_mm_irqs_off() (v4.8) with `prev` taken from what CR3 holds, `cpu_tlbstate.active_mm`
   * (as v4.14's `real_prev = loaded_mm`), not from the scheduler's borrowed active_mm: after a
   * kernel thread the CPU is on init_mm, so returning to the same mm is a full switch.
   */
  override *switchMmIrqsOff(k: TlbOps, cpu: Cpu, _prev: Mm | null, next: Mm): Sim {
    const realPrev = this.ctx.mmById(yield k.load(this.tlbstate.addr(cpu.id, 'active_mm')));
    yield* super.switchMmIrqsOff(k, cpu, realPrev, next);
  }
}

export const eager = (): Strategy => new Eager();
