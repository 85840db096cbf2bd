import * as path from 'path';
import { MAX_OFFSET } from '../../lib/engine/event-queue';
import { ConfigError, ParseError } from '../../lib/errors';
import { PARAM_SPECS } from '../../lib/machine/params';
import { resolveMachine, topologyOf, type MachineConfig } from '../../lib/machine/resolve';
import { DEFAULT_MM_REFCOUNT, type StrategyFactory, type StrategyOptions } from '../../tlb/strategies/strategy';
import type { RunJson } from '../result-json';
import { runSimulation } from '../runner';
import { kernelCounts, type KernelCounts } from './kernel-counts';
import type { ParsedTrace } from './parse-trace';
import { forkOf, reconstruct, type TraceModel } from './reconstruct';
import { cloneKind, LEAD_IN_CYCLES, replayWorkload } from './replay-workload';

export interface ReplayOptions {
  /** Machine profile; its topology is reshaped to the trace's CPU count (one socket). */
  machine: string;
  /** `--param` overrides, applied after the reshaping. */
  params: Record<string, string>;
  seed: string;
  strategyOptions: Partial<StrategyOptions>;
}

/** What the trace says about itself. */
export interface TraceSummary {
  format: string;
  cpus: number;
  events: number;
  spanMs: number;
  /** Tasks that ran in the trace (idle excluded). */
  tasks: number;
  /** Address spaces the replay builds: those alive at the start, and one per fork and exec. */
  mms: number;
  /** Context switches inferred where the trace lacks them. */
  inferred: number;
  /** Lines skipped (--lenient) and events reported lost by the tracer. */
  skipped: number;
  lost: number;
  outOfOrder: number;
}

export interface ReplayJson {
  file: string;
  trace: TraceSummary;
  kernel: KernelCounts;
  /** One result per strategy, with the keys of `run --json`. */
  results: RunJson[];
}

/**
 * The machine for a trace: the profile's costs with its topology reshaped to the trace's CPUs,
 * one socket, CCXs as large as the profile's (the largest divisor of the CPU count that fits),
 * no SMT. `--param` overrides come last.
 */
export function replayMachineParams(profile: string, cpus: number, overrides: Record<string, string>): Record<string, string> {
  const p = resolveMachine(profile).params;
  let cores = Math.min(cpus, p.coresPerCcx);
  while (cpus % cores !== 0) cores--;
  return { sockets: '1', ccxPerSocket: String(cpus / cores), coresPerCcx: String(cores), threadsPerCore: '1', ...overrides };
}

/**
 * A trace with more CPUs than one socket of the profile's CCXs holds cannot be reshaped: named at
 * the line that gives the count, since the range error of the reshaped `ccxPerSocket` would name a
 * key the user never gave (unless they did, with --param).
 */
function checkCpus(file: string, trace: ParsedTrace, profile: string, params: Record<string, string>, overrides: Record<string, string>): void {
  const max = PARAM_SPECS.ccxPerSocket.max;
  if (overrides.ccxPerSocket === undefined && Number(params.ccxPerSocket) > max) {
    const detail = `at most ${max} CCXs, here ${params.ccxPerSocket} of ${params.coresPerCcx} core${params.coresPerCcx === '1' ? '' : 's'}`;
    throw new ParseError(file, trace.cpusLine, `${trace.cpus} CPUs do not fit one socket of ${profile} (${detail}): give the topology with --param`);
  }
}

/** A topology given with --param must still have a CPU for each of the trace's. */
function checkFits(file: string, trace: ParsedTrace, machine: MachineConfig, overrides: Record<string, string>): void {
  const n = topologyOf(machine).nCpus;
  if (n >= trace.cpus) return;
  const given = Object.entries(overrides).map(([k, v]) => `--param ${k}=${v}`).join(' ');
  throw new ConfigError(`${given} leaves ${machine.profile} ${n} CPU${n === 1 ? '' : 's'}, fewer than the ${trace.cpus} of ${file} (line ${trace.cpusLine})`);
}

/**
 * A replayed task waits from one event of its own to the next, and the engine schedules no event
 * more than MAX_OFFSET cycles ahead: a span that long is most likely a mistyped timestamp, named
 * at the latest event's line (and the earliest's).
 */
function checkSpan(file: string, trace: ParsedTrace, model: TraceModel, clockGhz: number): void {
  if (LEAD_IN_CYCLES + (model.end - model.start) * clockGhz * 1e9 < MAX_OFFSET) return;
  let first = trace.events[0];
  let last = first;
  for (const e of trace.events) {
    if (e.time < first.time) first = e;
    if (e.time > last.time) last = e;
  }
  const most = (MAX_OFFSET - LEAD_IN_CYCLES) / (clockGhz * 1e9);
  throw new ParseError(file, last.line, `at ${last.time} s, ${(last.time - first.time).toFixed(3)} s after line ${first.line}: a replay spans at most ${most.toFixed(1)} s at ${clockGhz} GHz (a mistyped timestamp?)`);
}

/** Replays one parsed trace under each strategy (by name, with its factory). */
export function replayTrace(file: string, trace: ParsedTrace, strategies: ReadonlyArray<readonly [string, StrategyFactory]>, o: ReplayOptions): ReplayJson {
  const model = reconstruct(trace);
  if (model.tasks.size === 0) throw new ConfigError(`${file}: no task ran in this trace (no sched_switch or task events): nothing to replay`);
  const name = path.basename(file);
  const workload = replayWorkload(name, model);
  const params = replayMachineParams(o.machine, model.cpus, o.params);
  checkCpus(file, trace, o.machine, params, o.params);
  const machine = resolveMachine(o.machine, params);
  checkFits(file, trace, machine, o.params);
  checkSpan(file, trace, model, machine.params.clockGhz);
  const cycles = Math.max(1, Math.round((model.end - model.start) * machine.params.clockGhz * 1e9) + 1);
  const results = strategies.map(([strategy, factory]) => {
    const command = [`npx lazytlb replay ${file} --strategy ${strategy} --machine ${o.machine}`, ...Object.entries(o.params).map(([k, v]) => `--param ${k}=${v}`),
      ...(o.strategyOptions.pcid === false ? ['--no-pcid'] : []),
      ...(o.strategyOptions.mmRefcount !== undefined && o.strategyOptions.mmRefcount !== DEFAULT_MM_REFCOUNT ? [`--mm-refcount ${o.strategyOptions.mmRefcount}`] : []),
      ...(o.strategyOptions.pvFlush === true ? ['--pv-flush'] : [])].join(' ');
    return runSimulation(
      { machine, params, strategy, workload: `replay:${name}`, workloadParams: {}, cycles, warmupCycles: LEAD_IN_CYCLES, seed: o.seed, strategyOptions: o.strategyOptions, perturb: false, command },
      factory,
      workload,
    );
  });
  return { file, trace: summarize(trace, model), kernel: kernelCounts(trace.events, trace.cpus), results };
}

function summarize(trace: ParsedTrace, model: TraceModel): TraceSummary {
  let tasks = 0;
  const initial = new Set<string>();
  let created = 0;
  for (const t of model.tasks.values()) {
    if (t.segments.length === 0) continue;
    tasks++;
    const fork = forkOf(model, t);
    if (!t.kernelThread && fork === null) initial.add(t.tgid !== null ? `tgid ${t.tgid}` : `comm ${t.comm}`);
    if (!t.kernelThread && fork !== null && cloneKind(fork.parent, t, fork.time) === 'fork') created++;
    for (const s of t.segments) for (const o of s.ops) if (o.kind === 'exec') created++;
  }
  return {
    format: trace.format,
    cpus: trace.cpus,
    events: trace.events.length,
    spanMs: Number(((model.end - model.start) * 1e3).toFixed(3)),
    tasks,
    mms: initial.size + created,
    inferred: model.inferred,
    skipped: trace.skipped.count,
    lost: trace.lost.events,
    outOfOrder: trace.outOfOrder,
  };
}
