import type { Sim } from '../../lib/engine/ops';
import type { Cpu } from '../../cpu/cpu';
import { PerCpuStruct, type FieldSpec } from './layout';
import type { Mm } from '../mm/mm';
import type { Strategy, StrategyContext } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';
import { flushTlbMultiMask } from './pv-flush';
import {
  FLUSH_TLB_INFO_V4_13, GenStrategy, TlbState, cpumaskAnyBut, getFlushTlbInfo, incMmTlbGen, tlbContextFields,
} from './gen-common';

/**
 * Linux v4.13 (C2 in docs/reference/linux-lazy-tlb.md): Andy Lutomirski's "Rework lazy TLB mode and TLB
 * freshness tracking" (94b1b03b519b) on the tlb_gen machinery, before PCID. A CPU entering lazy
 * mode leaves mm_cpumask but keeps CR3 on the mm, so it gets no flush IPIs at all; when it comes
 * back to the same mm it sets its bit again, reads tlb_gen and reloads CR3 only if it fell
 * behind. Every CR3 write flushes (no PCID; one ctxs[] slot).
 *
 * No special case for freed page tables: lazy CPUs keep CR3 on them and their paging-structure
 * caches go stale, the hazard v4.14's "Flush more aggressively in lazy TLB mode" fixed.
 *
 * The whole of v4.13's arch/x86/mm/tlb.c that the model needs is in this file: switch_mm_irqs_off,
 * enter_lazy_tlb, flush_tlb_mm_range, native_flush_tlb_others, flush_tlb_func_remote and
 * flush_tlb_func_common; `GenStrategy` adds only the shared catch-up tail (`catchUp`).
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

  /** struct flush_tlb_info (v4.13, on the initiator's stack): { mm, start, end, new_tlb_gen }. */
  protected flushInfoFields(): readonly FieldSpec[] {
    return FLUSH_TLB_INFO_V4_13;
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
   * flush_tlb_mm_range() (v4.13): inc_mm_tlb_gen() ("This is also a barrier that synchronizes
   * with switch_mm()"), the range or, above the ceiling, TLB_FLUSH_ALL; flush_tlb_func_local()
   * with interrupts off if this CPU has the mm loaded; then flush_tlb_others() if any other CPU
   * is in mm_cpumask: local first, then remote. (freed_tables comes only in v4.20.)
   */
  *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, _freedTables: boolean): Sim {
    const c = cpu.id;
    yield k.preemptAdd(1); // get_cpu()
    const newTlbGen = yield* incMmTlbGen(k, mm);
    const f = yield* getFlushTlbInfo(this.ctx, this.info, k, c, mm, start, end, newTlbGen, false);
    if (mm.id === (yield k.load(this.ts.loadedMm(c)))) {
      yield k.irqDisable();
      yield* this.flushTlbFuncCommon(k, cpu, f); // flush_tlb_func_local()
      yield k.irqEnable();
    }
    if (yield* cpumaskAnyBut(k, mm.cpumask, c)) yield* this.flushTlbOthers(k, cpu, mm, f);
    yield k.preemptAdd(-1); // put_cpu()
  }

  /** native_flush_tlb_others() (v4.13): smp_call_function_many(mm_cpumask(mm), flush_tlb_func_remote, info, 1). */
  protected *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, f: number): Sim {
    // A pv op: with --pv-flush, kvm_flush_tlb_multi() first drops preempted vCPUs (pv-flush.ts).
    const mask = yield* flushTlbMultiMask(this.ctx.pvFlush, k, cpu.id, mm.cpumask);
    yield* this.ctx.smp.smpCallFunctionMany(k, cpu, mask, this.flushFunc, f, true, 'serial', false);
  }

  /** flush_tlb_func_remote() (v4.13): `if (f->mm && f->mm != loaded_mm) return;`, then flush_tlb_func_common(). */
  protected *flushTlbFuncRemote(cpu: Cpu, f: number): Sim {
    const k = this.ctx.k;
    const mmId = yield k.load(f);
    if (mmId !== (yield k.load(this.ts.loadedMm(cpu.id)))) return;
    yield* this.flushTlbFuncCommon(k, cpu, f);
  }

  /**
   * flush_tlb_func_common() (v4.13), interrupts off: read loaded_mm, mm_tlb_gen (the mm's
   * latest) and local_tlb_gen (ctxs[0].tlb_gen, what this CPU has caught up to); a lazy CPU
   * returns (`lazyCheck`); nothing to do if up to date ("two concurrent flushes"); else catch up.
   */
  protected *flushTlbFuncCommon(k: TlbOps, cpu: Cpu, f: number): Sim {
    const c = cpu.id;
    const loaded = this.mm(yield k.load(this.ts.loadedMm(c)));
    const asid = yield* this.ts.readLoadedMmAsid(k, c); // 0: no ASIDs in v4.13
    const mmTlbGen = yield k.load(loaded.tlbGenAddr);
    const localTlbGen = yield k.load(this.ts.ctxTlbGen(c, asid));
    if (yield* this.lazyCheck(k, cpu, loaded)) return;
    if (localTlbGen === mmTlbGen) return;
    yield* this.catchUp(k, cpu, f, asid, localTlbGen, mmTlbGen);
  }

  /**
   * flush_tlb_func_common()'s lazy test (v4.13): a CPU not in mm_cpumask(loaded_mm) is lazy and
   * does not flush ("We can get here on remote flushes due to races and on local flushes if a
   * kernel thread coincidentally flushes the mm it's lazily still using"); it catches up through
   * tlb_gen when it switches back. True: return without flushing.
   */
  protected *lazyCheck(k: TlbOps, cpu: Cpu, loaded: Mm): Sim<boolean> {
    return !(yield* loaded.cpumask.testBit(k, cpu.id));
  }
}

export const linux413 = (): Strategy => new Linux413();
