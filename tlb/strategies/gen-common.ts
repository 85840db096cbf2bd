import type { Sim } from '../../lib/engine/ops';
import type { Counter } from '../../lib/stats/counter';
import type { SimMemory } from '../../mem/memory';
import type { Cpu } from '../../cpu/cpu';
import type { Cpumask } from '../../cpu/cpumask';
import type { Task } from '../../cpu/task';
import { PerCpuStruct, type FieldSpec } from './layout';
import type { Mm } from '../mm/mm';
import type { Strategy, StrategyContext } from './strategy';
import type { TlbOps } from '../hw/tlb-ops';
import { TLB_FLUSH_ALL, flushEnd, flushTlbLocal } from './common';

/**
 * The tlb_gen / PCID machinery of x86 Linux since v4.13 (Andy Lutomirski's rework), shared by
 * every strategy from linux-4.13 on. Only what reads the same in all of those kernels lives here;
 * each version's enter_lazy_tlb, switch_mm_irqs_off, flush_tlb_mm_range, flush_tlb_others /
 * flush_tlb_multi and flush IPI handler are written out in its own file, beside its C:
 * - `TlbState`: `cpu_tlbstate` accessors (loaded_mm, loaded_mm_asid/next_asid, ctxs[], is_lazy
 *   wherever the version keeps it); each version declares its own field list, so fields share
 *   lines exactly as in that version;
 * - `FlushTlbInfo` and its layouts by version: `struct flush_tlb_info`, which the handlers read;
 * - `incMmTlbGen`, `getFlushTlbInfo`, `cpumaskAnyBut`, `chooseNewAsid`, `loadNewMmCr3`: the
 *   kernel helpers;
 * - `GenStrategy`: a thin base with no switch or flush path of its own: `attach` (the version's
 *   layout, boot, the IPI function, the stats) and the steps that read the same in every version
 *   (`loadNewMm`, the reload tail of switch_mm_irqs_off; `catchUp`, the tail of the flush
 *   handler; `switchToInitMm`; `idleEnter`). A version calls them; no version calls another's.
 */

/** TLB_NR_DYN_ASIDS (v4.14+): "6 because 6 should be plenty and struct tlb_state will fit in two cache lines". */
export const TLB_NR_DYN_ASIDS = 6;
/** LOADED_MM_SWITCHING (v4.19+): loaded_mm while CR3 changes. The kernel's is (struct mm_struct *)1; mm ids start at 0 here. */
export const LOADED_MM_SWITCHING = -1;
/** ctx_id of an empty ctxs[] slot. The kernel writes 0 (real ids start at 1); init_mm's ctx_id is 0 here. */
export const NO_CTX_ID = -1;

/** `struct tlb_context ctxs[n]` = { u64 ctx_id; u64 tlb_gen; } per slot, as fields `ctxs[i].ctx_id`, `ctxs[i].tlb_gen`. */
export function tlbContextFields(n: number): FieldSpec[] {
  const out: FieldSpec[] = [];
  for (let i = 0; i < n; i++) out.push({ name: `ctxs[${i}].ctx_id`, bytes: 8 }, { name: `ctxs[${i}].tlb_gen`, bytes: 8 });
  return out;
}

export interface TlbStateOptions {
  /** ctxs[] slots: 1 in v4.13, TLB_NR_DYN_ASIDS from v4.14. */
  nrAsids: number;
  /** The struct has `u16 loaded_mm_asid; u16 next_asid;` (v4.14+); without them the ASID is 0. */
  asids: boolean;
  /** The struct with the `is_lazy` field: cpu_tlbstate (v4.14–5.12), cpu_tlbstate_shared (5.13+), none (v4.13). */
  lazy: PerCpuStruct | null;
}

/**
 * `cpu_tlbstate` of a tlb_gen kernel. Addresses come from the version's own `PerCpuStruct`.
 *
 * `u16 loaded_mm_asid; u16 next_asid;` are adjacent halves of one 4-byte word, and simulated
 * memory is word-granular, so the word holds `loaded_mm_asid + 65536 * next_asid` (little endian)
 * and a u16 store is modelled as a load and a store of the word: both halves are private to the
 * CPU, so this costs one L1 hit and no coherence traffic.
 */
export class TlbState {
  readonly s: PerCpuStruct;
  readonly nrAsids: number;
  readonly hasAsids: boolean;
  private readonly lazy: PerCpuStruct | null;
  /** Field offsets, looked up once: these addresses are taken on every switch and flush. */
  private readonly loadedMmOff: number;
  private readonly isLazyOff: number;
  private readonly ctxIdOff: Int32Array;
  private readonly ctxTlbGenOff: Int32Array;

  constructor(tlbstate: PerCpuStruct, options: TlbStateOptions) {
    this.s = tlbstate;
    this.nrAsids = options.nrAsids;
    this.hasAsids = options.asids;
    this.lazy = options.lazy;
    this.loadedMmOff = tlbstate.offset('loaded_mm');
    this.isLazyOff = this.lazy === null ? -1 : this.lazy.offset('is_lazy');
    this.ctxIdOff = Int32Array.from({ length: this.nrAsids }, (_, a) => tlbstate.offset(`ctxs[${a}].ctx_id`));
    this.ctxTlbGenOff = Int32Array.from({ length: this.nrAsids }, (_, a) => tlbstate.offset(`ctxs[${a}].tlb_gen`));
    const w = this.hasAsids ? tlbstate.addr(0, 'loaded_mm_asid') : 0;
    if (this.hasAsids && (w % 4 !== 0 || tlbstate.addr(0, 'next_asid') !== w + 2)) throw new Error(`${tlbstate.name}: loaded_mm_asid and next_asid must fill one word`);
  }

  /** Addresses of per_cpu(cpu_tlbstate.loaded_mm, c), .is_lazy, .ctxs[asid].ctx_id and .ctxs[asid].tlb_gen. */
  loadedMm(c: number): number { return this.s.base(c) + this.loadedMmOff; }
  isLazy(c: number): number { return this.lazy === null ? this.s.addr(c, 'is_lazy') : this.lazy.base(c) + this.isLazyOff; }
  ctxId(c: number, asid: number): number { return this.s.base(c) + this.ctxIdOff[asid]; }
  ctxTlbGen(c: number, asid: number): number { return this.s.base(c) + this.ctxTlbGenOff[asid]; }

  /**
   * Boot: the static initializer (`.loaded_mm = &init_mm, .next_asid = 1`) and
   * initialize_tlbstate_and_flush() (ASID 0 = init_mm at its tlb_gen): the TLB unit's reset CR3.
   */
  boot(memory: SimMemory, initMm: Mm, nCpus: number): void {
    for (let c = 0; c < nCpus; c++) {
      memory.poke(this.loadedMm(c), initMm.id);
      if (this.hasAsids) memory.poke(this.s.addr(c, 'loaded_mm_asid'), 65536); // asid 0, next_asid 1
      for (let a = 0; a < this.nrAsids; a++) {
        memory.poke(this.ctxId(c, a), a === 0 ? initMm.ctxId : NO_CTX_ID);
        memory.poke(this.ctxTlbGen(c, a), a === 0 ? memory.peek(initMm.tlbGenAddr) : 0);
      }
      if (this.lazy !== null) memory.poke(this.isLazy(c), 0);
    }
  }

  /** this_cpu_read(cpu_tlbstate.loaded_mm_asid) (0 where the version has no ASIDs). */
  *readLoadedMmAsid(k: TlbOps, c: number): Sim<number> {
    return this.hasAsids ? (yield k.load(this.s.addr(c, 'loaded_mm_asid'))) % 65536 : 0;
  }
  /** this_cpu_write(cpu_tlbstate.loaded_mm_asid, asid). */
  *writeLoadedMmAsid(k: TlbOps, c: number, asid: number): Sim {
    if (this.hasAsids) yield* this.updateHalf(k, c, false, () => asid);
  }
  /** this_cpu_add_return(cpu_tlbstate.next_asid, 1) (a non-locked XADD on the CPU's own line). */
  *addReturnNextAsid(k: TlbOps, c: number): Sim<number> {
    return yield* this.updateHalf(k, c, true, (next) => next + 1);
  }
  /** this_cpu_write(cpu_tlbstate.next_asid, v). */
  *writeNextAsid(k: TlbOps, c: number, v: number): Sim {
    yield* this.updateHalf(k, c, true, () => v);
  }

  /** Rewrites one u16 of the loaded_mm_asid/next_asid word (load, then store) → its new value. */
  private *updateHalf(k: TlbOps, c: number, high: boolean, f: (old: number) => number): Sim<number> {
    const w = this.s.addr(c, 'loaded_mm_asid');
    const old = yield k.load(w);
    const lo = old % 65536;
    const hi = Math.floor(old / 65536);
    const v = f(high ? hi : lo);
    yield k.store(w, high ? lo + 65536 * v : 65536 * hi + v);
    return v;
  }
}

/**
 * `struct flush_tlb_info`, one per initiating CPU (on its stack before 5.2, per-CPU after: a
 * line the initiator writes and the handlers read). `mm` holds an mm id, `end` TLB_FLUSH_ALL for
 * a full flush. Handlers get its address and read the fields they need.
 */
export class FlushTlbInfo {
  private readonly s: PerCpuStruct;
  private readonly hasFreedTables: boolean;
  private readonly mmOff: number;

  constructor(memory: SimMemory, nCpus: number, fields: readonly FieldSpec[]) {
    this.s = new PerCpuStruct(memory, 'flush_tlb_info', nCpus, fields);
    this.hasFreedTables = fields.some((f) => f.name === 'freed_tables');
    this.mmOff = this.s.offset('mm');
  }

  /** The info of CPU `c`: what it passes to smp_call_function as `info`. */
  addr(c: number): number {
    return this.s.base(c) + this.mmOff;
  }
  /** Address of field `name` of the info at `f`. */
  field(f: number, name: string): number {
    return f + this.s.offset(name) - this.mmOff;
  }

  /** The initiator fills in its info (stores to its own line). */
  *fill(k: TlbOps, c: number, mm: Mm, start: number, end: number, newTlbGen: number, freedTables: boolean): Sim {
    const f = this.addr(c);
    for (const [name, v] of [['mm', mm.id], ['start', start], ['end', end], ['new_tlb_gen', newTlbGen]] as const) yield k.store(this.field(f, name), v);
    if (this.hasFreedTables) yield k.store(this.field(f, 'freed_tables'), freedTables ? 1 : 0);
  }
}

/** flush_tlb_info as v4.13–v4.19 have it: { mm, start, end, new_tlb_gen }. */
export const FLUSH_TLB_INFO_V4_13: readonly FieldSpec[] = ['mm', 'start', 'end', 'new_tlb_gen'].map((name) => ({ name, bytes: 8 }));
/** flush_tlb_info from v4.20: stride_shift and freed_tables added. */
export const FLUSH_TLB_INFO_V4_20: readonly FieldSpec[] = [...FLUSH_TLB_INFO_V4_13, { name: 'stride_shift', bytes: 4 }, { name: 'freed_tables', bytes: 1 }];
/**
 * flush_tlb_info from v5.13 ({ mm, start, end, new_tlb_gen, u32 initiating_cpu, u8 stride_shift,
 * u8 freed_tables }, one per-CPU line). Simulated memory is word-granular, so each u8 gets a word
 * of its own (u8s sharing a word would overwrite each other); the struct stays on one line.
 */
export const FLUSH_TLB_INFO_V5_13: readonly FieldSpec[] = [
  ...FLUSH_TLB_INFO_V4_13, { name: 'initiating_cpu', bytes: 4 }, { name: 'stride_shift', bytes: 4 }, { name: 'freed_tables', bytes: 4 },
];
/** flush_tlb_info from v6.14: `u8 trim_cpumask` added (a word of its own, as the other u8s). */
export const FLUSH_TLB_INFO_V6_15: readonly FieldSpec[] = [...FLUSH_TLB_INFO_V5_13, { name: 'trim_cpumask', bytes: 4 }];

/** TLB_GENERATION_INVALID (5.19, "x86/mm/tlb: Ignore f->new_tlb_gen when zero"): new_tlb_gen of a flush that names no generation (batched reclaim). */
export const TLB_GENERATION_INVALID = 0;

/** inc_mm_tlb_gen() (v4.13+): atomic64_inc_return(&mm->context.tlb_gen), a LOCK XADD and so a full barrier. */
export function* incMmTlbGen(k: TlbOps, mm: Mm): Sim<number> {
  return (yield k.xadd(mm.tlbGenAddr, 1)) + 1;
}

/**
 * get_flush_tlb_info() (v5.2+; the on-stack `struct flush_tlb_info info = {...}` before): "If the
 * number of flushes is so large that a full flush would be faster, do a full flush" (start 0,
 * end TLB_FLUSH_ALL), then the initiator fills in its info. → the info's address, which the
 * handlers get as `info`. v5.13+ store `initiating_cpu` after this.
 */
export function* getFlushTlbInfo(ctx: StrategyContext, info: FlushTlbInfo, k: TlbOps, c: number, mm: Mm, start: number, end: number, newTlbGen: number, freedTables: boolean): Sim<number> {
  const fEnd = flushEnd(ctx, start, end);
  const f = info.addr(c);
  yield* info.fill(k, c, mm, fEnd === TLB_FLUSH_ALL ? 0 : start, fEnd, newTlbGen, freedTables);
  return f;
}

/** cpumask_any_but(mask, cpu) < nr_cpu_ids: loads of the mask's words. */
export function* cpumaskAnyBut(k: TlbOps, mask: Cpumask, cpu: number): Sim<boolean> {
  const cpus = yield* mask.loadCpus(k);
  return cpus.some((x) => x !== cpu);
}

/**
 * choose_new_asid() (v4.14; unchanged in substance until global ASIDs in 6.15): without PCID,
 * ASID 0 and always flush. Otherwise the slot already holding `next` (flush iff its tlb_gen is
 * behind `nextTlbGen`), else the round-robin victim `next_asid++` (wrapping to 0), flushed.
 */
export function* chooseNewAsid(ctx: StrategyContext, ts: TlbState, k: TlbOps, c: number, next: Mm, nextTlbGen: number): Sim<{ asid: number; needFlush: boolean }> {
  if (!ctx.options.pcid) return { asid: 0, needFlush: true };
  const ctxId = yield k.load(next.ctxIdAddr);
  for (let asid = 0; asid < ts.nrAsids; asid++) {
    if ((yield k.load(ts.ctxId(c, asid))) !== ctxId) continue;
    return { asid, needFlush: (yield k.load(ts.ctxTlbGen(c, asid))) < nextTlbGen };
  }
  let asid = (yield* ts.addReturnNextAsid(k, c)) - 1;
  if (asid >= ts.nrAsids) {
    asid = 0;
    yield* ts.writeNextAsid(k, c, 1);
  }
  return { asid, needFlush: true };
}

/** load_new_mm_cr3() (v4.15+; open-coded write_cr3 in v4.13/4.14): CR3 = next's pgd | asid, CR3_NOFLUSH unless need_flush. Serializing. */
export function loadNewMmCr3(k: TlbOps, next: Mm, asid: number, needFlush: boolean): number {
  return k.writeCr3(next.id, asid, !needFlush);
}

/**
 * `cpu_tlbstate` with the v5.13+ layout: `fields` (the version's struct tlb_state, is_lazy gone
 * from it) and `struct tlb_state_shared { bool is_lazy; }` (DEFINE_PER_CPU_SHARED_ALIGNED: a line
 * of its own, "x86/mm/tlb: Privatize cpu_tlbstate", 2f4305b19fe6), allocated in that order.
 */
export function tlbStateWithShared(ctx: StrategyContext, fields: FieldSpec[]): { ts: TlbState; shared: PerCpuStruct } {
  const s = new PerCpuStruct(ctx.memory, 'cpu_tlbstate', ctx.nCpus, fields);
  const shared = new PerCpuStruct(ctx.memory, 'cpu_tlbstate_shared', ctx.nCpus, [{ name: 'is_lazy', bytes: 1, lineAligned: true }]);
  return { ts: new TlbState(s, { nrAsids: TLB_NR_DYN_ASIDS, asids: true, lazy: shared }), shared };
}

/**
 * The thin base of the tlb_gen strategies (see the top of the file): per-CPU state and the IPI
 * function from `attach`, and the steps every version shares. It has no switch or flush path:
 * each version's file has its own. Stats: lazyCatchUpFlushes, lazyToInitMm.
 */
export abstract class GenStrategy implements Strategy {
  abstract readonly name: string;
  abstract readonly kernel: string;
  abstract readonly supportsPcid: boolean;
  protected ctx!: StrategyContext;
  protected ts!: TlbState;
  protected info!: FlushTlbInfo;
  /** smp function id of the flush IPI handler (flush_tlb_func_remote; flush_tlb_func from 5.13). */
  protected flushFunc = 0;
  protected catchUps!: Counter;
  protected lazyToInitMm!: Counter;

  attach(ctx: StrategyContext): void {
    this.ctx = ctx;
    this.ts = this.layout(ctx);
    this.ts.boot(ctx.memory, ctx.initMm, ctx.nCpus);
    this.info = new FlushTlbInfo(ctx.memory, ctx.nCpus, this.flushInfoFields());
    this.flushFunc = ctx.smp.register('flush_tlb_func_remote', (cpu, f) => this.flushTlbFuncRemote(cpu, f));
    this.catchUps = ctx.stats.counter('lazyCatchUpFlushes', 'returns from lazy mode to the same mm that flushed because its tlb_gen had moved');
    this.lazyToInitMm = ctx.stats.counter('lazyToInitMm', 'lazy CPUs that a flush (remote or local) switched to init_mm');
  }

  /** cpu_tlbstate's addresses (for tests and stats). */
  get tlbState(): TlbState {
    return this.ts;
  }

  /** The version's cpu_tlbstate (and cpu_tlbstate_shared). */
  protected abstract layout(ctx: StrategyContext): TlbState;
  /** The version's struct flush_tlb_info. */
  protected abstract flushInfoFields(): readonly FieldSpec[];
  abstract enterLazyTlb(k: TlbOps, cpu: Cpu, activeMm: Mm | null, next: Task): Sim;
  abstract switchMmIrqsOff(k: TlbOps, cpu: Cpu, prev: Mm | null, next: Mm, tsk?: Task | null): Sim;
  abstract flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, freedTables: boolean): Sim;
  /** The flush IPI handler, with the initiator's flush_tlb_info at `f` (interrupts off). */
  protected abstract flushTlbFuncRemote(cpu: Cpu, f: number): Sim;

  /**
   * The reload tail of switch_mm_irqs_off() (v4.14–v6.15, `reload_tlb:` in 6.x): record the new
   * context in the ASID slot if it is flushed, write CR3 (NOFLUSH when the slot is current),
   * then ("Make sure we write CR3 before loaded_mm", barrier()) loaded_mm and loaded_mm_asid.
   */
  protected *loadNewMm(k: TlbOps, c: number, next: Mm, asid: number, needFlush: boolean, nextTlbGen: number): Sim {
    const ts = this.ts;
    if (needFlush) {
      yield k.store(ts.ctxId(c, asid), yield k.load(next.ctxIdAddr));
      yield k.store(ts.ctxTlbGen(c, asid), nextTlbGen);
    }
    yield loadNewMmCr3(k, next, asid, needFlush);
    yield k.store(ts.loadedMm(c), next.id); // after CR3 (barrier())
    yield* ts.writeLoadedMmAsid(k, c, asid);
  }

  /**
   * The tail of the flush handler (flush_tlb_func_common() v4.13–v5.12, flush_tlb_func() v5.13+,
   * the same text throughout), once the version has found its TLB behind: INVLPG the range only
   * if this flush is exactly the next generation and the latest (`f->end != TLB_FLUSH_ALL &&
   * f->new_tlb_gen == local_tlb_gen + 1 && f->new_tlb_gen == mm_tlb_gen`), else flush the whole
   * ASID; either way ctxs[asid].tlb_gen = mm_tlb_gen ("Both paths above update our state to
   * mm_tlb_gen"). No barrier needed: the flushes are serializing.
   */
  protected *catchUp(k: TlbOps, cpu: Cpu, f: number, asid: number, localTlbGen: number, mmTlbGen: number): Sim {
    const fEnd = yield k.load(this.info.field(f, 'end'));
    const newTlbGen = yield k.load(this.info.field(f, 'new_tlb_gen'));
    if (fEnd !== TLB_FLUSH_ALL && newTlbGen === localTlbGen + 1 && newTlbGen === mmTlbGen) {
      const start = yield k.load(this.info.field(f, 'start'));
      for (let vpn = start; vpn < fEnd; vpn++) yield k.invlpg(vpn); // __flush_tlb_single() / flush_tlb_one_user()
    } else {
      yield* flushTlbLocal(this.ctx, k, cpu); // local_flush_tlb() / flush_tlb_local(): CR3 rewritten, this PCID flushed
    }
    yield k.store(this.ts.ctxTlbGen(cpu.id, asid), mmTlbGen);
  }

  /** switch_mm_irqs_off(NULL, &init_mm, NULL): how a lazy CPU leaves its mm from a flush (v4.14+), through the version's own switch. */
  protected *switchToInitMm(k: TlbOps, cpu: Cpu): Sim {
    this.lazyToInitMm.value++;
    yield* this.switchMmIrqsOff(k, cpu, null, this.ctx.initMm, null);
  }

  /**
   * leave_mm() from cpuidle_enter_state() before the idle CPU halts, when the `idleLeaveMm`
   * option asks for it (re-added in v4.14 by "x86/mm: Flush more aggressively in lazy TLB mode").
   */
  *idleEnter(k: TlbOps, cpu: Cpu): Sim {
    if (!this.ctx.options.idleLeaveMm) return;
    if ((yield k.load(this.ts.loadedMm(cpu.id))) === this.ctx.initMm.id) return;
    yield* this.switchMmIrqsOff(k, cpu, null, this.ctx.initMm, null);
  }

  /** The mm a `loaded_mm` value names. */
  protected mm(id: number): Mm {
    if (id === LOADED_MM_SWITCHING) throw new Error(`${this.name}: loaded_mm is LOADED_MM_SWITCHING outside switch_mm_irqs_off`);
    return this.ctx.mmById(id);
  }
}
