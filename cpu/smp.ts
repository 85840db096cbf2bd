import { ProbePoint } from '../lib/probe';
import type { Engine } from '../lib/engine/engine';
import type { Sim } from '../lib/engine/ops';
import type { Counter } from '../lib/stats/counter';
import type { StatGroup } from '../lib/stats/group';
import type { Histogram } from '../lib/stats/histogram';
import type { SimMemory } from '../mem/memory';
import type { Cpu } from './cpu';
import type { CpuSystem } from './cpu-system';
import { Cpumask } from './cpumask';
import type { KernelOps } from './kernel-ops';
import { VEC_CALL_FUNCTION, VEC_CALL_FUNCTION_SINGLE } from './vectors';

// CSD flag bits (include/linux/smp_types.h, v5.10+).
export const CSD_FLAG_LOCK = 0x01;
export const CSD_TYPE_ASYNC = 0x00;
export const CSD_TYPE_SYNC = 0x10;
export const CSD_TYPE_MASK = 0xf0;

// struct __call_single_data on 64-bit: { node: { llist.next, u_flags }, func, info } = 32 bytes,
// and call_single_data_t is __aligned(sizeof(struct __call_single_data)): two CSDs per line.
export const CSD_BYTES = 32;
export const CSD_NEXT = 0;
export const CSD_FLAGS = 8;
export const CSD_FUNC = 16;
export const CSD_INFO = 24;

/** A function run by smp_call_function (`smp_call_func_t`): simulated code on `cpu`. */
export type SmpFunc = (cpu: Cpu, info: number) => Sim;
/** `smp_cond_func_t`, evaluated by the initiator for `target` (reads remote per-CPU data). */
export type SmpCond = (k: KernelOps, cpu: Cpu, target: number) => Sim<boolean>;
/** 'serial': the local call, then the remote ones (Linux <= 5.12, flush_tlb_mm_range);
 *  'concurrent': queue and send, run locally while the IPIs fly, then wait (5.13+, SCF_RUN_LOCAL). */
export type CallOrder = 'serial' | 'concurrent';

/** What Smp needs of a machine; a `CpuMachine` is one. */
export interface SmpMachine {
  readonly engine: Engine;
  readonly k: KernelOps;
  readonly memory: SimMemory;
  readonly cpu: CpuSystem;
}

/**
 * smp_call_function on simulated memory, as kernel/smp.c has it since v4.x's llist rewrite
 * (checked against v5.10 and v6.x):
 * - per CPU, `call_single_queue` (DEFINE_PER_CPU_SHARED_ALIGNED llist_head: a line of its own);
 * - per CPU, `cfd_data` (DEFINE_PER_CPU_ALIGNED call_function_data): the `cpumask` and
 *   `cpumask_ipi` scratch masks embedded (CPUMASK_OFFSTACK=n), and `csd =
 *   alloc_percpu(call_single_data_t)`: initiator i's CSD for target t lives in t's per-CPU area,
 *   where the CSDs of initiators i and i^1 are adjacent 32-byte objects sharing one line.
 * Every cost comes from the memory and CPU operations; nothing is charged by hand.
 */
export class Smp {
  private readonly engine: Engine;
  private readonly k: KernelOps;
  private readonly nCpus: number;
  private readonly queues: number[];
  /** csds[target * nCpus + initiator]: the CSD's address. */
  private readonly csds: number[];
  private readonly masks: Cpumask[];
  private readonly ipiMasks: Cpumask[];
  /** Every CSD queued: (initiator, target). The TLB layer's flush accounting listens. */
  readonly csdQueued: ProbePoint<number, number>;
  private readonly funcs: Array<SmpFunc | null>;
  private readonly funcNames: string[];
  private readonly csdQueueRmws: Counter;
  private readonly ipisSkipped: Counter;
  private readonly calls: Counter;
  private readonly initiatorWaitCycles: Histogram;
  private readonly handlerCycles: Histogram;

  constructor(machine: SmpMachine, stats: StatGroup) {
    const { memory, cpu: sys } = machine;
    this.engine = machine.engine;
    this.k = machine.k;
    const n = sys.cpus.length;
    this.nCpus = n;
    this.queues = [];
    for (let c = 0; c < n; c++) this.queues.push(memory.allocLines(`call_single_queue[${c}]`));
    this.csds = [];
    for (let t = 0; t < n; t++) {
      for (let i = 0; i < n; i++) this.csds.push(memory.alloc(`cfd_data[${i}].csd@cpu${t}`, CSD_BYTES, CSD_BYTES));
    }
    // cfd_data: { csd pointer (8 bytes), cpumask_t cpumask, cpumask_t cpumask_ipi } (unsigned longs).
    const maskBytes = Math.ceil(n / 64) * 8;
    this.masks = [];
    this.ipiMasks = [];
    for (let c = 0; c < n; c++) {
      const cfd = memory.allocLines(`cfd_data[${c}]`, Math.ceil((8 + 2 * maskBytes) / 64));
      this.masks.push(new Cpumask(memory, `cfd_data[${c}].cpumask`, n, cfd + 8));
      this.ipiMasks.push(new Cpumask(memory, `cfd_data[${c}].cpumask_ipi`, n, cfd + 8 + maskBytes));
    }
    this.csdQueued = new ProbePoint('smp.csdQueued');
    this.funcs = [null]; // id 0 is NULL
    this.funcNames = ['NULL'];
    this.csdQueueRmws = stats.counter('csdQueueRmws', 'locked RMWs (llist_add cmpxchg, llist_del_all xchg) on call_single_queue heads');
    this.ipisSkipped = stats.counter('ipisSkipped', 'CSDs queued on a non-empty call_single_queue, so no IPI was sent');
    this.calls = stats.counter('calls', 'smp_call_function_many invocations');
    this.initiatorWaitCycles = stats.histogram('initiatorWaitCycles', 'cycles from the end of the IPI sends to the end of the csd_lock_wait loop');
    this.handlerCycles = stats.histogram('handlerCycles', 'cycles of each function run from the IPI handler');
    for (const v of [VEC_CALL_FUNCTION, VEC_CALL_FUNCTION_SINGLE]) {
      if (sys.handlers[v] !== null) throw new Error(`vector ${v} already has a handler`);
      // sysvec_call_function / sysvec_call_function_single: both flush the same queue.
      sys.handlers[v] = (cpu: Cpu) => this.flushQueue(cpu);
    }
  }

  /** Registers a function; its id is what CSDs hold in simulated memory (`csd->func`). */
  register(name: string, fn: SmpFunc): number {
    this.funcs.push(fn);
    this.funcNames.push(name);
    return this.funcs.length - 1;
  }

  funcName(id: number): string {
    return this.funcNames[id] ?? `?${id}`;
  }

  /** Address of `per_cpu(call_single_queue, cpu).first`. */
  queueAddr(cpu: number): number {
    return this.queues[cpu];
  }

  /** Address of `per_cpu_ptr(per_cpu(cfd_data, initiator).csd, target)`. */
  csdAddr(initiator: number, target: number): number {
    return this.csds[target * this.nCpus + initiator];
  }

  /** `per_cpu(cfd_data, cpu).cpumask` (the initiator's target scratch mask). */
  cfdMask(cpu: number): Cpumask {
    return this.masks[cpu];
  }

  /** `per_cpu(cfd_data, cpu).cpumask_ipi`. */
  cfdIpiMask(cpu: number): Cpumask {
    return this.ipiMasks[cpu];
  }

  /**
   * smp_call_function_many_cond (v5.10; v5.13+ with SCF_RUN_LOCAL when `runLocal`): run
   * `funcId(info)` on every CPU of `mask`, on this one too if `runLocal`. Call with interrupts
   * enabled: the csd_lock_wait spins take interrupts, which is what keeps CPUs calling each other
   * from deadlocking.
   */
  *smpCallFunctionMany(k: KernelOps, cpu: Cpu, mask: Cpumask, funcId: number, info: number, wait: boolean, order: CallOrder, runLocal: boolean): Sim {
    const self = cpu.id;
    this.calls.value++;
    yield k.preemptAdd(1); // get_cpu()
    let local = false;
    if (order === 'serial' && runLocal && (yield* mask.testBit(k, self))) {
      local = true;
      yield* this.runLocal(k, cpu, funcId, info);
    }
    // cpumask_and(cfd->cpumask, mask, cpu_online_mask): the caller's mask (mm_cpumask, say) is
    // read with loads; __cpumask_clear_cpu(this_cpu, cfd->cpumask). The initiator's own scratch
    // masks are written and re-read functionally (private lines, L1 hits).
    const inMask = yield* mask.loadCpus(k);
    if (order === 'concurrent') local = runLocal && inMask.includes(self);
    const targets = inMask.filter((c) => c !== self);
    const cfdMask = this.masks[self];
    const ipiMask = this.ipiMasks[self];
    cfdMask.assign(targets);
    ipiMask.clearAll();
    let nIpi = 0;
    let last = -1;
    for (const t of targets) {
      const csd = this.csdAddr(self, t);
      // csd_lock(): csd_lock_wait (an earlier async call may still hold it), then u_flags |= LOCK.
      yield k.spinUntilEq(csd + CSD_FLAGS, 0, CSD_FLAG_LOCK);
      yield k.store(csd + CSD_FLAGS, CSD_FLAG_LOCK);
      if (wait) yield k.store(csd + CSD_FLAGS, CSD_FLAG_LOCK | CSD_TYPE_SYNC);
      yield k.store(csd + CSD_FUNC, funcId);
      yield k.store(csd + CSD_INFO, info);
      this.csdQueued.notify(self, t);
      // Kick the remote CPU only if this is the first work item on its queue.
      if (yield* this.llistAdd(k, csd + CSD_NEXT, this.queues[t])) {
        ipiMask.set(t); // __cpumask_set_cpu(cpu, cfd->cpumask_ipi)
        nIpi++;
        last = t;
      } else {
        this.ipisSkipped.value++;
      }
    }
    // v5.13+: one target → send_call_function_single_ipi, several → the mask send.
    if (nIpi === 1) yield k.sendIpi(last, VEC_CALL_FUNCTION_SINGLE);
    else if (nIpi > 1) yield k.sendIpiMask(ipiMask.addr, VEC_CALL_FUNCTION);
    const sentAt = this.engine.now;
    if (order === 'concurrent' && local) yield* this.runLocal(k, cpu, funcId, info);
    if (wait && targets.length > 0) {
      for (const t of targets) yield k.spinUntilEq(this.csdAddr(self, t) + CSD_FLAGS, 0, CSD_FLAG_LOCK); // csd_lock_wait
      this.initiatorWaitCycles.record(this.engine.now - sentAt);
    }
    yield k.preemptAdd(-1); // put_cpu()
  }

  /**
   * smp_call_function_single_async(cpu, csd) (v5.x): queue a caller-owned CSD at `csd` to run
   * `funcId(info)` on `target`, and kick it if its queue was empty. It never waits: a CSD still
   * locked (an earlier call not yet run) returns false (-EBUSY), which is why it may be called
   * with interrupts off. The CSD is ASYNC, so the target releases it before the call.
   */
  *callFunctionSingleAsync(k: KernelOps, cpu: Cpu, target: number, csd: number, funcId: number, info: number): Sim<boolean> {
    if (((yield k.load(csd + CSD_FLAGS)) & CSD_FLAG_LOCK) !== 0) return false;
    yield k.store(csd + CSD_FLAGS, CSD_FLAG_LOCK);
    yield k.store(csd + CSD_FUNC, funcId);
    yield k.store(csd + CSD_INFO, info);
    this.csdQueued.notify(cpu.id, target);
    if (yield* this.llistAdd(k, csd + CSD_NEXT, this.queues[target])) yield k.sendIpi(target, VEC_CALL_FUNCTION_SINGLE);
    else this.ipisSkipped.value++;
    return true;
  }

  /**
   * on_each_cpu_cond_mask (v4.x–5.2 form): evaluate `cond` for every CPU of `mask` (this one
   * included) on the initiator, collect the CPUs where it holds in the per-CPU scratch
   * `cfd->cpumask`, then call them (and this CPU, if its condition held).
   */
  *onEachCpuCondMask(k: KernelOps, cpu: Cpu, cond: SmpCond, funcId: number, info: number, wait: boolean, mask: Cpumask, order: CallOrder): Sim {
    yield k.preemptAdd(1); // get_cpu()
    const chosen: number[] = [];
    for (const c of yield* mask.loadCpus(k)) if (yield* cond(k, cpu, c)) chosen.push(c);
    const cpus = this.masks[cpu.id];
    cpus.assign(chosen);
    yield* this.smpCallFunctionMany(k, cpu, cpus, funcId, info, wait, order, true);
    yield k.preemptAdd(-1); // put_cpu()
  }

  /**
   * llist_add (llist_add_batch, lib/llist.c): `first = READ_ONCE(head->first); do { node->next =
   * first; } while (!try_cmpxchg(&head->first, &first, node))` → true if the list was empty.
   */
  private *llistAdd(k: KernelOps, node: number, head: number): Sim<boolean> {
    let first = yield k.load(head);
    for (;;) {
      yield k.store(node + CSD_NEXT, first);
      const old = yield k.cmpxchg(head, first, node);
      this.csdQueueRmws.value++;
      if (old === first) return first === 0;
      first = old;
    }
  }

  /** The local call: local_irq_save(); func(info); local_irq_restore(). */
  private *runLocal(k: KernelOps, cpu: Cpu, funcId: number, info: number): Sim {
    const wasOn = cpu.irqsOn;
    if (wasOn) yield k.irqDisable();
    yield* this.lookup(funcId)(cpu, info);
    if (wasOn) yield k.irqEnable();
  }

  /**
   * flush_smp_call_function_queue (v5.10; __flush_smp_call_function_queue in v5.19+), the
   * CALL_FUNCTION and CALL_FUNCTION_SINGLE handler: take the whole queue, restore FIFO order,
   * run the SYNC callbacks (unlocking after each), then the ASYNC ones (unlocking before).
   */
  private *flushQueue(cpu: Cpu): Sim {
    const k = this.k;
    // llist_del_all: xchg(&head->first, NULL).
    let node = yield k.xchg(this.queues[cpu.id], 0);
    this.csdQueueRmws.value++;
    // llist_reverse_order: rewrites every node's next pointer.
    let entry = 0;
    while (node !== 0) {
      const next = yield k.load(node + CSD_NEXT);
      yield k.store(node + CSD_NEXT, entry);
      entry = node;
      node = next;
    }
    // First: SYNC callbacks, "people are waiting for us" (llist_for_each_entry_safe).
    let prev = 0;
    for (let csd = entry; csd !== 0;) {
      const next = yield k.load(csd + CSD_NEXT);
      const type = (yield k.load(csd + CSD_FLAGS)) & CSD_TYPE_MASK;
      if (type === CSD_TYPE_SYNC) {
        const func = yield k.load(csd + CSD_FUNC);
        const info = yield k.load(csd + CSD_INFO);
        if (prev !== 0) yield k.store(prev + CSD_NEXT, next);
        else entry = next;
        yield* this.runHandled(cpu, func, info);
        yield* this.csdUnlock(k, csd);
      } else {
        prev = csd;
      }
      csd = next;
    }
    // Second: ASYNC callbacks; the CSD is released before the call, so it may be reused at once.
    // (No TTWU or IRQ_WORK entries are modelled, so none stays behind and `prev` stays NULL.)
    for (let csd = entry; csd !== 0;) {
      const next = yield k.load(csd + CSD_NEXT);
      yield k.load(csd + CSD_FLAGS); // CSD_TYPE(csd)
      const func = yield k.load(csd + CSD_FUNC);
      const info = yield k.load(csd + CSD_INFO);
      yield* this.csdUnlock(k, csd);
      yield* this.runHandled(cpu, func, info);
      csd = next;
    }
  }

  /** csd_unlock: WARN_ON(!(flags & CSD_FLAG_LOCK)); smp_store_release(&flags, 0) (a store on x86). */
  private *csdUnlock(k: KernelOps, csd: number): Sim {
    const flags = yield k.load(csd + CSD_FLAGS);
    if ((flags & CSD_FLAG_LOCK) === 0) throw new Error(`csd_unlock of an unlocked CSD at 0x${csd.toString(16)}`);
    yield k.store(csd + CSD_FLAGS, 0);
  }

  private *runHandled(cpu: Cpu, funcId: number, info: number): Sim {
    const start = this.engine.now;
    yield* this.lookup(funcId)(cpu, info);
    this.handlerCycles.record(this.engine.now - start);
  }

  private lookup(funcId: number): SmpFunc {
    const fn = this.funcs[funcId];
    if (fn === null || fn === undefined) throw new Error(`smp: no function with id ${funcId}`);
    return fn;
  }
}
