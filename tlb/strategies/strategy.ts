import type { Sim } from '../../lib/engine/ops';
import type { MachineParams } from '../../lib/machine/params';
import type { ProbePoint } from '../../lib/probe';
import type { StatGroup } from '../../lib/stats/group';
import type { SimMemory } from '../../mem/memory';
import type { Cpu } from '../../cpu/cpu';
import type { MmSwitch } from '../../cpu/mm-switch';
import type { Scheduler } from '../../cpu/sched';
import type { Smp } from '../../cpu/smp';
import type { SpinlockKind } from '../../cpu/qspinlock';
import type { Mm } from '../mm/mm';
import type { LruMode } from '../mm/lru';
import type { TlbOps } from '../hw/tlb-ops';
import type { TlbUnit } from '../hw/tlb-unit';
import type { KvmPvFlush } from './pv-flush';

/**
 * How a CPU lazy on an mm keeps the mm_struct alive (tlb/mm/lazy-ref.ts): `none`, the model's
 * original free reference; `atomic`, x86's CONFIG_MMU_LAZY_TLB_REFCOUNT (LOCK INC/DEC of mm_count);
 * `shoot-lazies`, CONFIG_MMU_LAZY_TLB_SHOOTDOWN (2655421ae69f: IPIs to mm_cpumask at the final mmdrop).
 */
export const MM_REFCOUNT_MODES = ['none', 'atomic', 'shoot-lazies'] as const;
export type MmRefcountMode = (typeof MM_REFCOUNT_MODES)[number];
/** x86's own: every kernel version the strategies model takes mm_count atomically for a lazy CPU. */
export const DEFAULT_MM_REFCOUNT: MmRefcountMode = 'atomic';

/**
 * Why `flush_tlb_mm_range` was called: `unmap` for munmap() and madvise(MADV_DONTNEED), whose
 * pages leave the address space (LATR's `mm->munmap_inprogress`), `other` for everything else
 * (mprotect, COW, migration, fork, exit). Strategies other than latr ignore it.
 */
export type FlushReason = 'unmap' | 'other';

/** The orthogonal switches the kernel had, as options of every strategy that honours them. */
export interface StrategyOptions {
  /** Use PCIDs (when the machine has them: `pcid` = 1). */
  pcid: boolean;
  /** tlb_single_page_flush_ceiling: more pages than this become a full flush. */
  flushCeiling: number;
  /** Call leave_mm() from the idle loop before halting (intel_idle before v4.13, cpuidle since 6.x). */
  idleLeaveMm: boolean;
  /** The lazy mm reference (MM_REFCOUNT_MODES). Every strategy honours it: it lives in the scheduler and mm lifecycle. */
  mmRefcount: MmRefcountMode;
  /** Whether and how page freeing meets the LRU (tlb/mm/lru.ts, LRU_MODES): `none` leaves it out. */
  lru: LruMode;
  /** Queued spinlocks (4.2 on, the default; cpu/qspinlock.ts) or ticket ones (2.6.25-4.1): every spinlock of the machine. */
  spinlock: SpinlockKind;
  /** KVM's paravirtual remote flush (`--pv-flush`, tlb/strategies/pv-flush.ts): preempted vCPUs are left to the host. Needs a host model. */
  pvFlush: boolean;
}

/** What a strategy may use: the machine's kernel services and hardware, and its own stats group. */
export interface StrategyContext {
  readonly k: TlbOps;
  readonly memory: SimMemory;
  readonly smp: Smp;
  readonly sched: Scheduler;
  readonly unit: TlbUnit;
  readonly initMm: Mm;
  readonly nCpus: number;
  readonly params: MachineParams;
  readonly options: StrategyOptions;
  readonly stats: StatGroup;
  /** The mm with this id (0 is init_mm). */
  mmById(id: number): Mm;
  /** The current cycle (for per-second trims and the like). */
  now(): number;
  /**
   * The flush now running on `cpu` leaves its remote part to be applied lazily (LATR): the oracle
   * quarantines its changes until the pages are reused, instead of covering them at its return.
   * Only a strategy whose `lazyCoverage` is true may call it.
   */
  postedLazily(cpu: number): void;
  /**
   * Notify (from, to) when the flush open on `from` leaves its invalidation for CPU `to` in memory
   * instead of interrupting it (an mc-shootdown message, a LATR state): the flush statistics count
   * `to` as reached (`flushes.remote`, `perFlush.posted`). Counting only; it changes no run.
   */
  readonly flushPosted: ProbePoint<number, number>;
  /** kvm_flush_tlb_multi()'s filter when `pvFlush` is on, else null: pass it to `flushTlbMultiMask` where the kernel calls flush_tlb_multi(). */
  pvFlush: KvmPvFlush | null;
}

/**
 * A lazy-TLB strategy: the kernel's `enter_lazy_tlb`, `switch_mm_irqs_off` and
 * `flush_tlb_mm_range` (with its IPI handler) for one kernel version. It is simulated code: it
 * touches simulated memory and TLB hardware only through `TlbOps`, and charges no cycles itself.
 */
export interface Strategy extends MmSwitch {
  /** The name `--strategy` takes, e.g. 'linux-4.20'. */
  readonly name: string;
  /** The kernel version(s) or proposal modelled. */
  readonly kernel: string;
  /** Whether this kernel uses PCIDs at all (the machine's `pcid` and the option must allow it too). */
  readonly supportsPcid: boolean;
  /**
   * Optional: the strategy leaves some flushes to be applied lazily (`postedLazily`), under the
   * oracle's quarantine contract (docs/ARCHITECTURE.md, the oracle). Only then does the oracle
   * keep its lazy-coverage state and stats.
   */
  readonly lazyCoverage?: boolean;
  /** Allocates per-CPU state, registers IPI functions. Called once, before the machine runs. */
  attach(ctx: StrategyContext): void;
  /** flush_tlb_mm_range(mm, start, end, stride, freed_tables), called with interrupts enabled. */
  flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, freedTables: boolean, reason: FlushReason): Sim;
  /** Optional: run by the idle loop before it halts (e.g. leave_mm when `idleLeaveMm`). */
  idleEnter?(k: TlbOps, cpu: Cpu): Sim;
  /**
   * Optional: munmap() and madvise(MADV_DONTNEED) call it with `begin` true before their zap and
   * false after their flush (LATR's `mm->munmap_inprogress`, set under mmap_sem).
   */
  unmapping?(k: TlbOps, cpu: Cpu, mm: Mm, begin: boolean): Sim;
  /**
   * Optional: the idle loop polls instead of halting (a message-passing kernel's idle dispatcher,
   * mc-shootdown): called with interrupts off, it enables them and returns once the idle task's
   * thread flags at `flagsAddr` may hold TIF_NEED_RESCHED.
   */
  idlePoll?(k: TlbOps, cpu: Cpu, flagsAddr: number): Sim;
  /** Optional: a poll point at the end of scheduler_tick() (attached to `Scheduler.tickPoll`). */
  tickPoll?(k: TlbOps, cpu: Cpu): Sim;
  /**
   * Optional: how long, in cycles, a correct remote flush may wait on its targets by design, given
   * the scheduler tick's period: a strategy whose busy targets only poll answers at their next
   * tick. The `flush` liveness check's default threshold is at least four times it
   * (bench/lockup-options.ts), so that it reports a flush that is stuck, not one that is slow.
   */
  flushWaitBound?(tickCycles: number): number;
  /** Optional: a poll point in __schedule() before the prev != next test (`Scheduler.schedulePoll`). */
  schedulePoll?(k: TlbOps, cpu: Cpu): Sim;
  /**
   * Optional: the reuse gate. Called before pages [start, end) of `mm` get a new translation (a
   * fault installing a PTE, fault-around) or a PTE page is installed again, with interrupts on
   * and preemption off; a strategy that flushes lazily makes sure no CPU still has to apply an
   * invalidation of the range before it returns.
   */
  beforeReuse?(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number): Sim;
  /** Optional: init_new_context() for a new mm (also init_mm, at boot, before `attach`'s state is used). Outside simulated time. */
  initNewContext?(mm: Mm): void;
  /** Optional: destroy_context() when an mm_struct is freed (no CPU holds it any more). Outside simulated time. */
  destroyContext?(mm: Mm): void;
}

export type StrategyFactory = () => Strategy;
