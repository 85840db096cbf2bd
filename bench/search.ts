import { ConfigError } from '../lib/errors';
import type { PctOptions } from '../mem/pct';

/**
 * How a perturbed run picks its timing (issue #11): `random`, the exploration noise of
 * `PERTURBATION` (a log-uniform delay before one memory operation in eight and before every
 * drain), or `pct`, PCT's priorities and change points (mem/pct.ts) in place of those two
 * delays. Transfer and IPI jitter stay in both: they are the hardware's latencies, not schedules.
 */
export const SEARCH_MODES = ['random', 'pct'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

/** A PCT search as a run records it: `depth` d and `steps` k, resolved, so a reproducer replays it. */
export interface PctSearch {
  mode: 'pct';
  depth: number;
  steps: number;
}

/** The search of a run other than `random` (random, the default, is recorded by leaving it out). */
export type SearchConfig = PctSearch;

/**
 * PCT's defaults. Depth 3 (two change points): the paper's bugs were of depth 1 to 3, and a
 * lost-flush race needs an ordering at the start and two delays (a store late and a flush early).
 */
export const PCT_DEFAULT_DEPTH = 3;
export const PCT_MAX_DEPTH = 64;

/**
 * PCT's k when not given: steps (memory operations issued plus drains) per CPU per simulated
 * cycle, times the run's cycles and CPUs. Measured [M] on `explore-mix` under `--search pct`
 * (4 CPUs, 0.4 ms, seeds 1-10 of rfc2016-naive and of linux-4.20: 0.0058-0.0071, mean 0.0064); a
 * workload that issues fewer steps leaves the late change points unused, as an overestimated k
 * does in PCT.
 */
export const PCT_STEPS_PER_CPU_CYCLE = 0.0064;

/** k for a run of `cycles` (warm-up included) on `cpus` CPUs. */
export function estimatePctSteps(cycles: number, cpus: number): number {
  return Math.max(1, Math.round(cycles * cpus * PCT_STEPS_PER_CPU_CYCLE));
}

/** The engine's PCT options for a search, with the hold of a change point. */
export function pctOptions(s: PctSearch, holdCycles: number): PctOptions {
  return { depth: s.depth, steps: s.steps, holdCycles };
}

/** A search given by a library caller is checked as the CLI checks its options. */
export function checkSearch(s: SearchConfig | undefined): void {
  if (s === undefined) return;
  if (s.mode !== 'pct') throw new ConfigError(`search.mode = '${String(s.mode)}': expected 'pct' (random is the default: leave search out)`);
  if (!(Number.isSafeInteger(s.depth) && s.depth >= 1 && s.depth <= PCT_MAX_DEPTH)) throw new ConfigError(`search.depth = ${String(s.depth)}: expected an integer in [1, ${PCT_MAX_DEPTH}]`);
  if (!(Number.isSafeInteger(s.steps) && s.steps >= 1)) throw new ConfigError(`search.steps = ${String(s.steps)}: expected a positive whole number of steps`);
}

/** The command-line flags that select a search (none for random). */
export function searchFlags(s: SearchConfig | undefined): string[] {
  return s === undefined ? [] : [`--search ${s.mode}`, `--pct-depth ${s.depth}`, `--pct-steps ${s.steps}`];
}

/** A search in words, for report headers ('' for random, whose headers stay as they were). */
export function describeSearch(s: SearchConfig | undefined): string {
  return s === undefined ? '' : `, PCT search (depth ${s.depth}, ${s.steps} estimated steps)`;
}

/** `--search <mode>`: one of SEARCH_MODES. */
export function searchOption(text: string): SearchMode {
  if (!(SEARCH_MODES as readonly string[]).includes(text)) throw new ConfigError(`--search expects one of ${SEARCH_MODES.join(', ')}, got '${text}'`);
  return text as SearchMode;
}

/**
 * The search the options ask for: `--pct-depth` and `--pct-steps` belong to `--search pct` and
 * are an error without it; k defaults to the estimate for the run.
 */
export function searchFromOptions(o: { search?: SearchMode; pctDepth?: number; pctSteps?: number }, estimate: () => number): SearchConfig | undefined {
  if (o.search !== 'pct') {
    if (o.pctDepth !== undefined) throw new ConfigError('--pct-depth needs --search pct');
    if (o.pctSteps !== undefined) throw new ConfigError('--pct-steps needs --search pct');
    return undefined;
  }
  return { mode: 'pct', depth: o.pctDepth ?? PCT_DEFAULT_DEPTH, steps: o.pctSteps ?? estimate() };
}
