import { ConfigError } from '../lib/errors';
import type { StatGroup } from '../lib/stats/group';
import { CpuMachine, type CpuMachineOptions } from '../cpu/machine';
import { Scheduler, type SchedOptions } from '../cpu/sched';
import { Smp } from '../cpu/smp';
import { Spinlock } from '../cpu/spinlock';
import { FlushStats } from './flush-stats';
import { Mapping } from './mapping';
import { Mm, PTRS_PER_PTE } from './mm';
import { Oracle } from './oracle';
import type { Strategy, StrategyContext, StrategyOptions } from './strategy';
import { TlbOps } from './tlb-ops';
import { TlbUnit } from './tlb-unit';
import { TlbTranslation } from './translation';

export interface TlbMachineOptions extends Omit<CpuMachineOptions, 'ops'> {
  strategy: Strategy;
  /** Orthogonal switches; PCID defaults to the machine's `pcid`, the ceiling to `flushCeiling`. */
  strategyOptions?: Partial<StrategyOptions>;
  sched?: Omit<SchedOptions, 'mmSwitch' | 'translation'>;
  /** Extra IPI delivery jitter, 0..max cycles (exploration). */
  ipiJitterMax?: number;
}

/** Most pages an mm may have: the PMD line holds 8 entries of 512-page PTE pages. */
export const MAX_MM_PAGES = 8 * PTRS_PER_PTE;

/**
 * A whole simulated machine: memory, CPUs, scheduler, smp_call_function, TLBs and page tables,
 * one lazy-TLB strategy plugged into context switches and flushes, and the oracle watching it.
 */
export class TlbMachine extends CpuMachine {
  declare readonly k: TlbOps;
  readonly unit: TlbUnit;
  readonly oracle: Oracle;
  readonly smp: Smp;
  readonly sched: Scheduler;
  readonly strategy: Strategy;
  readonly strategyOptions: StrategyOptions;
  readonly mapping: Mapping;
  readonly translation: TlbTranslation;
  readonly flushStats: FlushStats;
  readonly initMm: Mm;
  readonly mms: Mm[];
  private readonly mmStats: StatGroup;

  constructor(options: TlbMachineOptions) {
    // Page tables, per-CPU state and CSDs need more room than the bottom layers' default.
    super({ memBytes: 8 << 20, ...options, ops: new TlbOps() });
    const p = this.config.params;
    const so: StrategyOptions = {
      pcid: p.pcid === 1,
      flushCeiling: p.flushCeiling,
      idleLeaveMm: false,
      ...options.strategyOptions,
    };
    if (so.pcid && p.pcid !== 1) throw new ConfigError(`strategy option pcid needs a machine with pcid=1`);
    so.pcid = so.pcid && options.strategy.supportsPcid;
    this.strategyOptions = so;
    this.unit = new TlbUnit(this.engine, this.cpu, { ...p, pcid: so.pcid ? 1 : 0 }, this.cpu.cpus.map((c) => c.stats));
    this.oracle = new Oracle(this.unit, this.stats.group('violations'), (cpu) => this.sched.inMmSwitch[cpu] === 1);
    this.smp = new Smp(this, this.stats.group('smp'));
    this.translation = new TlbTranslation(this.unit, this.oracle, p, () => this.engine.now);
    this.strategy = options.strategy;
    this.sched = new Scheduler(this, { ...options.sched, mmSwitch: this.strategy, translation: this.translation });
    this.sched.afterMmSwitch = (cpu) => this.oracle.afterMmSwitch(cpu, this.engine.now);
    this.flushStats = new FlushStats(this.unit, this.sched, this.stats.group('flushes'), this.stats.group('ipis'));
    this.cpu.apic.onSend = (from) => this.flushStats.onIpi(from);
    this.smp.onQueue = (from, to) => this.flushStats.onQueue(from, to);
    if (options.ipiJitterMax !== undefined && options.ipiJitterMax > 0) {
      this.cpu.apic.setJitter(this.rng.stream('apic.jitter'), options.ipiJitterMax);
    }
    this.mapping = new Mapping(this.engine, this.unit, this.oracle, this.flushStats, this.strategy, p.pageFault);
    this.translation.cowBreak = (k, cpu, _task, mm, vpn) => this.mapping.cowBreak(k, cpu, mm, vpn);
    this.mms = [];
    this.mmStats = this.stats.group('mm');
    this.initMm = this.createMm('init_mm', 0);
    for (const rq of this.sched.rqs) rq.idle.activeMm = this.initMm; // the boot CPUs run on init_mm
    const ctx: StrategyContext = {
      k: this.k,
      memory: this.memory,
      smp: this.smp,
      sched: this.sched,
      unit: this.unit,
      initMm: this.initMm,
      nCpus: this.topology.nCpus,
      params: p,
      options: so,
      stats: this.stats.group('strategy'),
      mmById: (id: number) => this.mms[id],
      now: () => this.engine.now,
    };
    this.strategy.attach(ctx);
    if (this.strategy.idleEnter !== undefined) {
      const s = this.strategy;
      this.sched.idleEnter = (k, cpu) => (s.idleEnter as NonNullable<Strategy['idleEnter']>)(k as TlbOps, cpu);
    }
  }

  /** A new address space (mm_alloc + init_new_context). */
  createMm(name: string, nPages: number): Mm {
    if (!(nPages >= 0 && nPages <= MAX_MM_PAGES)) throw new ConfigError(`mm ${name}: ${nPages} pages is out of range [0, ${MAX_MM_PAGES}]`);
    const id = this.mms.length;
    const ptl = new Spinlock(`${name}.page_table_lock`, this.memory, this.engine, this.mmStats.group(`${name}_ptl`));
    // ctx_id: init_mm's is 1 and new ones count up from last_mm_ctx_id (arch/x86/mm/tlb.c).
    const mm = new Mm(id, name, nPages, id + 1, this.memory, this.topology.nCpus, ptl);
    this.mms.push(mm);
    return mm;
  }
}
