import { OP_FIRST_EXTENSION, Ops } from '../lib/engine/ops';
import type { SimCall } from '../lib/engine/step-call';

/**
 * The CPU layer's instructions, on top of the memory ones: interrupt flag, preemption count,
 * interruptible compute, APIC sends, HLT, and the two hand-overs of a CPU between contexts
 * (the end of a context switch, the end of an interrupt).
 */
/** CLI / local_irq_disable(). */
export const OP_IRQ_DISABLE = OP_FIRST_EXTENSION;
/** STI / local_irq_enable(): a pending interrupt is taken right after it. */
export const OP_IRQ_ENABLE = OP_FIRST_EXTENSION + 1;
/** `a` cycles of work that interrupts can split (user code, long kernel loops). */
export const OP_COMPUTE = OP_FIRST_EXTENSION + 2;
/** One IPI: target CPU `a`, vector index `b`. */
export const OP_SEND_IPI = OP_FIRST_EXTENSION + 3;
/** IPIs to every CPU set in the cpumask at address `a` (nCpus bits in 32-bit words), vector `b`. */
export const OP_SEND_IPI_MASK = OP_FIRST_EXTENSION + 4;
/** STI; HLT (safe_halt): enable interrupts and wait for one, atomically. */
export const OP_HALT = OP_FIRST_EXTENSION + 5;
/** Hand the CPU to process `a` (the end of switch_to); this context waits until switched back
 *  in, or ends if `b` = 1 (the last switch of an exiting task). */
export const OP_SWITCH_TO = OP_FIRST_EXTENSION + 6;
/** IRET from the interrupt context to what it interrupted. */
export const OP_IRQ_RETURN = OP_FIRST_EXTENSION + 7;
/** The interrupt context's first wait for an interrupt. */
export const OP_IRQ_WAIT = OP_FIRST_EXTENSION + 8;
/** preempt_count += a (preempt_disable / preempt_enable). */
export const OP_PREEMPT_ADD = OP_FIRST_EXTENSION + 9;
/** The host deschedules this vCPU (cpu/host.ts): returns 1 once the guest context is frozen at an
 *  instruction boundary, 0 if the vCPU was halted (blocked in HLT, not preempted). */
export const OP_VM_EXIT = OP_FIRST_EXTENSION + 10;
/** VM entry: the frozen guest context continues. */
export const OP_VM_ENTER = OP_FIRST_EXTENSION + 11;

export const KERNEL_OP_NAMES: Readonly<Record<number, string>> = {
  [OP_IRQ_DISABLE]: 'irq disable',
  [OP_IRQ_ENABLE]: 'irq enable',
  [OP_COMPUTE]: 'compute',
  [OP_SEND_IPI]: 'send ipi',
  [OP_SEND_IPI_MASK]: 'send ipi mask',
  [OP_HALT]: 'halt',
  [OP_SWITCH_TO]: 'switch to',
  [OP_IRQ_RETURN]: 'irq return',
  [OP_IRQ_WAIT]: 'irq wait',
  [OP_PREEMPT_ADD]: 'preempt add',
  [OP_VM_EXIT]: 'vm exit',
  [OP_VM_ENTER]: 'vm enter',
};

/** What a spinlock's implementation sees of it (cpu/spinlock.ts): its word, its checker and counters. */
export interface LockWord {
  readonly name: string;
  /** The lock word's address (the ticket lock's tail). */
  readonly tail: number;
  now(): number;
  countContended(): void;
  acquired(cpu: number, ticket: number, start: number): void;
}

/** A spinlock implementation in place of the ticket lock: spin_lock() of a lock (its unlock is a store, cpu/spinlock.ts). */
export interface LockImpl {
  lock(l: LockWord, k: KernelOps, cpu: number): SimCall;
}

export class KernelOps extends Ops {
  /** The queued spinlock (cpu/qspinlock.ts) when spinlocks are queued (`--spinlock queued`); null: ticket locks. */
  qspinlock: LockImpl | null = null;

  irqDisable(): number {
    return this.stage(OP_IRQ_DISABLE, 0, 0, 0, 0);
  }
  irqEnable(): number {
    return this.stage(OP_IRQ_ENABLE, 0, 0, 0, 0);
  }
  compute(cycles: number): number {
    return this.stage(OP_COMPUTE, cycles, 0, 0, 0);
  }
  sendIpi(cpu: number, vector: number): number {
    return this.stage(OP_SEND_IPI, cpu, vector, 0, 0);
  }
  sendIpiMask(maskAddr: number, vector: number): number {
    return this.stage(OP_SEND_IPI_MASK, maskAddr, vector, 0, 0);
  }
  halt(): number {
    return this.stage(OP_HALT, 0, 0, 0, 0);
  }
  switchTo(pid: number, exiting = false): number {
    return this.stage(OP_SWITCH_TO, pid, exiting ? 1 : 0, 0, 0);
  }
  irqReturn(): number {
    return this.stage(OP_IRQ_RETURN, 0, 0, 0, 0);
  }
  irqWait(): number {
    return this.stage(OP_IRQ_WAIT, 0, 0, 0, 0);
  }
  preemptAdd(delta: number): number {
    return this.stage(OP_PREEMPT_ADD, delta, 0, 0, 0);
  }
  vmExit(): number {
    return this.stage(OP_VM_EXIT, 0, 0, 0, 0);
  }
  vmEnter(): number {
    return this.stage(OP_VM_ENTER, 0, 0, 0, 0);
  }
}
