import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Piscina } from 'piscina';
import { LazytlbError, WatchdogError } from '../../lib/errors';
import type { RunJson } from '../result-json';
import type { RunConfig } from '../runner';
import { runOne, type WorkerReply } from './worker';

/** `--jobs` by default: one worker thread per core. */
export function defaultJobs(): number {
  return os.availableParallelism();
}

/** Called after each run completes: how many are done, of how many. */
export type Progress = (done: number, total: number, result: RunJson) => void;

export interface RunAllOptions {
  progress?: Progress;
  /** Stops the runs: those not yet done are abandoned, and the promise rejects with the reason. */
  signal?: AbortSignal;
  /** How to run a configuration in this thread (default: load its strategy and workload by name). */
  inThread?: (cfg: RunConfig, i: number) => RunJson;
}

function unwrap(reply: WorkerReply): RunJson {
  if (reply.ok) return reply.result;
  // The message already says everything (a ParseError's names its file and line).
  throw reply.name === 'WatchdogError' ? new WatchdogError(reply.message) : new LazytlbError(reply.message);
}

/**
 * Every configuration, results in configuration order. With `jobs` = 1 they run one after another
 * in this thread; otherwise on `jobs` worker threads (piscina). Each run depends only on its own
 * configuration and seed, so the results are the same either way, byte for byte outside `host`.
 */
export function runAll(cfgs: readonly RunConfig[], jobs: number, options: RunAllOptions = {}): RunJson[] | Promise<RunJson[]> {
  const { progress, signal, inThread } = options;
  if (jobs <= 1 || cfgs.length <= 1) {
    return cfgs.map((cfg, i) => {
      signal?.throwIfAborted();
      const r = inThread !== undefined ? inThread(cfg, i) : unwrap(runOne(cfg));
      if (progress !== undefined) progress(i + 1, cfgs.length, r);
      return r;
    });
  }
  const filename = path.join(__dirname, 'worker.js');
  if (!fs.existsSync(filename)) throw new Error(`worker threads need the built package (${filename} is missing): run npm run build`);
  const pool = new Piscina({ filename, minThreads: Math.min(jobs, cfgs.length), maxThreads: Math.min(jobs, cfgs.length) });
  let done = 0;
  const runs = cfgs.map((cfg) =>
    (pool.run(cfg, { signal }) as Promise<WorkerReply>).then((reply) => {
      const r = unwrap(reply);
      done++;
      if (progress !== undefined) progress(done, cfgs.length, r);
      return r;
    }),
  );
  // Every task settles before the pool goes: destroying it while some still run would leave their
  // replies with nowhere to go. Then the first failure, if any, is the answer.
  return Promise.allSettled(runs).then(async (outcomes) => {
    await pool.destroy();
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return outcomes.map((o) => (o as PromiseFulfilledResult<RunJson>).value);
  });
}
