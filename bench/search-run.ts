import * as fs from 'fs';
import * as path from 'path';
import { resolveMachine, topologyOf } from '../lib/machine/resolve';
import { parseLitmus } from '../mem/litmus/parse';
import { LITMUS_DEFAULTS, runOnce, type LitmusOptions } from '../mem/litmus/run';
import { formatState } from '../mem/litmus/condition';
import { tsoFinalStates } from '../mem/litmus/tso-model';
import type { LitmusTest } from '../mem/litmus/ast';
import { exploreConfig } from './explore';
import { runSimulation, type RunConfig } from './runner';
import { BUG_EXAMPLES, type BugExample } from './search-examples';
import { PCT_DEFAULT_DEPTH, estimatePctSteps, type SearchConfig } from './search';
import { workloadByName } from './workloads/index';

/**
 * Issue #11's measurement of `--search`: for every bug example (bench/search-examples.ts) and
 * search, the first seed (from 1) whose run shows the bug, and how many of the first 100 seeds
 * do; for every bundled litmus test and search, the runs until every outcome x86-TSO allows
 * (mem/litmus/tso-model.ts) was observed, and any outcome it forbids that showed up.
 * Goals: every bug within 100 seeds, every allowed outcome within 300 runs.
 *
 * `npm run bench:search [-- --max-seeds N] [--max-runs N] [--litmus-seeds N] [--pct-depth D] [--only NAME] [--litmus-only | --explore-only]`
 */
const GOAL_SEEDS = 100;
const GOAL_RUNS = 300;

type Mode = 'random' | 'pct';
const MODES: readonly Mode[] = ['random', 'pct'];
/** The litmus conformance profiles (README, Litmus conformance). */
const PROFILES = ['skylake-sp-2s', 'zen3-1s'] as const;

function arg(argv: string[], flag: string, fallback: number): number {
  const i = argv.indexOf(flag);
  const v = i < 0 ? NaN : Number(argv[i + 1]);
  return Number.isSafeInteger(v) && v > 0 ? v : fallback;
}

/**
 * The exploration config of a bug example under a search, as `explore --search` builds it, on the
 * exploration machine of `exploresAs` (EXPLORE_MACHINES; the default machine otherwise).
 */
export function searchConfig(name: string, mode: Mode, depth = PCT_DEFAULT_DEPTH, exploresAs = name): RunConfig {
  const cfg = { ...exploreConfig(exploresAs), strategy: name };
  if (mode === 'random') return cfg;
  const search: SearchConfig = { mode: 'pct', depth, steps: estimatePctSteps(cfg.cycles + cfg.warmupCycles, topologyOf(cfg.machine).nCpus) };
  return { ...cfg, search };
}

/** Seeds 1, 2, ... until the bug showed and GOAL_SEEDS were run (or maxSeeds): the first seed, and hits in the first GOAL_SEEDS. */
export function seedsToDetection(ex: BugExample, mode: Mode, maxSeeds: number, depth = PCT_DEFAULT_DEPTH): { first: number | null; hits: number; runs: number } {
  const factory = ex.factory();
  const workload = workloadByName('explore-mix');
  const base = searchConfig(ex.name, mode, depth, ex.exploresAs);
  let first: number | null = null;
  let hits = 0;
  let seed = 1;
  for (; seed <= maxSeeds && (first === null || seed <= GOAL_SEEDS); seed++) {
    const r = runSimulation({ ...base, seed: String(seed) }, factory, workload);
    if (r.violations.some((v) => v.kind === ex.kind)) {
      first ??= seed;
      if (seed <= GOAL_SEEDS) hits++;
    }
  }
  return { first, hits, runs: seed - 1 };
}

/** Runs 0, 1, ... until every TSO-allowed outcome was observed (or maxRuns). */
export function runsToAllOutcomes(test: LitmusTest, options: LitmusOptions, maxRuns: number): { allowed: number; runs: number | null; missing: string[]; forbidden: string[] } {
  const allowed = tsoFinalStates(test);
  const missing = new Set(allowed);
  const forbidden = new Set<string>();
  let run = 0;
  for (; run < maxRuns && missing.size > 0; run++) {
    const key = formatState(test, runOnce(test, options, run));
    missing.delete(key);
    if (!allowed.has(key)) forbidden.add(key);
  }
  return { allowed: allowed.size, runs: missing.size === 0 ? run : null, missing: [...missing], forbidden: [...forbidden] };
}

function exploreTable(argv: string[]): string[] {
  const maxSeeds = arg(argv, '--max-seeds', 1000);
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const depth = arg(argv, '--pct-depth', PCT_DEFAULT_DEPTH);
  const missed: string[] = [];
  console.log(`first seed (from 1) whose run shows the bug, and (in parentheses) how many of seeds 1..${GOAL_SEEDS} do; pct depth ${depth}\n`);
  console.log(`bug example | kind | ${MODES.map((m) => `${m}: first seed (hits in ${GOAL_SEEDS})`).join(' | ')} | command`);
  console.log(`---|---|${MODES.map(() => '---').join('|')}|---`);
  for (const ex of BUG_EXAMPLES) {
    if (only !== undefined && ex.name !== only) continue;
    const cells: string[] = [];
    for (const mode of MODES) {
      const t0 = Date.now();
      const r = seedsToDetection(ex, mode, maxSeeds, depth);
      cells.push(r.first === null ? `none in ${r.runs}` : `${r.first} (${r.hits})`);
      if (r.first === null || r.first > GOAL_SEEDS) missed.push(`${ex.name} (${ex.kind}) under ${mode}: ${r.first === null ? `not found in ${r.runs} seeds` : `first at seed ${r.first}`}`);
      process.stderr.write(`  ${ex.name} ${mode}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    console.log(`${ex.name} | ${ex.kind} | ${cells.join(' | ')} | \`npm run bench:search -- --explore-only --only ${ex.name}\``);
  }
  return missed;
}

/** The litmus side: per test, search and profile, runs to see every allowed outcome, median and worst over seeds 1..S. */
function litmusTable(argv: string[]): string[] {
  const maxRuns = arg(argv, '--max-runs', 10_000);
  const seeds = arg(argv, '--litmus-seeds', 10);
  const depth = arg(argv, '--pct-depth', PCT_DEFAULT_DEPTH);
  const dir = path.join(__dirname, '..', '..', 'bench', 'data', 'litmus', 'x86');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.litmus')).sort();
  const missed: string[] = [];
  const cols = PROFILES.flatMap((p) => MODES.map((m) => `${p} ${m}`));
  console.log(`\nruns until every x86-TSO-allowed outcome was seen, median / worst of seeds 1..${seeds}\n`);
  console.log(`litmus test | allowed | ${cols.join(' | ')}`);
  console.log(`---|---|${cols.map(() => '---').join('|')}`);
  for (const f of files) {
    const test = parseLitmus(fs.readFileSync(path.join(dir, f), 'utf8'), f);
    const cells: string[] = [];
    let allowed = 0;
    for (const profile of PROFILES) {
      const machine = resolveMachine(profile);
      for (const mode of MODES) {
        const counts: number[] = [];
        for (let seed = 1; seed <= seeds; seed++) {
          const options: LitmusOptions = { ...LITMUS_DEFAULTS, seed: String(seed), machine, ...(mode === 'pct' ? { pct: { depth } } : {}) };
          const r = runsToAllOutcomes(test, options, maxRuns);
          allowed = r.allowed;
          counts.push(r.runs ?? Infinity);
          if (r.forbidden.length > 0) missed.push(`${test.name} on ${profile} under ${mode}, seed ${seed}: outcomes x86-TSO forbids: ${r.forbidden.join(' | ')}`);
        }
        counts.sort((a, b) => a - b);
        const worst = counts[counts.length - 1];
        const show = (n: number) => (n === Infinity ? `>${maxRuns}` : String(n));
        cells.push(`${show(counts[(counts.length - 1) >> 1])} / ${show(worst)}`);
        if (worst > GOAL_RUNS) missed.push(`${test.name} on ${profile} under ${mode}: worst seed needed ${show(worst)} runs`);
      }
    }
    console.log(`${test.name} | ${allowed} | ${cells.join(' | ')}`);
  }
  return missed;
}

function main(argv: string[]): number {
  const missed = [...(argv.includes('--litmus-only') ? [] : exploreTable(argv)), ...(argv.includes('--explore-only') ? [] : litmusTable(argv))];
  for (const m of missed) console.log(`MISSED: ${m}`);
  console.log(missed.length === 0 ? `every goal met (bugs within ${GOAL_SEEDS} seeds, outcomes within ${GOAL_RUNS} runs)` : `${missed.length} goals missed`);
  return missed.length === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
