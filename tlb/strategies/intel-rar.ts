import type { Sim } from '../../lib/engine/ops';
import type { Counter } from '../../lib/stats/counter';
import type { Cpu } from '../../cpu/cpu';
import type { Mm } from '../mm/mm';
import type { Strategy, StrategyContext } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';
import {
  RAR_INVPCID_ADDR, RAR_INVPCID_ALL_NO_GLOBAL, RAR_INVPCID_PCID, RAR_MAX_PAGES, RAR_PENDING, RAR_SLOTS, RAR_TYPE_INVPCID, Rar,
} from '../hw/rar';
import { TLB_FLUSH_ALL } from './common';
import { loadNewMmCr3 } from './gen-common';
import { Invlpgb } from './invlpgb';
import { isGlobalAsid } from './linux-6.15';

/**
 * Intel Remote Action Request (RAR) as Rik van Riel's RFC v3 series models it (2025-06-05,
 * `20250605163544.3852565-1-riel@surriel.com`: 5/7 "x86/mm: Introduce Remote Action Request",
 * 7/7 "userspace & pageout flushing using Intel RAR"; hardware per Intel white paper 341431,
 * not read: §2 of docs/reference/beyond-mainline.md). It reuses INVLPGB's global ASIDs: an mm
 * seen running on 4+ CPUs gets one PCID everywhere, and its flushes become rar_tlb_flush():
 * smp_call_rar_many() to mm_cpumask minus self (lazy CPUs included: they are flushed by
 * microcode, never IPIed), then the local flush if this CPU is in the mask. A CPU that sets its
 * bit in mm_cpumask at a switch to an mm with a global ASID flushes that PCID ("If the CPU fell
 * out of the cpumask, it can be out of date with RAR"); one already in the mask was kept current.
 * Without RAR (`rar` = 0) or PCID it is linux-6.15.
 *
 * Departures [A]: the ASID-space reset RARs every CPU (self included) with INVPCID
 * ALL_NO_GLOBAL instead of v3's flush_tlb_all() IPIs under a raw spinlock; v3's once-a-second
 * trim IPIs for global-ASID mms are not modelled (they always go by RAR); the local flush is
 * INVPCID of the global PCID, whichever mm is loaded.
 */
export class IntelRar extends Invlpgb {
  override readonly name: string = 'intel-rar';
  override readonly kernel: string = 'Linux 6.15 + Intel RAR RFC v3 (global ASIDs for mms active on 4+ CPUs, RAR to mm_cpumask, microcode flush)';
  protected rar!: Rar;
  /** `rar_in_use` (v3): the slot bitmap, one 64-bit word (two simulated words) in a line of its own. */
  private inUseAddr = 0;
  /** Per CPU, within one switch: this switch set the CPU's bit in mm_cpumask(next) (`new_cpu`). */
  private joined: boolean[] = [];
  protected rarFlushes!: Counter;
  protected rejoinFlushes!: Counter;

  override attach(ctx: StrategyContext): void {
    super.attach(ctx);
    this.broadcast = ctx.params.rar === 1 && ctx.options.pcid;
    this.joined = new Array<boolean>(ctx.nCpus).fill(false);
    this.rarFlushes = ctx.stats.counter('rarFlushes', 'flushes of a global-ASID mm by RAR to mm_cpumask');
    this.rejoinFlushes = ctx.stats.counter('rarRejoinFlushes', 'switches that re-joined a global-ASID mm\'s cpumask and so flushed its PCID');
    if (!this.broadcast) return;
    // Allocated after everything else, and only with RAR: other strategies' layouts are unchanged.
    this.inUseAddr = ctx.memory.allocLines('rar_in_use');
    const m = ctx.sched.m;
    this.rar = new Rar(m.engine, m.cpu, ctx.unit, ctx.memory, ctx.k, { rarService: ctx.params.rarService, idleWakeup: ctx.params.idleWakeup }, ctx.stats.group('rar'));
  }

  /** The mm-change path's cpumask step, noting `new_cpu` for chooseAsid. */
  protected override *setCpumaskOrMb(k: TlbOps, c: number, next: Mm): Sim {
    this.joined[c] = false;
    if (next !== this.ctx.initMm && !(yield* next.cpumask.testBit(k, c))) {
      yield* next.cpumask.setBit(k, c);
      this.joined[c] = true;
    } else {
      yield* this.cpumaskMb(k);
    }
  }

  /** choose_new_asid() with RAR (v3): a global ASID needs a flush when this CPU just re-joined the mask. */
  protected override *chooseAsid(k: TlbOps, c: number, next: Mm, nextTlbGen: number): Sim<{ asid: number; needFlush: boolean }> {
    const r = yield* super.chooseAsid(k, c, next, nextTlbGen);
    const joined = this.joined[c];
    this.joined[c] = false;
    if (!this.broadcast || !isGlobalAsid(r.asid) || !joined) return r;
    this.rejoinFlushes.value++;
    return { asid: r.asid, needFlush: true };
  }

  /** `reload_tlb:` for a global ASID with a flush: CR3 without NOFLUSH; no ctxs[] slot to update. */
  protected override *loadNewMm(k: TlbOps, c: number, next: Mm, asid: number, needFlush: boolean, nextTlbGen: number): Sim {
    if (!needFlush || !isGlobalAsid(asid)) {
      yield* super.loadNewMm(k, c, next, asid, needFlush, nextTlbGen);
      return;
    }
    yield loadNewMmCr3(k, next, asid, true);
    yield k.store(this.ts.loadedMm(c), next.id);
    yield* this.ts.writeLoadedMmAsid(k, c, asid);
  }

  /**
   * broadcast_tlb_flush() = rar_tlb_flush() (v3): smp_call_rar_many(mm_cpumask) for the global
   * PCID, then the local flush if this CPU is in the mask, then finish_asid_transition().
   */
  protected override *broadcastTlbFlush(k: TlbOps, cpu: Cpu, mm: Mm, f: number, freedTables: boolean): Sim {
    const asid = yield* this.mmGlobalAsid(k, mm);
    const start = yield k.load(this.info.field(f, 'start'));
    const end = yield k.load(this.info.field(f, 'end'));
    const targets = (yield* mm.cpumask.loadCpus(k)).filter((t) => t !== cpu.id);
    yield* this.smpCallRarMany(k, targets, asid, start, end);
    if (yield* mm.cpumask.testBit(k, cpu.id)) {
      yield k.irqDisable();
      if (end === TLB_FLUSH_ALL || end - start >= RAR_MAX_PAGES) yield k.invpcidContext(asid);
      else for (let v = start; v < end; v++) yield k.invpcidAddr(asid, v);
      yield k.irqEnable();
    }
    this.rarFlushes.value++;
    yield* this.finishAsidTransition(k, cpu, mm, f, freedTables);
  }

  /**
   * smp_call_rar_many() (v3): take a payload slot, fill the payload, mark the slot PENDING in each
   * target's action vector, weak_wrmsr_fence() (MFENCE: without it the signal can overtake the
 * PENDING stores still in the store buffer, and the target's microcode finds nothing to do), one
 * RAR ICR write per target, then spin on each target's entry until
   * its microcode wrote SUCCESS; free the slot. `subtype` overrides the range (ASID-space reset).
   */
  protected *smpCallRarMany(k: TlbOps, targets: number[], pcid: number, start: number, end: number, subtype = -1): Sim {
    if (targets.length === 0) return;
    let pages = end === TLB_FLUSH_ALL ? RAR_MAX_PAGES : Math.max(end - start, 1);
    if (pages > RAR_MAX_PAGES) pages = RAR_MAX_PAGES;
    const st = subtype >= 0 ? subtype : pages < RAR_MAX_PAGES ? RAR_INVPCID_ADDR : RAR_INVPCID_PCID;
    const slot = yield* this.getPayloadSlot(k);
    const p = this.rar.payloadAddr[slot];
    yield k.store(p, RAR_TYPE_INVPCID | (st << 8) | (pages << 16));
    yield k.store(p + 4, pcid);
    yield k.store(p + 8, end === TLB_FLUSH_ALL ? 0 : start);
    for (const t of targets) yield k.store(this.rar.action(t, slot), RAR_PENDING);
    yield k.mfence(); // weak_wrmsr_fence() before the x2APIC ICR writes: the PENDING stores must be visible first
    for (const t of targets) yield k.rarSend(t);
    yield* this.waitForCompletion(k, targets, slot);
    yield k.lockBtr(this.inUseAddr + 4 * (slot >>> 5), slot & 31); // free_payload_slot(): clear_bit
  }

  /** The initiator's spin: `while (READ_ONCE(per_cpu(rar_action, t)[slot]) == PENDING) cpu_relax()` per target. */
  protected *waitForCompletion(k: TlbOps, targets: number[], slot: number): Sim {
    for (const t of targets) yield k.spinWhileEq(this.rar.action(t, slot), RAR_PENDING);
  }

  /** get_payload_slot() (v3): ffz(rar_in_use), then test_and_set_bit; retry while the bit was taken or none is free. */
  protected *getPayloadSlot(k: TlbOps): Sim<number> {
    for (;;) {
      for (let w = 0; w < RAR_SLOTS / 32; w++) {
        const free = ~(yield k.load(this.inUseAddr + 4 * w)) >>> 0;
        if (free === 0) continue;
        const b = 31 - Math.clz32(free & -free);
        if ((yield k.lockBts(this.inUseAddr + 4 * w, b)) === 0) return w * 32 + b;
      }
      yield k.delay(10); // cpu_relax()
    }
  }

  /** reset_global_asid_space() with RAR [A]: every CPU (self included) drops every non-global entry, by RAR. */
  protected override *resetGlobalAsidSpace(k: TlbOps): Sim {
    const all = Array.from({ length: this.ctx.nCpus }, (_, i) => i);
    yield* this.smpCallRarMany(k, all, 0, 0, TLB_FLUSH_ALL, RAR_INVPCID_ALL_NO_GLOBAL);
    yield* this.resetGlobalAsidBitmaps(k);
  }
}

export const intelRar = (): Strategy => new IntelRar();
