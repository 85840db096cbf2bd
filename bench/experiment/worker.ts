import { isMainThread } from 'worker_threads';
import { LazytlbError } from '../../lib/errors';
import { loadStrategy } from '../cli/load-strategy';
import { loaderOptions } from '../load-module';
import type { RunJson } from '../result-json';
import { runSimulation, type RunConfig } from '../runner';
import type { StrategyFactory } from '../../tlb/strategies/strategy';
import { loadWorkload } from '../workloads/index';
import type { Workload } from '../workloads/workload';

/** What a worker hands back: the run, or a user error by class name (errors lose their class in transit). */
export type WorkerReply = { ok: true; result: RunJson } | { ok: false; name: string; message: string };

// The main thread has type-checked every file it hands out.
if (!isMainThread) loaderOptions.typeCheck = false;

// Loaded once per thread: a strategy or workload file is transpiled once, not once per run.
const strategies = new Map<string, StrategyFactory>();
const workloads = new Map<string, Workload>();
function strategyOf(spec: string): StrategyFactory {
  let f = strategies.get(spec);
  if (f === undefined) strategies.set(spec, (f = loadStrategy(spec)));
  return f;
}
function workloadOf(spec: string): Workload {
  let w = workloads.get(spec);
  if (w === undefined) workloads.set(spec, (w = loadWorkload(spec)));
  return w;
}

/**
 * One run, on a worker thread of `runAll`: the strategy and workload are loaded here by their
 * names or file paths, so a user's own files run in parallel too.
 */
export function runOne(cfg: RunConfig): WorkerReply {
  try {
    return { ok: true, result: runSimulation(cfg, strategyOf(cfg.strategy), workloadOf(cfg.workload)) };
  } catch (err) {
    if (err instanceof LazytlbError) return { ok: false, name: err.name, message: err.message };
    throw err;
  }
}

export default runOne;
