import type { Sim } from '../../lib/engine/ops';
import type { Counter } from '../../lib/stats/counter';
import type { Histogram } from '../../lib/stats/histogram';
import { WORD_SHIFT } from '../../mem/memory';
import type { Cpu } from '../../cpu/cpu';
import type { Scheduler } from '../../cpu/sched';
import type { Task } from '../../cpu/task';
import { tryToWakeUp } from '../../cpu/wakeup';
import { CPUMASK_WORD_BITS, Cpumask } from '../../cpu/cpumask';
import type { Mm } from '../mm/mm';
import type { TlbOps } from '../hw/tlb-ops';
import { TLB_FLUSH_ALL } from './common';
import { PerCpuStruct } from './layout';
import { Linux48 } from './linux-4.8';
import type { FlushReason, Strategy, StrategyContext } from './strategy';

/** What LATR adds to the machine: ring size and the background thread (machine parameters `latr*`). */
export interface LatrParams {
  /** LAZY_TLB_NUM_ENTRIES: saved states per CPU ring (256). */
  latrEntries: number;
  /** TLB_SHOOTDOWN_MAX: background passes before an unapplied state is flushed by IPIs (2). */
  latrMaxPasses: number;
  /** The background thread's period, ns (schedule_timeout_interruptible(HZ): 1 s). */
  latrBackgroundNs: number;
}

/** Offsets in `lazytlb_shootdown_t` (packed: flush_mm, cpu_mask, flush_start, flush_end, refs, valid); the rest follow the mask. */
const E_MM = 0;
const E_MASK = 8;

/** Offsets in `shootdown_entries_t` (start, end, then the entries). */
const R_START = 0;
const R_END = 8;
const R_ENTRIES = 16;

/**
 * LATR, lazy translation coherence (Kumar et al., ASPLOS 2018), as the authors' artifact
 * (sslab-gatech/latr, latr.patch on Linux 4.10, CONFIG_LAZY_TLB_SHOOTDOWN=y) does it. 4.10's
 * tlb.c is 4.8's (`linux-4.8`, no PCID), so this is that strategy with three additions:
 *
 * - `native_flush_tlb_others`: a flush from munmap or MADV_DONTNEED (`mm->munmap_inprogress`)
 *   runs `flush_tlb_func` locally and saves a state (mm, range, a copy of the cpumask) in the
 *   initiator's own ring (`native_flush_save_state`) instead of sending IPIs; munmap returns at
 *   once. A full ring falls back to `smp_call_function_many`. Other flushes send IPIs as 4.10.
 * - `native_flush_saved_states`, from `scheduler_tick()` and `__schedule()` (the scheduler's
 *   poll points): each CPU reads every CPU's ring, applies (`flush_tlb_func`) the valid states
 *   with its bit set, clears its bit (LOCK BTR on the shared entry), invalidates a state whose
 *   mask is empty, and advances its own ring's start past invalid states.
 * - `background_tlb_invalidate`, a kernel thread every `latrBackgroundNs`: a state still valid
 *   after `latrMaxPasses` passes is flushed by IPIs (`native_flush_tlb_fallback`). The artifact
 *   scans `this_cpu_ptr` for every CPU, i.e. only its own CPU's ring; modelled as intended, every
 *   ring. One deviation: while no state is valid the thread parks (a pass would do nothing) and a
 *   tick that finds states woken it, so that a run with nothing pending can end.
 *
 * The artifact frees the range at once (the VMA is detached; CONFIG_LAZY_MEM_FREE=n frees the
 * pages too), so a CPU that has not scanned yet can use a translation of a page already mapped
 * again. The issue's contract forbids that: here the range is held until every CPU applied the
 * state, by a reuse gate (`beforeReuse`, run by a fault or fault-around before it installs a PTE):
 * a valid state covering the range is invalidated and flushed by IPIs now, the artifact's own
 * fallback. The oracle checks the contract itself (tlb/check/lazy-coverage.ts).
 */
export class Latr extends Linux48 implements Strategy {
  override readonly name: string = 'latr';
  override readonly kernel: string = 'LATR (Kumar et al., ASPLOS 2018): the sslab-gatech/latr patch on Linux 4.10';
  readonly lazyCoverage: boolean = true;
  protected lp!: LatrParams;
  /** `shootdown_entries_t __percpu *lazy_tlb_entries`: one ring per CPU (its base address). */
  protected rings!: number[];
  /** sizeof(lazytlb_shootdown_t): packed, a cpumask of nCpus bits rounded to longs. */
  protected entrySize = 0;
  /** Offsets of flush_start, flush_end, refs and valid (after the cpumask). */
  protected eStart = 0;
  protected eEnd = 0;
  protected eRefs = 0;
  protected eValid = 0;
  /** Each entry's `cpu_mask`, by ring * latrEntries + slot. */
  protected masks!: Cpumask[];
  /** Per entry (as `masks`): the cycle it was posted (for `applyDelayCycles`; not simulated). */
  protected postedAt!: Float64Array;
  /** Per entry: valid, as the model's own shadow (parks and wakes the background thread; not simulated). */
  protected live!: Uint8Array;
  protected liveCount = 0;
  protected background!: Task;
  /** Per mm: the address of `mm->munmap_inprogress` (a line of its own, allocated at its first unmap). */
  protected readonly inProgress = new Map<Mm, number>();
  protected backgroundParked = false;
  /** The `struct flush_tlb_info info` on the stack of the scan and of the fallback. */
  protected scanInfo!: PerCpuStruct;
  protected fallbackInfo!: PerCpuStruct;
  protected statesPosted!: Counter;
  protected statesApplied!: Counter;
  protected ringFull!: Counter;
  protected fallbackIpis!: { ring: Counter; reuse: Counter; background: Counter };
  protected applyDelayCycles!: Histogram;

  override attach(ctx: StrategyContext): void {
    super.attach(ctx);
    const p = ctx.params;
    this.lp = { latrEntries: p.latrEntries, latrMaxPasses: p.latrMaxPasses, latrBackgroundNs: p.latrBackgroundNs };
    const n = ctx.nCpus;
    const maskBytes = Math.ceil(n / 64) * 8;
    this.eStart = E_MASK + maskBytes;
    this.eEnd = this.eStart + 8;
    this.eRefs = this.eEnd + 8;
    this.eValid = this.eRefs + 8;
    this.entrySize = this.eValid + 4;
    const slots = this.lp.latrEntries;
    this.rings = [];
    this.masks = [];
    for (let c = 0; c < n; c++) {
      // __alloc_percpu(sizeof(shootdown_entries_t), 32): each CPU's copy in its own per-CPU area.
      const base = ctx.memory.alloc(`lazy_tlb_entries[${c}]`, R_ENTRIES + slots * this.entrySize, 64);
      this.rings.push(base);
      for (let i = 0; i < slots; i++) this.masks.push(new Cpumask(ctx.memory, `lazy_tlb_entries[${c}].entries[${i}].cpu_mask`, n, this.entry(c, i) + E_MASK));
    }
    this.postedAt = new Float64Array(n * slots);
    this.live = new Uint8Array(n * slots);
    const info = [{ name: 'flush_mm', bytes: 8 }, { name: 'flush_start', bytes: 8 }, { name: 'flush_end', bytes: 8 }];
    this.scanInfo = new PerCpuStruct(ctx.memory, 'latr_scan_info', n, info);
    this.fallbackInfo = new PerCpuStruct(ctx.memory, 'latr_fallback_info', n, info);
    const s = ctx.stats.group('latr');
    this.statesPosted = s.counter('statesPosted', 'munmap/MADV_DONTNEED flushes saved as a state instead of IPIs (native_flush_save_state)');
    this.statesApplied = s.counter('statesApplied', 'states a CPU applied at a tick or in __schedule (flush_tlb_func from native_flush_saved_states)');
    this.ringFull = s.counter('ringFull', 'munmap/MADV_DONTNEED flushes that found their ring full and sent IPIs');
    const f = s.group('fallbackIpis');
    this.fallbackIpis = {
      ring: f.counter('ring', 'smp_call_function_many for a flush whose ring was full'),
      reuse: f.counter('reuse', 'native_flush_tlb_fallback for a state still valid when its range was about to be reused (the reuse gate)'),
      background: f.counter('background', 'native_flush_tlb_fallback by the background thread after latrMaxPasses passes'),
    };
    this.applyDelayCycles = s.histogram('applyDelayCycles', 'cycles from posting a state to its last CPU applying it (or its fallback completing)');
    const period = Math.round(p.latrBackgroundNs * p.clockGhz);
    // kthread_run(background_tlb_invalidate, ..., "TLB flush"): an unbound kernel thread.
    this.background = ctx.sched.createTask('latr/background', null, 0, ({ k, task, sched }) => this.backgroundTlbInvalidate(k as TlbOps, task, sched, period), undefined, true);
  }

  /** Address of entry `i` of CPU `c`'s ring. */
  protected entry(c: number, i: number): number {
    return this.rings[c] + R_ENTRIES + i * this.entrySize;
  }

  protected slot(counter: number): number {
    return counter % this.lp.latrEntries;
  }

  /** atomic_set(&state->valid, 0) for entry `idx` at `addr`, and the shadow with it. */
  protected *invalidate(k: TlbOps, idx: number, addr: number): Sim {
    yield k.store(addr, 0);
    if (this.live[idx] === 1) {
      this.live[idx] = 0;
      this.liveCount--;
    }
  }

  /** native_flush_tlb_others(): a munmap saves a state and returns; anything else (or a full ring) sends IPIs. */
  protected override *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, reason: FlushReason): Sim {
    const c = cpu.id;
    yield* this.fillInfo(k, c, mm, start, end);
    const info = this.info.addr(c, 'flush_mm');
    if (reason === 'unmap') {
      yield* this.flushTlbFunc(cpu, info); // "Flush the local TLB and save state only for unmap operation"
      if (yield* this.nativeFlushSaveState(k, c, mm, start, end)) {
        this.ctx.postedLazily(c);
        return;
      }
      this.ringFull.value++;
      this.fallbackIpis.ring.value++;
    }
    yield* this.ctx.smp.smpCallFunctionMany(k, cpu, mm.cpumask, this.flushFunc, info, true, 'serial', false);
  }

  /** native_flush_save_state(info, cpumask): into the initiator's own ring; false when it is full. */
  protected *nativeFlushSaveState(k: TlbOps, c: number, mm: Mm, start: number, end: number): Sim<boolean> {
    const ring = this.rings[c];
    const rStart = yield k.load(ring + R_START);
    const rEnd = yield k.load(ring + R_END);
    if (this.slot(rStart) === this.slot(rEnd + 1)) return false; // start and end + 1 on one slot: full
    const i = this.slot(rEnd);
    const e = this.entry(c, i);
    const valid = e + this.eValid;
    if ((yield k.load(valid)) !== 0) return false; // "BUG BUG BUG, entry should have been invalid"
    yield k.store(e + E_MM, mm.id);
    const mask = this.masks[c * this.lp.latrEntries + i];
    for (let w = 0; w < mask.nWords; w++) {
      const word = yield k.load(mm.cpumask.addr + (w << WORD_SHIFT));
      yield k.store(mask.addr + (w << WORD_SHIFT), word); // state->cpu_mask = *cpumask
      // Every CPU of the mask will apply the state (the statistics' reach; the initiator is not counted).
      for (let b = 0; b < CPUMASK_WORD_BITS; b++) if (((word >>> b) & 1) !== 0) this.ctx.flushPosted.notify(c, w * CPUMASK_WORD_BITS + b);
    }
    yield k.store(e + this.eStart, start);
    yield k.store(e + this.eEnd, end);
    yield k.store(e + this.eRefs, 0);
    // smp_wmb() (a compiler barrier on x86: TSO keeps the stores in order); atomic_set(&valid, 1).
    yield k.store(valid, 1);
    yield k.store(ring + R_END, rEnd + 1);
    this.postedAt[c * this.lp.latrEntries + i] = this.ctx.now();
    this.live[c * this.lp.latrEntries + i] = 1;
    this.liveCount++;
    this.statesPosted.value++;
    return true;
  }

  /**
   * atomic_set(&mm->munmap_inprogress, 1 / 0) around do_munmap and madvise_dontneed's zap. Here a
   * count (LOCK XADD), since two MADV_DONTNEEDs of one mm may overlap (mmap_sem is held for read
   * there), and the reuse gate waits for it: the model has no mmap_sem, whose write side keeps a
   * fault off a range being unmapped. Its locked decrement also makes the posted state visible
   * before the call returns, as up_write(&mm->mmap_sem) would.
   */
  *unmapping(k: TlbOps, _cpu: Cpu, mm: Mm, begin: boolean): Sim {
    yield k.xadd(this.munmapInProgress(mm), begin ? 1 : -1);
  }

  protected munmapInProgress(mm: Mm): number {
    let a = this.inProgress.get(mm);
    if (a === undefined) {
      a = this.ctx.memory.allocLines(`${mm.name}.munmap_inprogress`);
      this.inProgress.set(mm, a);
    }
    return a;
  }

  /** The tick's poll point: native_flush_saved_states(cpu, 1) at the end of scheduler_tick(). */
  *tickPoll(k: TlbOps, cpu: Cpu): Sim {
    yield* this.nativeFlushSavedStates(k, cpu);
    if (this.backgroundParked && this.liveCount > 0) {
      this.backgroundParked = false;
      yield* tryToWakeUp(this.ctx.sched, cpu, this.background);
    }
  }

  /** __schedule()'s poll point: native_flush_saved_states(cpu, 0) before the prev != next test. */
  *schedulePoll(k: TlbOps, cpu: Cpu): Sim {
    yield* this.nativeFlushSavedStates(k, cpu);
  }

  /** native_flush_saved_states(): apply every valid state with my bit, in every CPU's ring; then reclaim my own. */
  protected *nativeFlushSavedStates(k: TlbOps, cpu: Cpu): Sim {
    const me = cpu.id;
    const n = this.ctx.nCpus;
    const slots = this.lp.latrEntries;
    for (let c = 0; c < n; c++) {
      const ring = this.rings[c];
      const rEnd = yield k.load(ring + R_END);
      const rStart = yield k.load(ring + R_START);
      for (let cur = rStart, seen = 0; cur !== rEnd && seen <= slots; cur++, seen++) {
        const i = this.slot(cur);
        const e = this.entry(c, i);
        if ((yield k.load(e + this.eValid)) === 0) continue;
        const mask = this.masks[c * slots + i];
        if (!(yield* mask.testBit(k, me))) continue;
        const info = this.scanInfo.addr(me, 'flush_mm');
        yield k.store(info, yield k.load(e + E_MM));
        yield k.store(info + 8, yield k.load(e + this.eStart));
        yield k.store(info + 16, yield k.load(e + this.eEnd));
        yield* this.flushTlbFunc(cpu, info); // "Flush only the local TLB"
        this.statesApplied.value++;
        yield* mask.clearBit(k, me);
        if ((yield* mask.loadCpus(k)).length === 0) {
          yield* this.invalidate(k, c * slots + i, e + this.eValid);
          this.applyDelayCycles.record(this.ctx.now() - this.postedAt[c * slots + i]);
        }
      }
    }
    // Skip my ring's start over invalid entries ("not synchronized with other CPUs").
    const ring = this.rings[me];
    const rEnd = yield k.load(ring + R_END);
    let cur = yield k.load(ring + R_START);
    while ((yield k.load(this.entry(me, this.slot(cur)) + this.eValid)) === 0 && cur !== rEnd) {
      cur++;
      yield k.store(ring + R_START, cur);
    }
  }

  /**
   * The reuse gate (not in the artifact, whose munmap frees the range at once): before pages
   * [start, end) of `mm` are mapped again, every state still valid for an overlapping range is
   * flushed by IPIs to the CPUs that have not applied it and then invalidated, as
   * background_update_saved_states() does after TLB_SHOOTDOWN_MAX passes. A state stays valid
   * until its IPIs are done, so a concurrent reuser waits for IPIs of its own (found by exploration).
   */
  *beforeReuse(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number): Sim {
    yield k.spinUntilEq(this.munmapInProgress(mm), 0); // a fault waits for munmap's mmap_sem
    const n = this.ctx.nCpus;
    const slots = this.lp.latrEntries;
    for (let c = 0; c < n; c++) {
      const ring = this.rings[c];
      const rEnd = yield k.load(ring + R_END);
      const rStart = yield k.load(ring + R_START);
      for (let cur = rStart, seen = 0; cur !== rEnd && seen <= slots; cur++, seen++) {
        const i = this.slot(cur);
        const e = this.entry(c, i);
        if ((yield k.load(e + this.eValid)) === 0) continue;
        if ((yield k.load(e + E_MM)) !== mm.id) continue;
        const fStart = yield k.load(e + this.eStart);
        const fEnd = yield k.load(e + this.eEnd);
        if (fStart >= end || (fEnd !== TLB_FLUSH_ALL && fEnd <= start)) continue;
        // The artifact resets valid first; here only once the IPIs are done, or a second reuser
        // running meanwhile would find the state invalid and go ahead before they arrive.
        yield* this.nativeFlushTlbFallback(k, cpu, c * slots + i, mm.id, fStart, fEnd);
        yield* this.invalidate(k, c * slots + i, e + this.eValid);
        this.fallbackIpis.reuse.value++;
      }
    }
  }

  /**
   * native_flush_tlb_fallback(&state->cpu_mask, ...): smp_call_function_many to the CPUs that
   * have not applied the state. The caller's own bit (a CPU reusing a range it has not applied
   * itself) is applied locally first, as flush_tlb_mm_range's local part would.
   */
  protected *nativeFlushTlbFallback(k: TlbOps, cpu: Cpu, idx: number, mmId: number, start: number, end: number): Sim {
    const me = cpu.id;
    const info = this.fallbackInfo.addr(me, 'flush_mm');
    yield k.store(info, mmId);
    yield k.store(info + 8, start);
    yield k.store(info + 16, end);
    const mask = this.masks[idx];
    yield k.preemptAdd(1);
    if (yield* mask.testBit(k, me)) {
      yield* this.flushTlbFunc(cpu, info);
      yield* mask.clearBit(k, me);
    }
    yield* this.ctx.smp.smpCallFunctionMany(k, cpu, mask, this.flushFunc, info, true, 'serial', false);
    yield k.preemptAdd(-1);
    this.applyDelayCycles.record(this.ctx.now() - this.postedAt[idx]);
  }

  /** background_tlb_invalidate(): every period, background_update_saved_states() for each CPU's ring. */
  protected *backgroundTlbInvalidate(k: TlbOps, task: Task, sched: Scheduler, period: number): Sim {
    const slots = this.lp.latrEntries;
    for (;;) {
      if (this.liveCount === 0) {
        this.backgroundParked = true; // nothing a pass could do: park until a tick finds states
        yield* sched.block(task);
        continue;
      }
      yield* sched.sleepFor(task, period); // schedule_timeout_interruptible(HZ*1)
      for (let c = 0; c < this.ctx.nCpus; c++) {
        for (let i = 0; i < slots; i++) {
          const e = this.entry(c, i);
          const valid = e + this.eValid;
          if ((yield k.load(valid)) === 0) continue;
          const mask = this.masks[c * slots + i];
          if ((yield* mask.loadCpus(k)).length === 0) {
            yield* this.invalidate(k, c * slots + i, valid);
            continue;
          }
          const r = (yield k.load(e + this.eRefs)) + 1;
          yield k.store(e + this.eRefs, r);
          if (r < this.lp.latrMaxPasses) continue;
          yield k.preemptAdd(1); // stay on this CPU for the call
          const mmId = yield k.load(e + E_MM);
          const fStart = yield k.load(e + this.eStart);
          const fEnd = yield k.load(e + this.eEnd);
          yield* this.nativeFlushTlbFallback(k, sched.cpuOf(task), c * slots + i, mmId, fStart, fEnd);
          yield k.preemptAdd(-1);
          yield* this.invalidate(k, c * slots + i, valid); // after the IPIs, for the reuse gate (the artifact: before)
          this.fallbackIpis.background.value++;
        }
      }
    }
  }
}

export const latr = (): Strategy => new Latr();
