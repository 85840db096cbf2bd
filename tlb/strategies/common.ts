import type { Sim } from '../../lib/engine/ops';
import type { Cpu } from '../../cpu/cpu';
import type { StrategyContext } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';

/** TLB_FLUSH_ALL: `end` of a flush that covers the whole address space. */
export const TLB_FLUSH_ALL = -1;

/**
 * The local part of a flush as every kernel version does it: INVLPG per page for a range up to
 * the ceiling (`tlb_single_page_flush_ceiling`), otherwise a full flush of the current PCID by
 * reloading CR3 (`local_flush_tlb()` / `flush_tlb_local()`).
 */
export function* flushTlbLocalRange(ctx: StrategyContext, k: TlbOps, cpu: Cpu, start: number, end: number): Sim {
  if (end === TLB_FLUSH_ALL || end - start > ctx.options.flushCeiling) {
    yield* flushTlbLocal(ctx, k, cpu);
    return;
  }
  for (let vpn = start; vpn < end; vpn++) yield k.invlpg(vpn);
}

/** local_flush_tlb(): rewrite CR3 with itself, which flushes the current PCID (or everything without PCID). */
export function* flushTlbLocal(ctx: StrategyContext, k: TlbOps, cpu: Cpu): Sim {
  yield k.writeCr3(ctx.unit.cr3Mm[cpu.id], ctx.unit.cr3Asid[cpu.id], false);
}

/** The range a remote flush must cover: the initiator turns a range above the ceiling into TLB_FLUSH_ALL. */
export function flushEnd(ctx: StrategyContext, start: number, end: number): number {
  return end - start > ctx.options.flushCeiling ? TLB_FLUSH_ALL : end;
}
