import type { Sim } from './ops';

/** What a process is doing; `Engine.describe` prints these when the watchdog fires. */
export const PROC_READY = 0;
export const PROC_BLOCKED = 1;
export const PROC_DONE = 2;
export const PROC_STATE_NAMES = ['ready', 'blocked', 'done'] as const;

/**
 * A simulated thread of control (a kernel path, a litmus thread, a user task's code) running on
 * one CPU. Its body is a generator; the engine resumes it with the result of each operation.
 * Every field is assigned in the constructor so that all processes share one V8 shape.
 */
export class Process {
  readonly id: number;
  readonly name: string;
  /** The logical CPU whose caches and store buffer this process's memory operations use. */
  cpu: number;
  gen: Sim<unknown>;
  state: number;
  /** The value handed to the generator at the next resume. */
  retVal: number;
  /** A daemon (an idle loop) may stay blocked forever without that counting as a deadlock. */
  readonly daemon: boolean;
  /** The operation the process is blocked in (re-executed after a spin or a stall); the
   *  executor turns it into words for watchdog reports. */
  op: number;
  a: number;
  b: number;
  c: number;
  d: number;
  /** Cycle at which the current wait began. */
  waitSince: number;
  /** Link for intrusive wait lists kept by lower layers (-1 = end). */
  nextWaiter: number;
  /** The line a spin-wait is parked on, SPIN_RECHECK while a re-read is scheduled, or -1. */
  spinLine: number;
  /** Scheduled events of this process that were cancelled (an interrupted compute burst or spin
   *  re-read); they fire before any newer one, and their handlers drop them. */
  stale: number;
  /** How the process continues once a CPU layer resumes it after an interrupt or a context switch. */
  suspendKind: number;
  /** Cycles left of an interrupted compute burst, and when the current burst ends. */
  remaining: number;
  computeEnd: number;
  /** Value returned by the generator when it finished. */
  result: unknown;
  readonly startCycle: number;
  endCycle: number;

  constructor(id: number, name: string, cpu: number, gen: Sim<unknown>, startCycle: number, daemon: boolean) {
    this.id = id;
    this.name = name;
    this.cpu = cpu;
    this.gen = gen;
    this.state = PROC_READY;
    this.retVal = 0;
    this.daemon = daemon;
    this.op = 0;
    this.a = 0;
    this.b = 0;
    this.c = 0;
    this.d = 0;
    this.waitSince = 0;
    this.nextWaiter = -1;
    this.spinLine = -1;
    this.stale = 0;
    this.suspendKind = 0;
    this.remaining = 0;
    this.computeEnd = 0;
    this.result = undefined;
    this.startCycle = startCycle;
    this.endCycle = -1;
  }
}
