import type { Ops, Sim } from '../../lib/engine/ops';
import { ConfigError } from '../../lib/errors';
import type { MachineConfig } from '../../lib/machine/resolve';
import type { Rng } from '../../lib/rng';
import { MemMachine } from '../machine';
import type { FinalState, Instr, LitmusTest, Operand } from './ast';
import { evaluateCondition, formatState } from './condition';

export interface LitmusOptions {
  /** Executions per test. */
  runs: number;
  seed: number | string;
  machine: MachineConfig;
  /** Randomized timing, in cycles: thread start offsets (uniform), a delay before each
   *  instruction and before each store-buffer drain (log-uniform), and transfer jitter (uniform). */
  startMax: number;
  stepMax: number;
  drainMax: number;
  transferMax: number;
  /** Events one execution may take before it is stopped as a runaway (a loop that never ends). */
  maxEvents: number;
  /**
   * PCT (mem/pct.ts) of depth d in place of the start offsets, instruction delays and drain
   * delays (transfer jitter stays); k is the test's exact step count, a change point holds its
   * entity drainMax cycles. Absent: the random timing above.
   */
  pct?: { depth: number };
}

export const LITMUS_DEFAULTS = { runs: 500, startMax: 1000, stepMax: 500, drainMax: 2000, transferMax: 100, maxEvents: 1_000_000 } as const;

export interface LitmusReport {
  name: string;
  runs: number;
  /** herd-style final state → how many runs ended in it, in first-seen order. */
  observed: Record<string, number>;
  /** Whether the final condition's proposition held in some run. */
  conditionObserved: boolean;
  /** The verdict by observation: Allow if the proposition was seen, else Forbid. */
  verdict: 'Allow' | 'Forbid';
  /** herd's reading of the quantifier over the observed states: Ok if the test's claim held. */
  result: 'Ok' | 'No';
}

/** Runs a litmus test `runs` times on simulated cores with seeded, randomized timing. */
export function runLitmus(test: LitmusTest, options: LitmusOptions, onRun?: (done: number) => void): LitmusReport {
  const observed: Record<string, number> = {};
  let holdsSome = false;
  let holdsAll = true;
  for (let run = 0; run < options.runs; run++) {
    const state = runOnce(test, options, run);
    if (onRun !== undefined) onRun(run + 1);
    const key = formatState(test, state);
    observed[key] = (observed[key] ?? 0) + 1;
    const holds = evaluateCondition(test.condition, state);
    holdsSome ||= holds;
    holdsAll &&= holds;
  }
  const result = test.quantifier === 'exists' ? holdsSome : test.quantifier === '~exists' ? !holdsSome : holdsAll;
  return {
    name: test.name,
    runs: options.runs,
    observed,
    conditionObserved: holdsSome,
    verdict: holdsSome ? 'Allow' : 'Forbid',
    result: result ? 'Ok' : 'No',
  };
}

/** One execution: each thread on its own randomly chosen CPU, each location on its own line. */
export function runOnce(test: LitmusTest, options: LitmusOptions, run: number): FinalState {
  const pct = options.pct;
  const m = new MemMachine({
    config: options.machine,
    seed: `${options.seed}:${test.name}:${run}`,
    perturb: { transferMax: options.transferMax, drainMax: pct === undefined ? options.drainMax : 0 },
    pct: pct === undefined ? undefined : { depth: pct.depth, steps: litmusSteps(test), holdCycles: options.drainMax },
  });
  const addr = new Map<string, number>();
  for (const loc of test.locations) {
    const a = m.memory.allocLines(loc);
    addr.set(loc, a);
    m.memory.poke(a, test.init.locs[loc] ?? 0);
  }
  const cpus = pickCpus(m, test);
  const start = m.rng.stream('litmus.start');
  const step = m.rng.stream('litmus.step');
  const regs = test.threads.map((_, t) => ({ ...(test.init.regs[t] ?? {}) }));
  test.threads.forEach((instrs, t) => {
    if (pct !== undefined) m.engine.spawn(`P${t}`, cpus[t], thread(m.k, instrs, regs[t], addr, step, 0), 0);
    else m.engine.spawn(`P${t}`, cpus[t], thread(m.k, instrs, regs[t], addr, step, options.stepMax), start.int(options.startMax + 1));
  });
  try {
    m.engine.run({ maxEvents: options.maxEvents });
  } catch (err) {
    // A long test, or a loop that never ends: either way the budget is the user's to raise.
    if (m.engine.eventCount < options.maxEvents) throw err;
    throw new ConfigError(`${test.name}: execution ${run} took more than ${options.maxEvents} events without finishing: a loop that never ends, or a long test (raise --max-events)`);
  }
  const locs: Record<string, number> = {};
  for (const [loc, a] of addr) locs[loc] = m.memory.peek(a);
  return { regs, locs };
}

/** PCT's k for a test: its memory instructions (each a step of its CPU) plus its stores (each a drain). */
export function litmusSteps(test: LitmusTest): number {
  let k = 0;
  for (const instrs of test.threads) {
    for (const ins of instrs) {
      if (ins.op === 'mov') k += ins.dst.kind === 'mem' ? 2 : ins.src.kind === 'mem' ? 1 : 0;
      else if (ins.op !== 'add') k++;
    }
  }
  return Math.max(1, k);
}

/** Distinct CPUs drawn at random, so runs see every distance class of the machine. */
function pickCpus(m: MemMachine, test: LitmusTest): number[] {
  const rng = m.rng.stream('litmus.placement');
  const total = m.topology.nCpus;
  const n = test.threads.length;
  // The user chose the test and the machine: a mismatch is their input, named, not a crash.
  if (n > total) throw new ConfigError(`${test.file}: test ${test.name} has ${n} threads, but the machine has ${total} CPU${total === 1 ? '' : 's'} (one per thread): choose a larger --machine or --param`);
  const chosen: number[] = [];
  while (chosen.length < n) {
    const c = rng.int(total);
    if (!chosen.includes(c)) chosen.push(c);
  }
  return chosen;
}

/** Interprets one litmus thread as simulated code: one operation per instruction. */
function* thread(k: Ops, instrs: Instr[], regs: Record<string, number>, addr: Map<string, number>, step: Rng, stepMax: number): Sim {
  const value = (o: Operand): number => (o.kind === 'imm' ? o.value : o.kind === 'reg' ? regs[o.reg] ?? 0 : NaN);
  const at = (loc: string): number => addr.get(loc) as number;
  for (const ins of instrs) {
    const pause = stepMax > 0 ? step.logUniform(stepMax) : 0;
    if (pause > 0) yield k.delay(pause);
    switch (ins.op) {
      case 'mov':
        if (ins.dst.kind === 'mem') yield k.store(at(ins.dst.loc), value(ins.src));
        else if (ins.dst.kind === 'reg' && ins.src.kind === 'mem') regs[ins.dst.reg] = yield k.load(at(ins.src.loc));
        else if (ins.dst.kind === 'reg') regs[ins.dst.reg] = value(ins.src);
        break;
      case 'mfence':
        yield k.mfence();
        break;
      case 'xchg':
        regs[ins.reg] = yield k.xchg(at(ins.mem), regs[ins.reg] ?? 0);
        break;
      case 'lock-add':
        yield k.xadd(at(ins.mem), value(ins.src));
        break;
      case 'lock-xadd':
        regs[ins.reg] = yield k.xadd(at(ins.mem), regs[ins.reg] ?? 0);
        break;
      case 'lock-cmpxchg':
        // x86: if [m] == EAX then [m] := reg; EAX := old [m] either way.
        regs.rax = yield k.cmpxchg(at(ins.mem), regs.rax ?? 0, regs[ins.reg] ?? 0);
        break;
      case 'lock-inc':
        yield k.lockInc(at(ins.mem));
        break;
      case 'lock-dec':
        yield k.lockDec(at(ins.mem));
        break;
      case 'add':
        regs[ins.dst] = (regs[ins.dst] ?? 0) + value(ins.src);
        break;
    }
  }
}
