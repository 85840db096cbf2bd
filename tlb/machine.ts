import { ConfigError } from '../lib/errors';
import { ProbePoint } from '../lib/probe';
import { CpuMachine, type CpuMachineOptions } from '../cpu/machine';
import { Scheduler, type SchedOptions } from '../cpu/sched';
import { Smp } from '../cpu/smp';
import { FlushStats } from './check/flush-stats';
import { FreedMmCheck } from './check/freed-mm';
import { LazyMmRefcount } from './mm/lazy-ref';
import { DEFAULT_LRU, LRU_MODES, Lru } from './mm/lru';
import { DEFAULT_SPINLOCK, Qspinlocks, SPINLOCK_KINDS } from '../cpu/qspinlock';
import { Mapping } from './mm/mapping';
import type { Mm } from './mm/mm';
import { MmLifecycle } from './mm/mm-lifecycle';
import { Processes } from './mm/process';
import { Oracle } from './check/oracle';
import { DEFAULT_MM_REFCOUNT, MM_REFCOUNT_MODES, type Strategy, type StrategyContext, type StrategyOptions } from './strategies/strategy';
import { TlbOps } from './hw/tlb-ops';
import { TlbUnit } from './hw/tlb-unit';
import { TlbTranslation } from './hw/mmu';
import { KvmPvFlush } from './strategies/pv-flush';

export interface TlbMachineOptions extends Omit<CpuMachineOptions, 'ops'> {
  strategy: Strategy;
  /** Orthogonal switches; PCID defaults to the machine's `pcid`, the ceiling to `flushCeiling`. */
  strategyOptions?: Partial<StrategyOptions>;
  sched?: Omit<SchedOptions, 'mmSwitch' | 'translation'>;
  /** Extra IPI delivery jitter, 0..max cycles (exploration). */
  ipiJitterMax?: number;
}

/**
 * A whole simulated machine: memory, CPUs, scheduler, smp_call_function, TLBs and page tables,
 * one lazy-TLB strategy plugged into context switches and flushes, and the oracle watching it.
 */
export class TlbMachine extends CpuMachine {
  declare readonly k: TlbOps;
  readonly unit: TlbUnit;
  readonly oracle: Oracle;
  readonly smp: Smp;
  readonly sched: Scheduler<TlbOps>;
  readonly strategy: Strategy;
  readonly strategyOptions: StrategyOptions;
  readonly mapping: Mapping;
  readonly translation: TlbTranslation;
  readonly flushStats: FlushStats;
  /** A flush on `from` left its invalidation for `to` in memory (StrategyContext.flushPosted). */
  readonly flushPosted: ProbePoint<number, number>;
  readonly initMm: Mm;
  /** Every mm_struct ever created, by id (freed ones are reused for new mms). */
  readonly mms: Mm[];
  readonly mmLifecycle: MmLifecycle;
  /** fork/vfork/clone, execve and exit, as they act on address spaces. */
  readonly procs: Processes;

  constructor(options: TlbMachineOptions) {
    super({ ...options, ops: new TlbOps() });
    const p = this.config.params;
    const so: StrategyOptions = {
      pcid: p.pcid === 1,
      flushCeiling: p.flushCeiling,
      idleLeaveMm: false,
      mmRefcount: DEFAULT_MM_REFCOUNT,
      lru: DEFAULT_LRU,
      spinlock: DEFAULT_SPINLOCK,
      pvFlush: false,
      ...options.strategyOptions,
    };
    if (!(MM_REFCOUNT_MODES as readonly string[]).includes(so.mmRefcount)) {
      throw new ConfigError(`strategy option mmRefcount = '${String(so.mmRefcount)}': expected one of ${MM_REFCOUNT_MODES.join(', ')}`);
    }
    if (!(LRU_MODES as readonly string[]).includes(so.lru)) throw new ConfigError(`strategy option lru = '${String(so.lru)}': expected one of ${LRU_MODES.join(', ')}`);
    if (!(SPINLOCK_KINDS as readonly string[]).includes(so.spinlock)) {
      throw new ConfigError(`strategy option spinlock = '${String(so.spinlock)}': expected one of ${SPINLOCK_KINDS.join(', ')}`);
    }
    // Before anything runs: every spinlock of the machine takes its flavour from the ops at lock time.
    if (so.spinlock === 'queued') this.k.qspinlock = new Qspinlocks(this.memory, this.topology.nCpus, this.stats.group('qspinlock'));
    if (so.pcid && p.pcid !== 1) throw new ConfigError(`strategy option pcid needs a machine with pcid=1`);
    if (so.pvFlush && this.host === null) throw new ConfigError('strategy option pvFlush needs a KVM guest: set --param hostPreemptsPerS above 0');
    so.pcid = so.pcid && options.strategy.supportsPcid;
    this.strategyOptions = so;
    this.unit = new TlbUnit(this.engine, this.cpu, { ...p, pcid: so.pcid ? 1 : 0 }, this.cpu.cpus.map((c) => c.stats));
    // A CPU mid-switch, or a vCPU the host has descheduled, is judged on freed tables once it runs again.
    const cpus = this.cpu.cpus;
    this.oracle = new Oracle(this.unit, this.stats.group('violations'), (cpu) => this.sched.inMmSwitch[cpu] === 1 || cpus[cpu].frozen !== null, options.strategy.lazyCoverage === true ? this.memory : null);
    this.smp = new Smp(this, this.stats.group('smp'));
    this.translation = new TlbTranslation(this.unit, this.oracle, p, () => this.engine.now, this.mem.overlapLatency);
    this.strategy = options.strategy;
    this.sched = new Scheduler<TlbOps>(this, { ...options.sched, mmSwitch: this.strategy, translation: this.translation });
    this.sched.mmSwitched.attach((cpu) => this.oracle.afterMmSwitch(cpu, this.engine.now));
    this.flushStats = new FlushStats(this.unit, this.sched, this.stats.group('flushes'), this.stats.group('ipis'));
    this.cpu.apic.ipiSent.attach((from) => this.flushStats.onIpi(from));
    this.smp.csdQueued.attach((from, to) => this.flushStats.onQueue(from, to));
    this.flushPosted = new ProbePoint('tlb.flushPosted');
    this.flushPosted.attach((from, to) => this.flushStats.onPosted(from, to));
    if (options.ipiJitterMax !== undefined && options.ipiJitterMax > 0) {
      this.cpu.apic.setJitter(this.rng.stream('apic.jitter'), options.ipiJitterMax);
    }
    this.mapping = new Mapping(this.engine, this.unit, this.oracle, this.flushStats, this.strategy, p);
    this.translation.cowBreak = (k, cpu, _task, mm, vpn) => this.mapping.cowBreak(k, cpu, mm, vpn);
    if (so.lru !== 'none') {
      const nodeOf = Int32Array.from({ length: this.topology.nCpus }, (_, c) => this.topology.socketOf(c));
      const lru = new Lru(so.lru, this.memory, this.engine, nodeOf, this.topology.nSockets, this.stats.group('lru'));
      this.mapping.lru = lru;
      this.translation.lru = lru;
    }
    this.mmLifecycle = new MmLifecycle(this.memory, this.engine, this.topology.nCpus, this.strategy, this.stats.group('mm'), so.mmRefcount !== 'none');
    this.mms = this.mmLifecycle.all;
    this.initMm = this.mmLifecycle.create('init_mm', 0);
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
      postedLazily: (cpu: number) => this.oracle.postedLazily(cpu),
      flushPosted: this.flushPosted,
      pvFlush: this.attachHost(so.pvFlush),
    };
    this.strategy.attach(ctx);
    this.attachPolls(this.strategy);
    this.mmLifecycle.boot(this.initMm, this.sched);
    if (so.mmRefcount !== 'none') {
      const ref = new LazyMmRefcount(so.mmRefcount, { smp: this.smp, sched: this.sched, strategy: this.strategy, initMm: this.initMm, mmById: ctx.mmById }, this.stats.group('lazyMm'));
      this.sched.lazyRef = ref;
      this.mmLifecycle.lazyRef = ref;
    }
    new FreedMmCheck(this.oracle, this.unit, this.mmLifecycle, this.sched, ctx.mmById, ctx.now);
    this.procs = new Processes(this, this.stats.group('procs'));
  }

  /**
   * Under a host model: the guest TLB flush the host runs before VM entry, the freed-table checks
   * postponed while a vCPU was descheduled, and, with `pvFlush`, the guest's PV flush filter.
   */
  private attachHost(pvFlush: boolean): KvmPvFlush | null {
    const host = this.host;
    if (host === null) return null;
    host.guestFlush.attach((cpu) => this.unit.tlbs[cpu].flushVpid(this.engine.now));
    // A vCPU frozen in the middle of switch_mm is judged when its switch completes, as always.
    host.stolen.attach((cpu) => {
      if (this.sched.inMmSwitch[cpu] === 0) this.oracle.afterMmSwitch(cpu, this.engine.now);
    });
    return pvFlush ? new KvmPvFlush(this.memory, host, this.topology.nCpus, this.stats.group('kvm').group('pv')) : null;
  }

  /** The strategy's optional poll points and reuse gate, as listeners of the scheduler's probes and the fault path's gate. */
  private attachPolls(s: Strategy): void {
    const k = this.k;
    if (s.tickPoll !== undefined) {
      const poll = s.tickPoll.bind(s);
      this.sched.tickPoll.attach((cpu) => poll(k, cpu));
    }
    if (s.schedulePoll !== undefined) {
      const poll = s.schedulePoll.bind(s);
      this.sched.schedulePoll.attach((cpu) => poll(k, cpu));
    }
    if (s.beforeReuse !== undefined) {
      const gate = s.beforeReuse.bind(s);
      const cpus = this.cpu.cpus;
      this.translation.reuseGate = (k2, c, mm, vpn) => gate(k2, cpus[c], mm, vpn, vpn + 1);
    }
  }

  /** A new address space (mm_alloc + init_new_context), on a freed mm_struct of its size if there is one. */
  createMm(name: string, nPages: number): Mm {
    return this.mmLifecycle.create(name, nPages);
  }
}
