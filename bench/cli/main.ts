#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { LazytlbError } from '../../lib/errors';
import { profileNames } from '../../lib/machine/resolve';
import { describeProfile } from '../../lib/machine/describe';
import { VERSION } from '../../lib/version';
import { LITMUS_DEFAULTS } from '../../mem/litmus/run';
import { strategyNames } from '../../tlb/strategies/index';
import { describeWorkload, listWorkloads } from '../workloads/describe';
import { DEFAULT_WORKLOAD, WORKLOADS, loadWorkload } from '../workloads/index';
import { COMPARE_DEFAULT_MS, compareCommand, type CompareOptions } from './compare-command';
import { COMPARE_DEFAULT_SEEDS } from '../experiment/seeds';
import { DEFAULT_HOST_TIMEOUT_MS, HostTimeoutError, defaultJobs } from '../experiment/pool';
import { writeReport } from '../report/report';
import { userFrame } from '../load-module';
import { runMeta } from '../experiment/meta';
import { EXPLORE_DEFAULTS } from '../explore';
import { exploreCommand } from './explore-command';
import { litmusCommand } from './litmus-command';
import { REPLAY_STRATEGIES_HELP, replayCommand, type ReplayCommandOptions } from './replay-command';
import { RUN_DEFAULT_MS, runCommand } from './run-command';
import { validateCommand, type ValidateOptions } from './validate-command';
import { SWEEP_DEFAULT_MS, sweepCommand, type SweepOptions } from './sweep-command';
import { mergeCommand, type MergeOptions } from './merge-command';
import { PCT_DEFAULT_DEPTH, PCT_MAX_DEPTH, SEARCH_MODES, searchFromOptions, searchOption, type SearchMode } from '../search';
import { addSearchOptions, addSimOptions, mmRefcountOption, type SimOptions } from './sim-options';
import { MM_REFCOUNT_MODES } from '../../tlb/strategies/strategy';
import { collectParam, hostTimeoutOption, intOption, machineFromOptions, seedOption } from './options';

/**
 * Builds the `lazytlb` command line. `out` receives results (stdout), `warn` warnings (stderr);
 * exit codes: 0 ok, 1 check failed, 2 bad input.
 */
export function buildCli(out: (s: string) => void, setExit: (code: number | Promise<number>) => void, warn: (s: string) => void = out, argv: readonly string[] = []): Command {
  const program = new Command('lazytlb')
    .description('Cycle-level x86 multicore simulator for comparing Linux lazy-TLB strategies')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  const hostTimeout = (): Option =>
    new Option('--host-timeout <s>', `host wall-clock budget of each run on a worker thread, in seconds (default ${DEFAULT_HOST_TIMEOUT_MS / 1000}); a run past it is stopped and reported as a host-timeout. Given, --jobs 1 runs on a worker thread too`)
      .argParser(hostTimeoutOption);

  const machineOption = (): Option =>
    new Option('--machine <profile>', `machine profile (${profileNames().join(', ')})`).default('skylake-sp-2s');

  program
    .command('litmus')
    .description('run herdtools7 x86 litmus tests on the simulated cores and report the observed outcomes')
    .argument('<files...>', 'litmus files (X86 Intel or X86_64 AT&T syntax)')
    .option('--runs <n>', 'executions per test', intOption('--runs', 1, 10_000_000), LITMUS_DEFAULTS.runs)
    .option('--max-events <n>', `events one execution may take before it is stopped as a runaway (default ${LITMUS_DEFAULTS.maxEvents}; raise it for tests of many instructions)`, intOption('--max-events', 1, Number.MAX_SAFE_INTEGER), LITMUS_DEFAULTS.maxEvents)
    .option('--seed <seed>', 'seed of every random stream', seedOption, '1')
    .addOption(machineOption())
    .option('--param <key=value>', 'override a machine parameter (repeatable)', collectParam, [])
    .option('--expected <file>', "compare verdicts with a herdtools7 kinds file ('NAME Allow|Forbid'); exit 1 on a mismatch")
    .option('--search <mode>', `how each execution picks its timing: ${SEARCH_MODES.join(', ')} (default random; pct: PCT priorities and change points over the test's exact step count)`, searchOption)
    .option('--pct-depth <d>', `PCT's bug depth d: d - 1 priority change points (default ${PCT_DEFAULT_DEPTH})`, intOption('--pct-depth', 1, PCT_MAX_DEPTH))
    .option('--json', 'print JSON: {"tests":[{"name","runs","observed","conditionObserved","verdict"}]}')
    .action((files: string[], opts: { runs: number; maxEvents: number; seed: string; machine: string; param: string[]; expected?: string; json?: boolean; search?: SearchMode; pctDepth?: number }) => {
      const machine = machineFromOptions(opts.machine, opts.param);
      const search = searchFromOptions(opts, () => 0); // k is the test's own step count (litmusSteps)
      const pct = search === undefined ? undefined : { depth: search.depth };
      setExit(litmusCommand(files, { runs: opts.runs, maxEvents: opts.maxEvents, seed: opts.seed, machine, json: opts.json === true, expected: opts.expected, pct }, out));
    });

  const sim = (name: string, description: string, defaults: Parameters<typeof addSimOptions>[1]) =>
    addSimOptions(program.command(name).description(description), defaults);

  addSearchOptions(sim('run', 'run one simulation of a strategy on a workload and report IPIs, flush latency, switch cost and violations', {
    workload: DEFAULT_WORKLOAD,
    ms: RUN_DEFAULT_MS,
    machine: 'skylake-sp-2s',
  }))
    .requiredOption('--strategy <name|file>', `strategy (${strategyNames().join(', ')}) or a .ts/.js file exporting one`)
    .option('--perturb', 'add the exploration timing noise')
    .action((opts: SimOptions & { strategy: string }) => setExit(runCommand(opts, out, warn)));

  addSearchOptions(sim('explore', 'run many seeded executions with timing perturbation and report each distinct violation once', {
    ...EXPLORE_DEFAULTS,
    params: [...EXPLORE_DEFAULTS.params],
    warmup: String(EXPLORE_DEFAULTS.warmupMs),
  }))
    .requiredOption('--strategy <name|file>', 'strategy name or file')
    .option('--seeds <n>', 'number of seeds', intOption('--seeds', 1, 10_000_000), 100)
    .option('--jobs <n>', `worker threads (default: one per core, here ${defaultJobs()}); the report is identical for any number`, intOption('--jobs', 1, 1024), defaultJobs())
    .addOption(hostTimeout())
    .action((opts: SimOptions & { strategy: string; seeds: number; jobs: number; hostTimeout?: number }) => setExit(exploreCommand(opts, out)));

  sim('compare', 'run strategies on the same machine, workload and seeds, and print them side by side (mean ± 95% interval over the seeds)', {
    workload: DEFAULT_WORKLOAD,
    ms: COMPARE_DEFAULT_MS,
    machine: 'skylake-sp-2s',
  })
    .option('--strategies <list>', 'comma-separated strategies: shipped names or strategy files (default: every shipped one)')
    .option('--seeds <n>', `seeds per strategy, from --seed on (default ${COMPARE_DEFAULT_SEEDS})`, intOption('--seeds', 1, 100_000), COMPARE_DEFAULT_SEEDS)
    .option('--jobs <n>', `worker threads (default: one per core, here ${defaultJobs()}); results are identical for any number`, intOption('--jobs', 1, 1024), defaultJobs())
    .addOption(hostTimeout())
    .option('--baseline <strategy>', 'mark (*) the figures that differ from this strategy\'s at 95% confidence')
    .option('--csv', 'print a CSV row per run (every figure by its dotted path) instead of the table')
    .option('--out <dir>', 'also write results.json, results.csv and summary.csv into this directory')
    .action((opts: CompareOptions) => setExit(compareCommand(opts, out, warn, runMeta(argv))));

  sim('sweep', 'run a grid: every --axis value combination x strategies x seeds (mean ± 95% interval per point)', {
    workload: DEFAULT_WORKLOAD,
    ms: SWEEP_DEFAULT_MS,
    machine: 'skylake-sp-2s',
  })
    .option('--axis <key=v1,v2,...>', 'an axis: cpus (the core count), a machine parameter or a workload parameter (repeatable)', collectAxis, [])
    .option('--strategies <list>', 'comma-separated strategies: shipped names or strategy files (default: every shipped one)')
    .option('--seeds <n>', `seeds per point and strategy (default ${COMPARE_DEFAULT_SEEDS})`, intOption('--seeds', 1, 100_000), COMPARE_DEFAULT_SEEDS)
    .option('--jobs <n>', `worker threads (default: one per core, here ${defaultJobs()})`, intOption('--jobs', 1, 1024), defaultJobs())
    .addOption(hostTimeout())
    .option('--shard <i/n>', 'run only the i-th of n deterministic slices (1-based; for job arrays); lazytlb merge joins them')
    .option('--baseline <strategy>', 'mark (*) the figures that differ from this strategy\'s at 95% confidence')
    .option('--out <dir>', 'write sweep.json and sweep.csv (a shard: sweep-shard-i-of-n.*) into this directory')
    .action((opts: SweepOptions) => setExit(sweepCommand(opts, out, warn, runMeta(argv))));

  program
    .command('merge')
    .description('join the shard files of one sweep into exactly the unsharded result')
    .argument('<files...>', 'sweep-shard-*.json files (from sweep --shard i/n --out DIR, or --json)')
    .option('--json', 'print the merged sweep as JSON')
    .option('--out <dir>', 'write sweep.json and sweep.csv into this directory')
    .option('--baseline <strategy>', 'mark (*) the figures that differ from this strategy\'s at 95% confidence')
    .action((files: string[], opts: MergeOptions) => setExit(mergeCommand(files, opts, out, runMeta(argv))));

  program
    .command('replay')
    .description('replay real kernel traces (ftrace, trace-cmd report, perf script) under strategies, beside the kernel\'s own counts')
    .argument('<traces...>', 'trace text files')
    .option('--strategy <name|file>', 'one strategy')
    .option('--strategies <list>', `strategies: ${REPLAY_STRATEGIES_HELP} (default all)`)
    .addOption(machineOption())
    .option('--param <key=value>', 'override a machine parameter (repeatable; the topology is reshaped to the trace first)', collectParam, [])
    .option('--seed <seed>', 'seed of every random stream', seedOption, '1')
    .option('--no-pcid', 'do not use PCIDs even where the machine and strategy could')
    .option('--mm-refcount <mode>', `the lazy mm reference: ${MM_REFCOUNT_MODES.join(', ')} (default atomic, x86's own; none: a reference that costs nothing)`, mmRefcountOption)
    .option('--pv-flush', 'KVM\'s paravirtual remote flush (needs --param hostPreemptsPerS > 0: the replayed CPUs become vCPUs)')
    .option('--lenient', 'skip and count malformed trace lines instead of stopping at the first')
    .option('--json', 'print JSON: {file, trace, kernel, results} (or {traces: [...]} for several files)')
    .action((files: string[], opts: ReplayCommandOptions) => setExit(replayCommand(files, opts, out, warn)));

  program
    .command('workloads')
    .description('list the workloads, or print one with its sources and every parameter (unit, range, default)')
    .argument('[workload]', 'workload name or file')
    .action((name?: string) => {
      out(name === undefined ? listWorkloads(Object.values(WORKLOADS)) : describeWorkload(loadWorkload(name)));
    });

  program
    .command('validate')
    .description('run the calibration scenarios and compare each with its published measurement (docs/CALIBRATION.md); exit 1 if any target fails')
    .option('--machine <profile>', 'only the targets of this profile')
    .option('--json', 'the report as JSON')
    .option('--quick', 'shorter runs (for tests; the figures are noisier)')
    .option('--param <key=value>', 'override a machine parameter in every scenario (repeatable): how a changed cost moves the targets', collectParam, [])
    .action((opts: ValidateOptions) => setExit(validateCommand(opts, out)));

  program
    .command('report')
    .description('write DIR/report.html, a self-contained page with the tables and charts of a compare or sweep --out DIR')
    .argument('<dir>', 'a directory written by compare --out, sweep --out or merge --out')
    .action((dir: string) => setExit(writeReport(dir).then((file) => {
      out(file);
      return 0;
    })));

  program
    .command('profiles')
    .description('list the machine profiles, or print one with every parameter, its unit and its source')
    .argument('[profile]', 'profile name')
    .action((name?: string) => {
      out(name === undefined ? profileNames().join('\n') : describeProfile(name));
    });

  return program;
}

/** Commander collector for repeatable `--axis key=v1,v2`. */
function collectAxis(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Runs the CLI; user errors print one line (never a stack trace) and exit 2. A command that runs
 * on worker threads (`compare --jobs N`) returns its exit code as a promise.
 */
export function main(argv: string[]): number | Promise<number> {
  let code: number | Promise<number> = 0;
  const program = buildCli(
    (s) => process.stdout.write(s + '\n'),
    // A block, not `(c) => (code = c)`: an action that returned the promise would have commander
    // chain it in parse(), and that chained copy's rejection would go unhandled.
    (c) => {
      code = c;
    },
    (s) => process.stderr.write(`lazytlb: ${s}\n`),
    argv,
  );
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    return failure(err);
  }
  const result = code as number | Promise<number>;
  return typeof result === 'number' ? result : result.catch(failure);
}

/**
 * Exit codes: 0 done; 1 a check failed (violations found, a target missed, a litmus mismatch, a
 * run past its host time budget); 2 bad input (one line naming what and where); 3 an internal
 * error, a bug in lazytlb, which says so (with its stack when LAZYTLB_DEBUG=1).
 */
export function failure(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander already printed why
  if (err instanceof HostTimeoutError) {
    for (const line of err.message.split('\n')) process.stderr.write(`lazytlb: ${line}\n`);
    return 1;
  }
  if (err instanceof LazytlbError) {
    process.stderr.write(`lazytlb: ${err.message}\n`);
    return 2;
  }
  // Duck-typed: an Error from another realm (a user module under a test runner) is no `instanceof Error`.
  const e = typeof err === 'object' && err !== null && typeof (err as Error).message === 'string' ? (err as Error) : new Error(String(err));
  const where = userFrame(e);
  if (where !== null) {
    // Thrown by the user's own strategy or workload: their file and line, exit 2.
    process.stderr.write(`lazytlb: ${where}: ${e.message}\n`);
    return 2;
  }
  process.stderr.write(`lazytlb: internal error (a bug in lazytlb; please report it with the command line): ${e.message}\n`);
  if (process.env.LAZYTLB_DEBUG === '1') process.stderr.write(`${e.stack ?? ''}\n`);
  return 3;
}

if (require.main === module) {
  // `lazytlb ... | head`: once the reader has gone, stop quietly, as a Unix filter does on SIGPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  void Promise.resolve(main(process.argv.slice(2))).then((c) => (process.exitCode = c));
}
