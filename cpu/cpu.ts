import type { Process } from '../lib/engine/process';
import type { Counter } from '../lib/stats/counter';
import type { StatGroup } from '../lib/stats/group';
import { NR_VECTORS, VECTOR_NAMES } from './vectors';

/** How a context continues when it gets the CPU back (after an interrupt or a context switch). */
export const K_FRESH = 0;
/** Between two instructions: continue the generator with the last result. */
export const K_BOUNDARY = 1;
/** In a compute burst: finish the remaining cycles. */
export const K_COMPUTE = 2;
/** In a spin-wait: start the spin over with a fresh read. */
export const K_RETRY = 3;
/** In HLT: the halt returns. */
export const K_HALT = 4;
/** In its own switch_to: the switch returns. */
export const K_SWITCHED = 5;

/**
 * One logical CPU: which context executes on it, its interrupt flag and pending vectors, and
 * its preemption count. What runs where is decided by the scheduler; how interrupts and
 * hand-overs happen is `CpuSystem`'s job. Plain fields, assigned in the constructor.
 */
export class Cpu {
  readonly id: number;
  readonly name: string;
  readonly stats: StatGroup;
  /** The context executing now: a task's process, the idle task, or the interrupt context. */
  current: Process | null;
  /** The interrupt context (one per CPU), which runs the handlers of pending vectors. */
  irqProc: Process | null;
  /** What the interrupt context interrupted, while it runs. */
  interrupted: Process | null;
  /** EFLAGS.IF of the current context. */
  irqsOn: boolean;
  /**
   * When the CPU layer cleared IF (CLI, or interrupt entry), or -1 while it is set. A user access
   * holds interrupts off for its one instruction by clearing `irqsOn` alone (tlb/hw/mmu.ts),
   * which leaves this at -1. The hard-lockup check reads it at the end of a run: one store per
   * CLI, STI and interrupt, nothing per event.
   */
  irqsOffSince: number;
  inIrq: boolean;
  /** Pending vectors (bit i = vector index i), the IRR of the local APIC. */
  pending: number;
  preemptCount: number;
  /** When the CPU last handed itself back to a context (IRET or switch_to): an interrupt arriving
   *  before then is taken then. */
  returnAt: number;
  halted: boolean;
  haltSince: number;
  /** The host wants this vCPU descheduled (cpu/host.ts): the context's next instruction boundary freezes it. */
  exitRequested: boolean;
  /** The guest context the host froze (no guest instruction runs until VM entry), or null. */
  frozen: Process | null;
  /** The host context waiting for the freeze to take effect. */
  host: Process | null;
  /**
   * Between a context switch's `on_cpu = 0` store and its hand-over (`switchTo`): the model runs
   * finish_task_switch()'s store before switch_to, where the kernel runs it after, on the next
   * task's stack, so nothing may come between them. No VM exit splits them.
   */
  handingOver: boolean;
  readonly irqsTaken: Counter[];
  readonly idleCycles: Counter;

  constructor(id: number, stats: StatGroup) {
    this.id = id;
    this.name = `cpu${id}`;
    this.stats = stats;
    this.current = null;
    this.irqProc = null;
    this.interrupted = null;
    this.irqsOn = true;
    this.irqsOffSince = -1;
    this.inIrq = false;
    this.pending = 0;
    this.preemptCount = 0;
    this.returnAt = 0;
    this.halted = false;
    this.haltSince = 0;
    this.exitRequested = false;
    this.frozen = null;
    this.host = null;
    this.handingOver = false;
    const irqs = stats.group('irqs');
    this.irqsTaken = [];
    for (let v = 0; v < NR_VECTORS; v++) this.irqsTaken.push(irqs.counter(VECTOR_NAMES[v], `${VECTOR_NAMES[v]} interrupts handled`));
    this.idleCycles = stats.counter('idleCycles', 'cycles halted in the idle loop');
  }

  /**
   * Inside a user access, which is one instruction: tlb/hw/mmu.ts holds interrupts off for it by
   * clearing IF alone (irqsOffSince stays -1, unlike CLI and interrupt entry). No VM exit splits it.
   */
  inUserAccess(): boolean {
    return !this.irqsOn && this.irqsOffSince < 0;
  }

  /** Whether a VM exit may stop the current context now: not inside one of the two sequences above. */
  atBoundary(): boolean {
    return !this.handingOver && !this.inUserAccess();
  }
}
