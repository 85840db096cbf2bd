import EventEmitter from 'eventemitter3';
import { WatchdogError } from '../errors';
import { EventQueue } from './event-queue';
import { OP_DELAY, OP_NAMES, Ops, type Sim } from './ops';
import { PROC_BLOCKED, PROC_DONE, PROC_READY, PROC_STATE_NAMES, Process } from './process';
import { HostClock } from './host-clock';

/** Carries out a staged operation for a process at `engine.now`. It must either resume the
 *  process (`engine.resume`) or block it and resume it later. */
export interface OpExecutor {
  execute(p: Process, ops: Ops): void;
  /** Words for a blocked process's wait, e.g. "spinning on rq3.lock until == 0"; used only by the watchdog. */
  describeWait(p: Process): string;
}

/** Sees every process before it takes its next step; returning true means the gate took the
 *  process over (a CPU layer taking an interrupt at an instruction boundary) and will resume it. */
export interface StepGate {
  beforeStep(p: Process): boolean;
}

/** A component that receives its own events (`engine.schedule(at, id, arg)`). */
export interface EventHandler {
  onEvent(arg: number): void;
}

export interface RunOptions {
  /** Stop normally once the next event lies after this cycle (a timed run). */
  until?: number;
  /** Watchdog budget: more simulated cycles than this is an error. */
  maxCycles?: number;
  /** Watchdog budget: more events than this is an error. */
  maxEvents?: number;
  /** With a 'sample' listener: emit a sample every this many cycles. */
  sampleEvery?: number;
}

export interface RunSummary {
  /** Why the run ended: no events left, or the `until` cycle was reached. */
  stoppedBy: 'idle' | 'until';
  cycles: number;
  events: number;
}

/** Events a user can listen to through `engine.hooks`. They cost nothing when nobody listens. */
export interface EngineEvents {
  runStart: (engine: Engine) => void;
  runEnd: (engine: Engine, summary: RunSummary) => void;
  sample: (engine: Engine, cycle: number) => void;
  trace: (cycle: number, handler: number, arg: number) => void;
}

/** Handler id 0 is "resume process `arg`"; the dispatch loop runs it without a call through the table. */
const H_RESUME = 0;

/** The body a finished process keeps: its own generator chain (frames, closures) can be collected. */
const FINISHED: Sim<unknown> = (function* (): Sim<unknown> { return undefined; })();
FINISHED.next();

/**
 * The discrete-event engine: integer cycle time, one total order of events by (cycle, seq), and
 * processes written as generators. Lower layers plug in through `OpExecutor` (what an operation
 * does and costs) and `EventHandler` (their own timed events).
 */
export class Engine {
  /** The current cycle is `clock[0]`: in a typed array, since past 2^31 cycles (0.86 simulated s
   *  at 2.5 GHz) a cycle count is no small integer, and an object field boxes every new value. */
  private readonly clock: Float64Array;
  readonly queue: EventQueue;
  readonly ops: Ops;
  readonly processes: Process[];
  readonly hooks: EventEmitter<EngineEvents>;
  readonly host: HostClock;
  private readonly handlers: Array<EventHandler | null>;
  private executor: OpExecutor | null;
  private gate: StepGate | null;
  private events: number;

  constructor(ops: Ops = new Ops()) {
    this.clock = new Float64Array(1);
    this.queue = new EventQueue();
    this.ops = ops;
    this.processes = [];
    this.hooks = new EventEmitter<EngineEvents>();
    this.host = new HostClock();
    this.handlers = [null];
    this.executor = null;
    this.gate = null;
    this.events = 0;
  }

  /** The current cycle. */
  get now(): number {
    return this.clock[0];
  }

  /** The layer that gives operations their meaning (the memory system, or a CPU layer above it). */
  setExecutor(executor: OpExecutor): void {
    this.executor = executor;
  }

  setStepGate(gate: StepGate): void {
    this.gate = gate;
  }

  registerHandler(handler: EventHandler): number {
    this.handlers.push(handler);
    return this.handlers.length - 1;
  }

  schedule(at: number, handler: number, arg: number): void {
    if (at < this.now) throw new Error(`event scheduled in the past: ${at} < ${this.now}`);
    this.queue.push(at, handler, arg);
  }

  /** Starts simulated code on a CPU at cycle `at` (default: now). */
  spawn(name: string, cpu: number, body: Sim<unknown>, at = this.now, daemon = false): Process {
    const p = this.create(name, cpu, body, daemon);
    this.resume(p, at, 0);
    return p;
  }

  /** Creates a process without starting it: it stays blocked until someone resumes it (a
   *  scheduler switching a new task in). */
  create(name: string, cpu: number, body: Sim<unknown>, daemon = false): Process {
    const p = new Process(this.processes.length, name, cpu, body, this.now, daemon);
    p.state = PROC_BLOCKED;
    this.processes.push(p);
    return p;
  }

  /** Resumes a process at cycle `at`, handing `value` to its pending `yield`. */
  resume(p: Process, at: number, value: number): void {
    p.state = PROC_READY;
    p.retVal = value;
    this.queue.push(at, H_RESUME, p.id);
  }

  /** Resumes a process at once, inside the current event (a component's own event that ends a
   *  wait, such as a compute burst), saving the extra event `resume` would cost. */
  continueNow(p: Process, value: number): void {
    p.state = PROC_READY;
    p.retVal = value;
    this.step(p);
  }

  /** Ends a blocked process that will never run again (an exited task after its last switch). */
  finish(p: Process): void {
    p.state = PROC_DONE;
    p.endCycle = this.now;
    p.gen = FINISHED; // a task that forks forever leaves no generator frames behind
  }

  /** Marks a process as waiting; whoever blocked it must resume it later. */
  block(p: Process): void {
    p.state = PROC_BLOCKED;
    p.waitSince = this.now;
  }

  get eventCount(): number {
    return this.events;
  }

  run(options: RunOptions = {}): RunSummary {
    const until = options.until ?? Infinity;
    const maxCycles = options.maxCycles ?? Infinity;
    const maxEvents = options.maxEvents ?? Infinity;
    const q = this.queue;
    const processes = this.processes;
    const handlers = this.handlers;
    const tracing = this.hooks.listenerCount('trace') > 0;
    const sampleEvery = this.hooks.listenerCount('sample') > 0 ? options.sampleEvery ?? Infinity : Infinity;
    if (!(sampleEvery > 0)) throw new Error('sampleEvery must be positive');
    // Samples are taken between events, so they never move simulated time.
    let nextSample = this.now + sampleEvery;
    this.hooks.emit('runStart', this);
    this.host.start(this.events);
    let stoppedBy: RunSummary['stoppedBy'] = 'idle';
    while (q.size > 0) {
      const t = q.peekTime();
      if (t > until) {
        stoppedBy = 'until';
        break;
      }
      if (t > maxCycles) this.fail(`cycle budget of ${maxCycles} exceeded`);
      if (this.events >= maxEvents) this.fail(`event budget of ${maxEvents} exceeded`);
      while (t >= nextSample) {
        this.clock[0] = nextSample;
        this.hooks.emit('sample', this, nextSample);
        nextSample += sampleEvery;
      }
      q.pop();
      this.clock[0] = t;
      this.events++;
      if (tracing) this.hooks.emit('trace', t, q.popHandler, q.popArg);
      const h = q.popHandler;
      if (h === H_RESUME) this.step(processes[q.popArg]);
      else (handlers[h] as EventHandler).onEvent(q.popArg);
    }
    if (stoppedBy === 'until') this.clock[0] = until;
    this.host.stop(this.events);
    if (stoppedBy === 'idle') this.checkDeadlock();
    const summary: RunSummary = { stoppedBy, cycles: this.now, events: this.events };
    this.hooks.emit('runEnd', this, summary);
    return summary;
  }

  /** Advances one process to its next operation. */
  private step(p: Process): void {
    if (this.gate !== null && this.gate.beforeStep(p)) return;
    const r = p.gen.next(p.retVal);
    if (r.done === true) {
      p.state = PROC_DONE;
      p.result = r.value;
      p.endCycle = this.now;
      return;
    }
    const ops = this.ops;
    if (ops.op === OP_DELAY) {
      this.resume(p, this.now + ops.a, 0);
      return;
    }
    if (this.executor === null) throw new Error(`no executor for operation '${OP_NAMES[ops.op] ?? ops.op}'`);
    this.executor.execute(p, ops);
  }

  private checkDeadlock(): void {
    for (const p of this.processes) {
      if (p.state !== PROC_DONE && !p.daemon) this.fail('deadlock: no event is pending but processes are still waiting');
    }
  }

  /** What a blocked process waits on, in the executor's words ("spinning on [rq3.lock] until == 0"). */
  describeWait(p: Process): string {
    return this.executor !== null ? this.executor.describeWait(p) : PROC_STATE_NAMES[p.state];
  }

  /** Every CPU's processes and what each waits on, for watchdog reports. */
  describe(): string {
    const byCpu = new Map<number, Process[]>();
    for (const p of this.processes) {
      if (p.state === PROC_DONE) continue;
      const list = byCpu.get(p.cpu) ?? [];
      list.push(p);
      byCpu.set(p.cpu, list);
    }
    const lines: string[] = [];
    for (const cpu of [...byCpu.keys()].sort((a, b) => a - b)) {
      for (const p of byCpu.get(cpu) as Process[]) {
        const what = p.state === PROC_BLOCKED && this.executor !== null
          ? `${this.describeWait(p)} since cycle ${p.waitSince}`
          : PROC_STATE_NAMES[p.state];
        lines.push(`  cpu${cpu}: '${p.name}'${p.daemon ? ' (daemon)' : ''}: ${what}`);
      }
    }
    return lines.length > 0 ? lines.join('\n') : '  (no live process)';
  }

  private fail(why: string): never {
    this.host.stop(this.events);
    throw new WatchdogError(`watchdog at cycle ${this.now}: ${why}\n${this.describe()}`);
  }
}
