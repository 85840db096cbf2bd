import type { Sim } from '../../lib/engine/ops';
import { StepCall, type SimCall } from '../../lib/engine/step-call';
import { RngStreams } from '../../lib/rng';
import type { Cpu } from '../../cpu/cpu';
import type { Task } from '../../cpu/task';
import type { Translation } from '../../cpu/translation';
import { PTRS_PER_PTE, type Mm } from '../mm/mm';
import type { Oracle } from '../check/oracle';
import type { Lru } from '../mm/lru';
import { MlpWindow } from './mlp';
import { HIT_L1, MISS } from './tlb';
import type { TlbOps } from './tlb-ops';
import type { TlbUnit } from './tlb-unit';

export interface WalkParams {
  l1Hit: number;
  stlbHit: number;
  pageWalk: number;
  pageWalkers: number;
  fillBuffers: number;
  kernelTlbPages: number;
  faultEntryExit: number;
  pageFault: number;
}

/** A PTE word: version * 2 + writable; 0 means not present. */
export const pteVersion = (pte: number): number => Math.floor(pte / 2);
export const pteWritable = (pte: number): boolean => pte % 2 === 1;

/**
 * User memory accesses through the TLBs. A hit costs the data access (plus `stlbHit` from the
 * second level) and is checked by the oracle; a miss walks the page tables in simulated memory
 * (PGD, PUD and PMD only when the paging-structure cache has nothing for the PCID, then the PTE),
 * charged `pageWalk` when every line hits L1 and more when a line must be fetched; a PTE that is
 * not present, or read-only on a write (COW), takes a page fault that installs a new PTE version.
 * `vaddr` is a virtual page number.
 */
export class TlbTranslation implements Translation<TlbOps> {
  private readonly unit: TlbUnit;
  private readonly oracle: Oracle;
  private readonly p: WalkParams;
  private readonly now: () => number;
  /** Per CPU: the user miss window (memory-level parallelism of `accessRange`). */
  private readonly mlp: MlpWindow[];
  /** The memory system's per-CPU latency of the last overlapped load. */
  private readonly overlapLatency: Float64Array;
  /** The kernel's 4 KiB global pages a pass through the scheduler touches (`kernelTlbPages`). */
  private readonly kernelVpns: Float64Array;
  /** Called for a write to a read-only page: breaks COW (new page, flush of the old translation). */
  cowBreak: ((k: TlbOps, cpu: Cpu, task: Task, mm: Mm, vpn: number) => Sim) | null;
  /** The strategy's reuse gate (`Strategy.beforeReuse`, LATR), run by a fault before it installs a PTE. */
  reuseGate: ((k: TlbOps, cpu: number, mm: Mm, vpn: number) => Sim) | null = null;
  /** The modelled LRU (strategy option `lru`), or null: a write fault's new page joins it. */
  lru: Lru | null = null;

  constructor(unit: TlbUnit, oracle: Oracle, params: WalkParams, now: () => number, overlapLatency: Float64Array) {
    this.unit = unit;
    this.oracle = oracle;
    this.p = params;
    this.now = now;
    this.overlapLatency = overlapLatency;
    this.kernelVpns = kernelLayout(params.kernelTlbPages);
    this.mlp = unit.tlbs.map(() => new MlpWindow(params.fillBuffers, params.pageWalkers));
    this.cowBreak = null;
  }

  /**
   * One user load or store. The lookup, the walk, the fill and the data access are one
   * instruction: an interrupt (a flush IPI) waits until it is done, or a handler's INVLPG could
   * run between a walk and its fill and leave a stale entry behind. A page fault runs in between
   * with interrupts on, and the instruction then starts over with a fresh walk, as on hardware.
   * The access runs without preemption, so `cpu` stays the CPU it runs on; once it is done,
   * an interrupt held off meanwhile is taken at the instruction boundary, where it may preempt
   * the task (a tick's need_resched is honoured at once, as on return to user mode).
   */
  access(k: TlbOps, cpu: Cpu, task: Task, vpn: number, write: boolean): SimCall {
    const mm = task.mm as Mm;
    const c = cpu.id;
    const u = this.unit;
    const tlb = u.tlbs[c];
    const irqsWereOn = cpu.irqsOn;
    cpu.preemptCount++;
    cpu.irqsOn = false;
    if (u.cr3Mm[c] !== mm.id) this.oracle.wrongMm(c, mm, vpn, u.cr3Mm[c], this.now());
    const hit = tlb.lookup(u.cr3Asid[c], vpn);
    if (hit === MISS || (write && !pteWritable(tlb.version) && this.cowBreak !== null)) {
      return this.accessSlow(k, cpu, task, mm, vpn, write, irqsWereOn, hit);
    }
    // The commonest case by far, a hit that needs no COW break: a pooled step machine (TlbHitCall).
    this.oracle.checkUse(c, mm, vpn, pteVersion(tlb.version), tlb.owner, this.now());
    return (HIT_CALLS.pop() ?? new TlbHitCall(HIT_CALLS)).start(k, cpu, irqsWereOn, hit !== HIT_L1, this.p.stlbHit, this.p.l1Hit);
  }

  /** `access` after a miss (`firstHit` is MISS), or after a hit on a page it must break COW on. */
  private *accessSlow(k: TlbOps, cpu: Cpu, task: Task, mm: Mm, vpn: number, write: boolean, irqsWereOn: boolean, firstHit: number): Sim {
    const c = cpu.id;
    const u = this.unit;
    const tlb = u.tlbs[c];
    let pte = 0;
    for (let attempt = 0; pte === 0; attempt++) {
      const asid = u.cr3Asid[c];
      const hit = attempt === 0 ? firstHit : tlb.lookup(asid, vpn);
      if (hit !== MISS) {
        pte = tlb.version;
        this.oracle.checkUse(c, mm, vpn, pteVersion(pte), tlb.owner, this.now());
        if (hit !== HIT_L1) yield k.compute(this.p.stlbHit);
        break;
      }
      // The page walk, inline: a generator per miss cost 3 bytes per event on memcache.
      let loads = 1;
      if (tlb.pscValid[asid] === 0) {
        // No paging-structure-cache entries for this PCID: read the upper levels too.
        yield k.load(mm.pgdAddr);
        yield k.load(mm.pudAddr);
        yield k.load(mm.pmdAddr);
        tlb.fillPsc(asid, this.now());
        loads += 3;
      }
      pte = yield k.load(mm.pteAddr(vpn));
      // `pageWalk` is the whole walk with every line in L1; fetched lines already cost their transfer.
      const fixed = this.p.pageWalk - loads * this.p.l1Hit;
      if (fixed > 0) yield k.compute(fixed);
      if (pte !== 0) {
        tlb.fill(asid, vpn, pte, mm.ctxId);
        break;
      }
      if (attempt > 8) throw new Error(`page ${vpn} of ${mm.name} never became present`);
      if (restoreIrqs(cpu, irqsWereOn)) yield k.irqEnable();
      yield* this.fault(k, cpu, mm, vpn, write);
      cpu.irqsOn = false;
    }
    if (write && !pteWritable(pte) && this.cowBreak !== null) {
      if (restoreIrqs(cpu, irqsWereOn)) yield k.irqEnable();
      yield* this.cowBreak(k, cpu, task, mm, vpn);
      cpu.preemptCount--;
    } else {
      yield k.compute(this.p.l1Hit); // the data access itself
      cpu.preemptCount--;
      if (restoreIrqs(cpu, irqsWereOn)) yield k.irqEnable();
    }
  }

  /**
   * `count` independent accesses to pages vpn, vpn + 1, ...: an out-of-order core overlaps their
   * TLB misses and walks in its miss window (MlpWindow). Each access still takes effect as one
   * instruction at its issue time (lookup, walk, fill and oracle check, with interrupts held off);
   * what overlaps is the waiting, which runs with interrupts on. A page that is not present, or a
   * write to a read-only page, ends the overlap: the outstanding misses complete, then that access
   * runs on its own (`access`, with its fault) and a new window starts.
   */
  *accessRange(k: TlbOps, cpus: readonly Cpu[], task: Task, vpn: number, count: number, write: boolean): Sim {
    const mm = task.mm as Mm;
    const u = this.unit;
    const p = this.p;
    let c = (task.process as { cpu: number }).cpu;
    let w = this.mlp[c];
    w.begin(this.now());
    for (let i = 0; i < count; i++) {
      const at = w.nextIssue();
      const now = this.now();
      if (at > now) yield k.compute(at - now);
      const cpu = cpus[(task.process as { cpu: number }).cpu];
      if (cpu.id !== c) {
        c = cpu.id; // preempted and migrated while waiting: a new core, a new window
        w = this.mlp[c];
        w.begin(this.now());
      }
      const t = this.now();
      const irqsWereOn = cpu.irqsOn;
      cpu.preemptCount++;
      cpu.irqsOn = false;
      if (u.cr3Mm[c] !== mm.id) this.oracle.wrongMm(c, mm, vpn + i, u.cr3Mm[c], t);
      const tlb = u.tlbs[c];
      const asid = u.cr3Asid[c];
      const hit = tlb.lookup(asid, vpn + i);
      let pte = 0;
      if (hit !== MISS) {
        pte = tlb.version;
        this.oracle.checkUse(c, mm, vpn + i, pteVersion(pte), tlb.owner, t);
        w.hit(t, hit === HIT_L1 ? p.l1Hit : p.stlbHit + p.l1Hit); // the STLB lookup is pipelined
      } else {
        // The walk, its loads overlapping with other accesses: the PTE now, the load cycles aside.
        const loads = tlb.pscValid[asid] === 0 ? 4 : 1;
        let loadCycles = 0;
        if (loads === 4) {
          yield k.loadOverlapped(mm.pgdAddr);
          loadCycles += this.overlapLatency[c];
          yield k.loadOverlapped(mm.pudAddr);
          loadCycles += this.overlapLatency[c];
          yield k.loadOverlapped(mm.pmdAddr);
          loadCycles += this.overlapLatency[c];
          tlb.fillPsc(asid, this.now());
        }
        pte = yield k.loadOverlapped(mm.pteAddr(vpn + i));
        loadCycles += this.overlapLatency[c];
        // `pageWalk` is the whole walk with every line in L1; fetched lines cost their transfer instead.
        const walkCycles = Math.max(p.pageWalk, p.pageWalk - loads * p.l1Hit + loadCycles);
        if (pte !== 0) {
          tlb.fill(asid, vpn + i, pte, mm.ctxId);
          const start = w.walk(t, walkCycles);
          w.miss(t, start - t + walkCycles + p.l1Hit);
        }
      }
      cpu.preemptCount--;
      if (restoreIrqs(cpu, irqsWereOn)) yield k.irqEnable();
      if (pte === 0 || (write && !pteWritable(pte) && this.cowBreak !== null)) {
        const now2 = this.now();
        if (w.done > now2) yield k.compute(w.done - now2);
        yield* this.access(k, cpus[(task.process as { cpu: number }).cpu], task, vpn + i, write);
        c = (task.process as { cpu: number }).cpu;
        w = this.mlp[c];
        w.begin(this.now());
      }
    }
    const end = this.now();
    if (w.done > end) yield k.compute(w.done - end);
  }

  /**
   * One pass through the scheduler's code and data: its global translations share the STLB with
   * the user's (so they push user entries out) and survive every CR3 write. Kernel code is serial:
   * each miss costs a whole walk (the kernel's page tables are not modelled in memory).
   */
  *kernelPass(k: TlbOps, cpu: Cpu): Sim {
    const tlb = this.unit.tlbs[cpu.id];
    const vpns = this.kernelVpns;
    let misses = 0;
    for (let i = 0; i < vpns.length; i++) if (!tlb.touchGlobal(vpns[i])) misses++;
    if (misses > 0) yield k.compute(misses * this.p.pageWalk);
  }

  /**
   * do_anonymous_page(): the kernel's fault work, then (a page table allocated if needed) the PTE
   * is set under its PTE page's lock unless another CPU got there first. The ground truth
   * (`lastChange`) moves with the store. With the LRU modelled (`lru`), a write fault's new page
   * joins the LRU under that lock (folio_add_lru_vma), as do_anonymous_page and do_cow_fault add
   * it; a read fault maps the zero page, and a write to a shared file mapping the page-cache page:
   * neither allocates.
   */
  private *fault(k: TlbOps, cpu: Cpu, mm: Mm, vpn: number, write: boolean): Sim {
    const c = cpu.id;
    yield k.compute(this.p.faultEntryExit + this.p.pageFault); // #PF entry and IRET, and the handler's work
    if (this.reuseGate !== null) yield* this.reuseGate(k, c, mm, vpn);
    const region = Math.floor(vpn / PTRS_PER_PTE);
    if (mm.ptePageLive[region] === 0) {
      // pte_alloc() → pmd_install() under mm->page_table_lock: a fresh PTE page, hooked into the PMD.
      yield* mm.ptl.lock(k, c);
      if (mm.ptePageLive[region] === 0) {
        this.oracle.reuseTable(mm, this.now());
        mm.ptePageLive[region] = 1;
        yield k.store(mm.pmdAddr + 8 * region, 1);
      }
      yield* mm.ptl.unlock(k, c);
    }
    const ptl = mm.pteLocks[region]; // pte_offset_map_lock()
    yield* ptl.lock(k, c);
    if ((yield k.load(mm.pteAddr(vpn))) === 0) {
      if (this.lru !== null && write && (mm.sharedFile === null || mm.sharedFile[vpn] === 0)) {
        const f = yield* this.lru.allocAdd(k, cpu);
        this.lru.folioTable(mm)[vpn] = f;
      }
      this.oracle.reuse(mm, vpn);
      const version = ++mm.changeSeq;
      mm.lastChange[vpn] = version;
      yield k.store(mm.pteAddr(vpn), version * 2 + 1);
    }
    yield* ptl.unlock(k, c);
  }
}

/** Where the kernel keeps the 4 KiB pages of the scheduler's footprint: a fixed layout (the same
 *  for every run and seed), spread over the upper half of the virtual page numbers the TLB keys
 *  hold, so their TLB sets are as scattered as a real kernel's stacks and slab pages. */
function kernelLayout(n: number): Float64Array {
  const rng = new RngStreams('kernel-layout').stream('tlb.kernelFootprint');
  const seen = new Set<number>();
  const vpns = new Float64Array(n);
  for (let i = 0; i < n; ) {
    const vpn = 2 ** 35 + rng.int(2 ** 30);
    if (seen.has(vpn)) continue;
    seen.add(vpn);
    vpns[i++] = vpn;
  }
  return vpns;
}

/**
 * Restores the interrupt flag at the end of an instruction; true when an interrupt became pending
 * meanwhile, which the caller then takes (`yield k.irqEnable()`).
 */
function restoreIrqs(cpu: Cpu, on: boolean): boolean {
  cpu.irqsOn = on;
  return on && cpu.pending !== 0;
}

const HIT_CALLS: TlbHitCall[] = [];

/**
 * The end of a user access that hit the TLB (`access` did the lookup and the oracle's check):
 * the STLB's extra cycles on a second-level hit, the data access, then the instruction boundary,
 * where a held-off interrupt is taken.
 */
class TlbHitCall extends StepCall {
  private k: TlbOps | null;
  private cpu: Cpu | null;
  private irqsWereOn: boolean;
  private stlb: boolean;
  private stlbHit: number;
  private l1Hit: number;

  constructor(pool: TlbHitCall[]) {
    super(pool as StepCall[]);
    this.k = null;
    this.cpu = null;
    this.irqsWereOn = false;
    this.stlb = false;
    this.stlbHit = 0;
    this.l1Hit = 0;
  }

  start(k: TlbOps, cpu: Cpu, irqsWereOn: boolean, stlb: boolean, stlbHit: number, l1Hit: number): this {
    this.k = k;
    this.cpu = cpu;
    this.irqsWereOn = irqsWereOn;
    this.stlb = stlb;
    this.stlbHit = stlbHit;
    this.l1Hit = l1Hit;
    return this;
  }

  next(): IteratorResult<number> {
    const k = this.k as TlbOps;
    const cpu = this.cpu as Cpu;
    switch (this.pc) {
      case 0: // the second-level TLB's lookup
        if (this.stlb) return this.yieldOp(k.compute(this.stlbHit), 1);
        return this.yieldOp(k.compute(this.l1Hit), 2);
      case 1: // the data access itself
        return this.yieldOp(k.compute(this.l1Hit), 2);
      case 2: // the instruction boundary
        cpu.preemptCount--;
        if (restoreIrqs(cpu, this.irqsWereOn)) return this.yieldOp(k.irqEnable(), 3);
        return this.done();
      default:
        return this.done();
    }
  }

  private done(): IteratorResult<number> {
    this.k = null;
    this.cpu = null;
    return this.finish(undefined);
  }
}
