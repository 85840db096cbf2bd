import { LazytlbError } from '../../lib/errors';
import { loadStrategy } from '../cli/load-strategy';
import type { RunJson } from '../result-json';
import { runSimulation, type RunConfig } from '../runner';
import { loadWorkload } from '../workloads/index';

/** What a worker hands back: the run, or a user error by class name (errors lose their class in transit). */
export type WorkerReply = { ok: true; result: RunJson } | { ok: false; name: string; message: string };

/**
 * One run, on a worker thread of `runAll`: the strategy and workload are loaded here by their
 * names or file paths, so a user's own files run in parallel too.
 */
export function runOne(cfg: RunConfig): WorkerReply {
  try {
    return { ok: true, result: runSimulation(cfg, loadStrategy(cfg.strategy), loadWorkload(cfg.workload)) };
  } catch (err) {
    if (err instanceof LazytlbError) return { ok: false, name: err.name, message: err.message };
    throw err;
  }
}

export default runOne;
