/**
 * `npm run bench`: the simulator's own speed. Runs the engine suite (benchmark.js), the
 * memory-system suite, the scheduler suite and the server suite (the whole model on memcache),
 * and prints a summary table. Targets are reported, never enforced: the exit code is 0 unless a suite fails outright (e.g. a determinism mismatch).
 *
 *   node dist/bench/perf/run.js [--quick] [--only engine|memory|sched|server]
 *
 * `--only` exists for profiling one suite: node --cpu-prof dist/bench/perf/run.js --only memory
 */
import os from 'node:os';
import { millions, type Figure, type PerfOptions } from './common';
import { runEngineSuite } from './engine.bench';
import { runMemorySuite } from './memory.bench';
import { runSchedSuite } from './sched.bench';
import { runServerSuite } from './server.bench';

function parseArgs(argv: string[]): { opts: PerfOptions; only: string | null } {
  let quick = false;
  let only: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--only') only = argv[++i] ?? '';
    else if (a.startsWith('--only=')) only = a.slice('--only='.length);
    else throw new Error(`unknown argument '${a}' (expected --quick, --only engine|memory|sched|server)`);
  }
  if (only !== null && !['engine', 'memory', 'sched', 'server'].includes(only)) {
    throw new Error(`--only expects engine, memory, sched or server, got '${only}'`);
  }
  return { opts: { quick }, only };
}

function formatRow(f: Figure): string {
  if (f.unit !== 'sim s/wall s' && !f.unit.endsWith('/s')) {
    const met = f.ceiling === undefined ? '' : `   (target <= ${f.ceiling}${f.value <= f.ceiling ? '' : ', NOT MET'})`;
    return `${f.label.padEnd(42)}${`${f.value.toFixed(2)} ${f.unit}`.padEnd(18)}${met}`;
  }
  // The scheduler's headline is a plain ratio (simulated seconds per wall second), not millions.
  if (f.unit === 'sim s/wall s') {
    const met = f.target === undefined ? '' : `   (target >= ${f.target}${f.value >= f.target ? '' : ', NOT MET'})`;
    return `${f.label.padEnd(42)}${`${f.value.toFixed(3).padStart(5)} ${f.unit}`.padEnd(18)}${met}`;
  }
  // Memory rates are a few million, so they get two decimals; the engine rates one.
  const digits = f.unit === 'mem ops/s' ? 2 : 1;
  const value = `${millions(f.value, digits).padStart(5)} M ${f.unit}`;
  let target = '';
  if (f.target !== undefined) {
    target = `   (target >= ${f.target / 1e6} M${f.value >= f.target ? '' : ', NOT MET'})`;
  }
  return `${f.label.padEnd(42)}${value.padEnd(f.target !== undefined ? 18 : 0)}${target}`;
}

function main(): void {
  const { opts, only } = parseArgs(process.argv.slice(2));
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown cpu';
  const header = `lazytlb perf (node ${process.version}, ${cpu}, ${os.cpus().length} cpus${opts.quick ? ', --quick' : ''})`;
  console.log(header);
  const figures: Figure[] = [];
  if (only === null || only === 'engine') figures.push(...runEngineSuite(opts));
  if (only === null || only === 'memory') figures.push(...runMemorySuite(opts));
  if (only === null || only === 'sched') figures.push(...runSchedSuite(opts));
  if (only === null || only === 'server') figures.push(...runServerSuite(opts));

  console.log('');
  console.log(header);
  for (const f of figures) console.log(formatRow(f));
  for (const f of figures) if (f.note !== undefined) console.log(`  ${f.label}: ${f.note}`);
}

main();
