import type { Engine, OpExecutor, StepGate } from '../lib/engine/engine';
import type { Ops, Sim } from '../lib/engine/ops';
import { OP_NAMES, OP_SPIN, OP_SPIN_ANY } from '../lib/engine/ops';
import { PROC_BLOCKED, PROC_DONE, type Process } from '../lib/engine/process';
import type { Topology } from '../lib/machine/topology';
import type { StatGroup } from '../lib/stats/group';
import { WORD_SHIFT } from '../mem/memory';
import type { MemorySystem } from '../mem/memory-system';
import { Apic, type ApicParams } from './apic';
import { Cpu, K_BOUNDARY, K_COMPUTE, K_HALT, K_RETRY, K_SWITCHED } from './cpu';
import {
  KERNEL_OP_NAMES, OP_COMPUTE, OP_HALT, OP_IRQ_DISABLE, OP_IRQ_ENABLE, OP_IRQ_RETURN, OP_IRQ_WAIT, OP_PREEMPT_ADD,
  OP_SEND_IPI, OP_SEND_IPI_MASK, OP_SWITCH_TO, OP_VM_ENTER, OP_VM_EXIT, type KernelOps,
} from './kernel-ops';
import { NR_VECTORS } from './vectors';

export interface CpuParams extends ApicParams {
  irqEntryExit: number;
  idleWakeup: number;
}

/** A handler for one vector, run in the interrupt context of `cpu`. */
export type IrqHandler = (cpu: Cpu) => Sim;

/**
 * The CPUs of a machine: executes the CPU layer's operations, passes memory operations to the
 * memory system, and takes interrupts. An interrupt is taken when its CPU has interrupts enabled
 * and is not already in an interrupt: at once if the CPU is halted, computing or spinning (all
 * interruptible), otherwise at the current context's next instruction boundary (the engine's
 * step gate). Taking one suspends the context, charges half of `irqEntryExit`, and runs the
 * CPU's interrupt context, which runs the handlers and IRETs (the other half).
 */
export class CpuSystem implements OpExecutor, StepGate {
  readonly cpus: Cpu[];
  readonly apic: Apic;
  readonly mem: MemorySystem;
  /** Handlers by vector index; the scheduler and smp_call_function install theirs. */
  readonly handlers: Array<IrqHandler | null>;
  /** Called by the interrupt context before IRET: may preempt (switch away) and return true. */
  irqExitHook: ((cpu: Cpu) => Sim<boolean>) | null;
  private readonly engine: Engine;
  private readonly k: KernelOps;
  private readonly params: CpuParams;
  private readonly nCpus: number;
  private readonly hCompute: number;
  private readonly hRetry: number;
  private readonly irqEntry: number;
  private readonly irqExit: number;

  constructor(engine: Engine, topology: Topology, params: CpuParams, mem: MemorySystem, stats: StatGroup) {
    this.engine = engine;
    this.k = engine.ops as KernelOps;
    this.params = params;
    this.mem = mem;
    this.nCpus = topology.nCpus;
    this.cpus = [];
    for (let c = 0; c < topology.nCpus; c++) this.cpus.push(new Cpu(c, stats.group(`cpu${c}`)));
    this.apic = new Apic(engine, topology, params, stats.group('apic'), this.cpus.map((c) => c.stats), (cpu, v) => this.raise(cpu, v));
    this.handlers = new Array<IrqHandler | null>(NR_VECTORS).fill(null);
    this.irqExitHook = null;
    const self = this;
    this.hCompute = engine.registerHandler({ onEvent: (pid: number) => self.computeDone(engine.processes[pid]) });
    this.hRetry = engine.registerHandler({ onEvent: (pid: number) => self.retrySpin(engine.processes[pid]) });
    // [E] entry and exit each take half of the profile's entry+exit cost.
    this.irqEntry = Math.floor(params.irqEntryExit / 2);
    this.irqExit = params.irqEntryExit - this.irqEntry;
    engine.setExecutor(this);
    engine.setStepGate(this);
  }

  /** Starts a CPU: its interrupt context, and `first` (usually its idle task) as the running context. */
  boot(cpu: number, first: Process): void {
    const c = this.cpus[cpu];
    c.irqProc = this.engine.spawn(`${c.name}/irq`, cpu, irqContext(this, this.k, c), this.engine.now, true);
    c.current = first;
    this.engine.resume(first, this.engine.now, 0);
  }

  execute(p: Process, ops: Ops): void {
    const op = ops.op;
    if (op < OP_IRQ_DISABLE) {
      this.mem.execute(p, ops);
      return;
    }
    const now = this.engine.now;
    const cpu = this.cpus[p.cpu];
    switch (op) {
      case OP_IRQ_DISABLE:
        if (cpu.irqsOffSince < 0) cpu.irqsOffSince = now;
        cpu.irqsOn = false;
        this.engine.resume(p, now + 1, 0);
        return;
      case OP_IRQ_ENABLE:
        cpu.irqsOn = true;
        cpu.irqsOffSince = -1;
        if (cpu.pending !== 0 && !cpu.inIrq) {
          p.retVal = 0;
          this.engine.block(p);
          this.takeInterrupt(cpu, p, K_BOUNDARY, now + 1);
        } else {
          this.engine.resume(p, now + 1, 0);
        }
        return;
      case OP_PREEMPT_ADD:
        cpu.preemptCount += ops.a;
        this.engine.resume(p, now + 1, 0);
        return;
      case OP_COMPUTE:
        p.op = op;
        this.engine.block(p);
        this.startCompute(p, now, ops.a);
        return;
      case OP_SEND_IPI:
        this.apic.send(p.cpu, ops.a, ops.b, now, 0);
        this.engine.resume(p, now + this.apic.sendCost(1), 0);
        return;
      case OP_SEND_IPI_MASK:
        this.engine.resume(p, now + this.sendMask(p.cpu, ops.a, ops.b, now), 0);
        return;
      case OP_HALT:
        // STI; HLT: the pair is atomic, so a wake-up arriving after the idle loop's last
        // need_resched check is never lost.
        p.op = op;
        cpu.irqsOn = true;
        cpu.irqsOffSince = -1;
        this.engine.block(p);
        if (cpu.pending !== 0 && !cpu.inIrq) {
          this.takeInterrupt(cpu, p, K_HALT, now);
        } else {
          cpu.halted = true;
          cpu.haltSince = now;
        }
        return;
      case OP_SWITCH_TO:
        this.switchTo(cpu, p, this.engine.processes[ops.a]);
        if (ops.b === 1) this.engine.finish(p);
        return;
      case OP_IRQ_WAIT:
        p.op = op;
        this.engine.block(p);
        return;
      case OP_IRQ_RETURN:
        p.op = op;
        this.engine.block(p);
        this.irqReturn(cpu, p, now);
        return;
      case OP_VM_EXIT:
        p.op = op;
        this.engine.block(p);
        this.vmExit(cpu, p, now);
        return;
      case OP_VM_ENTER:
        this.vmEnter(cpu, now);
        this.engine.resume(p, now, 0);
        return;
      default:
        throw new Error(`CPU layer cannot execute operation ${op}`);
    }
  }

  /** An interrupt vector arrives at a CPU (APIC delivery, or its own timer). */
  raise(cpuId: number, vector: number): void {
    const cpu = this.cpus[cpuId];
    cpu.pending |= 1 << vector;
    if (cpu.frozen !== null) return; // a posted interrupt: delivered at VM entry
    if (!cpu.irqsOn || cpu.inIrq) return; // taken at the next enable, or before the IRET
    const p = cpu.current;
    if (p === null || p.state !== PROC_BLOCKED) return; // taken at its next instruction boundary
    const now = this.engine.now;
    const at = now > cpu.returnAt ? now : cpu.returnAt;
    if (p.op === OP_HALT) {
      cpu.halted = false;
      cpu.idleCycles.value += at - cpu.haltSince;
      this.takeInterrupt(cpu, p, K_HALT, at + this.params.idleWakeup);
    } else if (p.op === OP_COMPUTE) {
      p.stale++;
      p.remaining = p.computeEnd - (at > p.waitSince ? at : p.waitSince);
      this.takeInterrupt(cpu, p, K_COMPUTE, at);
    } else if (p.op === OP_SPIN || p.op === OP_SPIN_ANY) {
      if (p.spinLine === -1) p.stale++; // its restart was scheduled: cancel it
      else this.mem.unpark(p);
      this.takeInterrupt(cpu, p, K_RETRY, at);
    }
    // Otherwise a memory operation is in flight: the step gate takes the interrupt after it.
  }

  /** The engine's step gate: a context about to execute its next instruction takes a pending interrupt first. */
  beforeStep(p: Process): boolean {
    if (p.cpu >= this.nCpus) return false;
    const cpu = this.cpus[p.cpu];
    if (cpu.exitRequested && cpu.current === p && cpu.atBoundary()) {
      p.state = PROC_BLOCKED;
      this.freeze(cpu, p, K_BOUNDARY, this.engine.now);
      return true;
    }
    if (cpu.pending === 0 || !cpu.irqsOn || cpu.inIrq || cpu.current !== p) return false;
    p.state = PROC_BLOCKED;
    this.takeInterrupt(cpu, p, K_BOUNDARY, this.engine.now);
    return true;
  }

  /**
   * The host deschedules the vCPU (`host`: its host context): a VM exit at the guest context's
   * next instruction boundary, whatever IF says. A compute burst or a spin is cut at once, as an
   * interrupt cuts it; a step in flight, or a user access (one instruction), first finishes, and
   * the step gate freezes the context before its next one. A vCPU blocked in HLT is not
   * preempted (kvm_sched_out marks only a runnable vCPU): the host context goes on with 0.
   */
  private vmExit(cpu: Cpu, host: Process, now: number): void {
    const g = cpu.current;
    if (g === null || (g.state === PROC_BLOCKED && g.op === OP_HALT)) {
      this.engine.resume(host, now, 0);
      return;
    }
    cpu.host = host;
    if (g.state === PROC_BLOCKED && cpu.atBoundary() && g.op === OP_COMPUTE) {
      g.stale++;
      g.remaining = g.computeEnd - (now > g.waitSince ? now : g.waitSince);
      this.freeze(cpu, g, K_COMPUTE, now);
    } else if (g.state === PROC_BLOCKED && cpu.atBoundary() && (g.op === OP_SPIN || g.op === OP_SPIN_ANY)) {
      if (g.spinLine === -1) g.stale++; // its restart was scheduled: cancel it
      else this.mem.unpark(g);
      this.freeze(cpu, g, K_RETRY, now);
    } else {
      cpu.exitRequested = true;
    }
  }

  /** The guest context stops where it is; the host context goes on (with 1: preempted). */
  private freeze(cpu: Cpu, g: Process, kind: number, now: number): void {
    g.suspendKind = kind;
    cpu.frozen = g;
    cpu.exitRequested = false;
    const host = cpu.host as Process;
    cpu.host = null;
    this.engine.resume(host, now, 1);
  }

  /** VM entry: the frozen context continues; an interrupt posted meanwhile is taken first. */
  private vmEnter(cpu: Cpu, now: number): void {
    const g = cpu.frozen;
    if (g === null) throw new Error(`${cpu.name}: VM entry without a frozen guest context`);
    cpu.frozen = null;
    if (cpu.pending !== 0 && cpu.irqsOn && !cpu.inIrq) {
      this.takeInterrupt(cpu, g, g.suspendKind, now);
      return;
    }
    if (g.suspendKind === K_COMPUTE) this.startCompute(g, now, g.remaining);
    else if (g.suspendKind === K_RETRY) this.engine.schedule(now, this.hRetry, g.id);
    else this.engine.resume(g, now, g.retVal);
  }

  private takeInterrupt(cpu: Cpu, p: Process, kind: number, at: number): void {
    p.suspendKind = kind;
    cpu.interrupted = p;
    cpu.inIrq = true;
    cpu.irqsOn = false; // the CPU clears IF on interrupt entry
    cpu.irqsOffSince = at;
    const irq = cpu.irqProc as Process;
    cpu.current = irq;
    this.engine.resume(irq, at + this.irqEntry, 0);
  }

  private irqReturn(cpu: Cpu, irq: Process, now: number): void {
    if (cpu.pending !== 0) {
      // Another vector arrived while the handlers ran: IRET and re-enter at once.
      this.engine.resume(irq, now + this.irqExit + this.irqEntry, 0);
      return;
    }
    const back = cpu.interrupted as Process;
    cpu.interrupted = null;
    cpu.inIrq = false;
    this.handOver(cpu, back, now + this.irqExit);
  }

  /** The end of a context switch: `from` (a task, or the interrupt context after preempting one) gives the CPU to `to`. */
  private switchTo(cpu: Cpu, from: Process, to: Process): void {
    cpu.handingOver = false;
    this.engine.block(from);
    if (from === cpu.irqProc) {
      from.op = OP_IRQ_WAIT;
      cpu.interrupted = null;
      cpu.inIrq = false;
    } else {
      from.op = OP_SWITCH_TO;
      from.suspendKind = K_SWITCHED;
    }
    to.cpu = cpu.id;
    this.handOver(cpu, to, this.engine.now);
  }

  /** Gives the CPU to a suspended context at cycle `at`, with interrupts enabled, and continues it as it was suspended. */
  private handOver(cpu: Cpu, p: Process, at: number): void {
    cpu.current = p;
    cpu.irqsOn = true;
    cpu.irqsOffSince = -1;
    cpu.returnAt = at;
    switch (p.suspendKind) {
      case K_COMPUTE:
        this.startCompute(p, at, p.remaining);
        return;
      case K_RETRY:
        this.engine.schedule(at, this.hRetry, p.id);
        return;
      case K_BOUNDARY:
        this.engine.resume(p, at, p.retVal);
        return;
      default: // fresh, halted, switched: the pending operation returns
        this.engine.resume(p, at, 0);
    }
  }

  private startCompute(p: Process, start: number, cycles: number): void {
    p.waitSince = start;
    p.computeEnd = start + cycles;
    this.engine.schedule(p.computeEnd, this.hCompute, p.id);
  }

  private computeDone(p: Process): void {
    if (p.stale > 0) {
      p.stale--;
      return;
    }
    this.engine.continueNow(p, 0);
  }

  private retrySpin(p: Process): void {
    if (p.stale > 0) {
      p.stale--;
      return;
    }
    this.mem.retry(p);
  }

  /** Sends `vector` to every CPU in the cpumask at `maskAddr`; returns the sender's cycles. */
  private sendMask(from: number, maskAddr: number, vector: number, now: number): number {
    const values = this.mem.memory.values;
    let n = 0;
    for (let w = 0; w * 32 < this.nCpus; w++) {
      let bits = values[(maskAddr >>> WORD_SHIFT) + w] >>> 0;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        this.apic.send(from, w * 32 + b, vector, now, n++);
      }
    }
    return this.apic.sendCost(n);
  }

  describeWait(p: Process): string {
    if (p.cpu < this.nCpus && this.cpus[p.cpu].frozen === p) return 'frozen: the host has descheduled its vCPU';
    const name = KERNEL_OP_NAMES[p.op];
    if (name === undefined) return this.mem.describeWait(p);
    const cpu = this.cpus[p.cpu];
    if (p.op === OP_HALT) return `halted, waiting for an interrupt (pending 0x${cpu.pending.toString(16)})`;
    if (p.op === OP_IRQ_WAIT || p.op === OP_IRQ_RETURN) {
      const orphan = cpu.current !== null && cpu.current.state === PROC_DONE ? '; the CPU\'s context has ended, so nothing can take them' : '';
      return `interrupt context, waiting for an interrupt (pending 0x${cpu.pending.toString(16)}${orphan})`;
    }
    if (cpu.current !== p) return 'switched out';
    return `${name}${OP_NAMES[p.op] ?? ''}`;
  }
}

/** The interrupt context of one CPU: run the handlers of pending vectors, highest first, then IRET. */
function* irqContext(sys: CpuSystem, k: KernelOps, cpu: Cpu): Sim {
  yield k.irqWait();
  for (;;) {
    while (cpu.pending !== 0) {
      const v = 31 - Math.clz32(cpu.pending & -cpu.pending);
      cpu.pending &= ~(1 << v);
      cpu.irqsTaken[v].value++;
      const handler = sys.handlers[v];
      if (handler !== null) yield* handler(cpu);
    }
    // irq_exit: the scheduler may preempt the interrupted task instead of returning to it.
    if (sys.irqExitHook !== null && (yield* sys.irqExitHook(cpu))) continue;
    yield k.irqReturn();
  }
}
