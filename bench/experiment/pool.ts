import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Piscina } from 'piscina';
import { ConfigError, LazytlbError, WatchdogError } from '../../lib/errors';
import type { RunJson } from '../result-json';
import { reproducer, type RunConfig } from '../runner';
import { runOne, type WorkerReply } from './worker';

/** `--jobs` by default: one worker thread per core. */
export function defaultJobs(): number {
  return os.availableParallelism();
}

/** Called after each run completes: how many are done, of how many. */
export type Progress = (done: number, total: number, result: RunJson) => void;

/** The default wall-clock budget of one run on a worker thread (`--host-timeout`): 10 minutes. */
export const DEFAULT_HOST_TIMEOUT_MS = 600_000;

/** The longest budget a timer can hold (2^31 - 1 ms; Node fires a longer one at once). */
export const MAX_HOST_TIMEOUT_MS = 2 ** 31 - 1;

export interface RunAllOptions {
  progress?: Progress;
  /** Stops the runs: those not yet done are abandoned, and the promise rejects with the reason. */
  signal?: AbortSignal;
  /** How to run a configuration in this thread (default: load its strategy and workload by name). */
  inThread?: (cfg: RunConfig, i: number) => RunJson;
  /**
   * The host wall-clock budget of each run, in ms (default DEFAULT_HOST_TIMEOUT_MS): a run on a
   * worker thread still going past it is stopped, its thread terminated, and reported as a
   * `HostTimeout`; the other runs go on. A run in this thread cannot be stopped (a host-level
   * infinite loop never yields), so giving a budget puts even `jobs` = 1 on a worker thread.
   */
  hostTimeoutMs?: number;
}

/** A run stopped at its host wall-clock budget (its worker thread was terminated). */
export interface HostTimeout {
  hostTimeout: true;
  /** Its place among the configurations. */
  index: number;
  config: RunConfig;
  budgetMs: number;
  /** The command line that runs it alone. */
  reproduce: string;
}

/** What became of one run: its result, or its host timeout. */
export type RunOutcome = RunJson | HostTimeout;

export function isHostTimeout(o: RunOutcome): o is HostTimeout {
  return (o as Partial<HostTimeout>).hostTimeout === true;
}

/** One line naming a timed-out run (strategy, workload, seed) and its reproducer. */
export function describeHostTimeout(t: HostTimeout): string {
  const c = t.config;
  return `host-timeout: ${c.strategy} on ${c.workload}, seed ${c.seed}: still running after ${t.budgetMs / 1000} s of host time (--host-timeout), stopped; reproduce: ${t.reproduce}`;
}

/**
 * Runs that exceeded their host budget, from `runAll`: the results are incomplete, so a command
 * that needs them all fails (exit 1, a check failed, like a violation), one line per run.
 */
export class HostTimeoutError extends Error {
  constructor(readonly timeouts: readonly HostTimeout[]) {
    super(timeouts.map(describeHostTimeout).join('\n'));
    this.name = 'HostTimeoutError';
  }
}

function unwrap(reply: WorkerReply): RunJson {
  if (reply.ok) return reply.result;
  // The message already says everything (a ParseError's names its file and line).
  throw reply.name === 'WatchdogError' ? new WatchdogError(reply.message) : new LazytlbError(reply.message);
}

/**
 * Every configuration, results in configuration order; a run past its host budget rejects with
 * a `HostTimeoutError` naming it, once the other runs are done. See `runAllOutcomes`.
 */
export function runAll(cfgs: readonly RunConfig[], jobs: number, options: RunAllOptions = {}): RunJson[] | Promise<RunJson[]> {
  const outcomes = runAllOutcomes(cfgs, jobs, options);
  if (Array.isArray(outcomes)) return outcomes as RunJson[];
  return outcomes.then((list) => {
    const timeouts = list.filter(isHostTimeout);
    if (timeouts.length > 0) throw new HostTimeoutError(timeouts);
    return list as RunJson[];
  });
}

/**
 * Every configuration's outcome, in configuration order. With `jobs` = 1 (or one configuration)
 * and no `hostTimeoutMs`, they run one after another in this thread; otherwise on worker threads
 * (piscina), each with its host budget. Each run depends only on its own configuration and seed,
 * so the results are the same either way, byte for byte outside `host`.
 */
export function runAllOutcomes(cfgs: readonly RunConfig[], jobs: number, options: RunAllOptions = {}): RunOutcome[] | Promise<RunOutcome[]> {
  const { progress, signal, inThread, hostTimeoutMs } = options;
  if (hostTimeoutMs !== undefined && !(hostTimeoutMs > 0 && hostTimeoutMs <= MAX_HOST_TIMEOUT_MS)) {
    throw new ConfigError(`host timeout ${hostTimeoutMs} ms: expected more than 0 and at most ${MAX_HOST_TIMEOUT_MS} ms`);
  }
  if (cfgs.length === 0 || (hostTimeoutMs === undefined && (jobs <= 1 || cfgs.length <= 1))) {
    return cfgs.map((cfg, i) => {
      signal?.throwIfAborted();
      const r = inThread !== undefined ? inThread(cfg, i) : unwrap(runOne(cfg));
      if (progress !== undefined) progress(i + 1, cfgs.length, r);
      return r;
    });
  }
  const filename = path.join(__dirname, 'worker.js');
  if (!fs.existsSync(filename)) throw new Error(`worker threads need the built package (${filename} is missing): run npm run build`);
  return onWorkers(filename, cfgs, Math.max(1, jobs), hostTimeoutMs ?? DEFAULT_HOST_TIMEOUT_MS, progress, signal);
}

async function onWorkers(filename: string, cfgs: readonly RunConfig[], jobs: number, budgetMs: number, progress?: Progress, signal?: AbortSignal): Promise<RunOutcome[]> {
  const threads = Math.min(jobs, cfgs.length);
  const pool = new Piscina({ filename, minThreads: threads, maxThreads: threads });
  const outcomes: RunOutcome[] = new Array<RunOutcome>(cfgs.length);
  const failures: { index: number; err: unknown }[] = [];
  let next = 0;
  let done = 0;
  // One run per thread at a time, handed out in order: a run starts as soon as it is handed over,
  // so its budget measures its own time, never its wait in a queue. After a failure no new run
  // starts; those running finish, so the first failure in configuration order is always found.
  const lane = async (): Promise<void> => {
    while (next < cfgs.length && failures.length === 0 && signal?.aborted !== true) {
      const i = next++;
      try {
        const o = await guarded(pool, cfgs[i], i, budgetMs, signal);
        outcomes[i] = o;
        if (!isHostTimeout(o) && progress !== undefined) progress(++done, cfgs.length, o);
      } catch (err) {
        failures.push({ index: i, err });
      }
    }
  };
  await Promise.all(Array.from({ length: threads }, lane));
  await pool.destroy();
  signal?.throwIfAborted();
  if (failures.length > 0) throw failures.reduce((a, b) => (b.index < a.index ? b : a)).err;
  return outcomes;
}

/**
 * One run on the pool, aborted at its budget. Piscina terminates the thread of an aborted task
 * that is running (Worker.terminate(), which stops even a loop that never yields), and starts a
 * fresh one for the next run.
 */
function guarded(pool: Piscina, cfg: RunConfig, index: number, budgetMs: number, signal?: AbortSignal): Promise<RunOutcome> {
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, budgetMs);
  const stop = (): void => abort.abort(signal?.reason);
  signal?.addEventListener('abort', stop);
  return (pool.run(cfg, { signal: abort.signal }) as Promise<WorkerReply>)
    .then(unwrap, (err: unknown): HostTimeout => {
      if (!timedOut) throw err;
      return { hostTimeout: true, index, config: cfg, budgetMs, reproduce: cfg.command ?? reproducer(cfg) };
    })
    .finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    });
}
