import type { Sim } from '../../lib/engine/ops';
import type { Cpu } from '../../cpu/cpu';
import { PerCpuStruct } from '../layout';
import type { Mm } from '../mm';
import type { Strategy, StrategyContext } from '../strategy';
import type { TlbOps } from '../tlb-ops';
import { GenStrategy, TlbState, tlbContextFields } from './gen-common';

/**
 * Linux v4.13 (C2 in docs/reference/linux-lazy-tlb.md): Andy Lutomirski's "Rework lazy TLB mode and TLB
 * freshness tracking" (94b1b03b519b) on the tlb_gen machinery, before PCID. A CPU entering lazy
 * mode leaves mm_cpumask but keeps CR3 on the mm, so it gets no flush IPIs at all; when it comes
 * back to the same mm it sets its bit again, reads tlb_gen and reloads CR3 only if it fell
 * behind. Every CR3 write flushes (no PCID; one ctxs[] slot).
 *
 * No special case for freed page tables: lazy CPUs keep CR3 on them and their paging-structure
 * caches go stale, the hazard v4.14's "Flush more aggressively in lazy TLB mode" fixed.
 */
export class Linux413 extends GenStrategy {
  readonly name: string = 'linux-4.13';
  readonly kernel: string = 'Linux 4.13 (tlb_gen; lazy CPUs leave mm_cpumask, no PCID)';
  readonly supportsPcid: boolean = false;

  /** v4.13 took leave_mm() out of the idle code ("x86/mm: Stop calling leave_mm() in idle code"):
   *  lazy mode already suppresses every flush IPI, so `idleLeaveMm` changes nothing here. */
  override *idleEnter(): Sim {}

  /** struct tlb_state (v4.13): { loaded_mm, cr4, ctxs[1] }: 32 bytes, one line. */
  protected layout(ctx: StrategyContext): TlbState {
    const s = new PerCpuStruct(ctx.memory, 'cpu_tlbstate', ctx.nCpus, [
      { name: 'loaded_mm', bytes: 8 },
      { name: 'cr4', bytes: 8 },
      ...tlbContextFields(1),
    ]);
    return new TlbState(s, { nrAsids: 1, asids: false, lazy: null });
  }

  /**
   * enter_lazy_tlb() (v4.13, asm/mmu_context.h): drop out of mm_cpumask(mm), which stops flush
   * IPIs; CR3 stays on the mm. `mm` is the borrowed active_mm (init_mm for a CPU that never ran a
   * user task); a kernel thread following a kernel thread finds its bit already clear.
   */
  *enterLazyTlb(k: TlbOps, cpu: Cpu, activeMm: Mm | null): Sim {
    const mm = activeMm ?? this.ctx.initMm;
    if (yield* mm.cpumask.testBit(k, cpu.id)) yield* mm.cpumask.clearBit(k, cpu.id);
  }

  /**
   * switch_mm_irqs_off() (v4.13). Back to the loaded mm: if the bit is still set we weren't lazy;
   * otherwise set it ("Resume remote flushes and then read tlb_gen": the LOCK BTS orders the bit
   * before the read, pairing with the flusher's LOCK XADD before it reads the mask) and reload CR3
   * if ctxs[0].tlb_gen is behind. Another mm: leave prev's mask, join next's, read tlb_gen,
   * record it in ctxs[0], and load CR3 (a full flush).
   */
  *switchMmIrqsOff(k: TlbOps, cpu: Cpu, _prev: Mm | null, next: Mm): Sim {
    const c = cpu.id;
    const ts = this.ts;
    const realPrev = this.mm(yield k.load(ts.loadedMm(c)));
    if (realPrev === next) {
      if (yield* next.cpumask.testBit(k, c)) return; // we weren't lazy
      yield* next.cpumask.setBit(k, c);
      const nextTlbGen = yield k.load(next.tlbGenAddr);
      if ((yield k.load(ts.ctxTlbGen(c, 0))) < nextTlbGen) {
        this.catchUps.value++;
        yield k.store(ts.ctxTlbGen(c, 0), nextTlbGen);
        yield k.writeCr3(next.id, 0, false);
      }
      return;
    }
    if (yield* realPrev.cpumask.testBit(k, c)) yield* realPrev.cpumask.clearBit(k, c); // stop remote flushes for prev
    yield* next.cpumask.setBit(k, c); // start remote flushes and then read tlb_gen
    const nextTlbGen = yield k.load(next.tlbGenAddr);
    const ctxId = yield k.load(next.ctxIdAddr);
    yield k.store(ts.ctxId(c, 0), ctxId);
    yield k.store(ts.ctxTlbGen(c, 0), nextTlbGen);
    yield k.store(ts.loadedMm(c), next.id);
    yield k.writeCr3(next.id, 0, false);
  }

  /**
   * flush_tlb_func_common()'s lazy test (v4.13): a CPU not in mm_cpumask(loaded_mm) is lazy and
   * does not flush ("We can get here on remote flushes due to races and on local flushes if a
   * kernel thread coincidentally flushes the mm it's lazily still using"); it catches up through
   * tlb_gen when it switches back.
   */
  protected override *lazyCheck(k: TlbOps, cpu: Cpu, loaded: Mm): Sim<boolean> {
    return !(yield* loaded.cpumask.testBit(k, cpu.id));
  }

  /** native_flush_tlb_others() (v4.13): smp_call_function_many(mm_cpumask(mm), flush_tlb_func_remote, info, 1). */
  protected *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, f: number): Sim {
    yield* this.ctx.smp.smpCallFunctionMany(k, cpu, mm.cpumask, this.flushFunc, f, true, 'serial', false);
  }
}

export const linux413 = (): Strategy => new Linux413();
