import { resolveMachine } from '../lib/machine/resolve';
import { strategyNames, strategyByName } from '../tlb/strategies/index';
import { EXPLORE_TARGETS } from './explore';
import { runSimulation } from './runner';
import { WORKLOADS } from './workloads/index';

/**
 * Every shipped workload for 5 simulated ms (after its warm-up) under every shipped strategy, on
 * its default machine: the rates each reaches, and the oracle's verdict. Exits 1 if a strategy
 * that exploration finds clean of both violation kinds shows one here.
 * `npm run bench:workloads [-- --ms N] [-- --only WORKLOAD]`.
 */
function main(argv: string[]): number {
  const msAt = argv.indexOf('--ms');
  const ms = msAt >= 0 ? Number(argv[msAt + 1]) : 5;
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const bad: string[] = [];
  const machine = resolveMachine('skylake-sp-2s');
  const perMs = machine.params.clockGhz * 1e6;
  for (const w of Object.values(WORKLOADS)) {
    if (only !== undefined && w.name !== only) continue;
    console.log(`${w.name}: ${ms} ms after ${w.warmupMs ?? 1} ms of warm-up on skylake-sp-2s`);
    for (const s of strategyNames()) {
      const t0 = performance.now();
      const r = runSimulation(
        {
          machine, params: {}, strategy: s, workload: w.name, workloadParams: {},
          cycles: Math.round(ms * perMs), warmupCycles: Math.round((w.warmupMs ?? 1) * perMs), seed: '1', strategyOptions: {}, perturb: false,
        },
        strategyByName(s),
        w,
      );
      const v = r.violationCounts;
      const clean = Object.values(EXPLORE_TARGETS[s]).every((t) => t === 'never');
      if (v.lockup > 0 || (clean && v.staleTranslation + v.freedPageTable > 0)) bad.push(`${w.name} under ${s}: ${v.staleTranslation} stale, ${v.freedPageTable} freed-table, ${v.lockup} lockup violations`);
      console.log(
        `  ${s.padEnd(16)} ${String(r.rates.contextSwitches).padStart(8)} switches/s ${String(r.rates.flushes).padStart(7)} flushes/s ` +
          `${String(r.perFlush.ipis ?? '-').padStart(6)} IPIs/flush  stale ${v.staleTranslation}  freedPT ${v.freedPageTable}  lockup ${v.lockup}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
  }
  for (const b of bad) console.log(`VIOLATION on a correct strategy: ${b}`);
  console.log(bad.length === 0 ? 'no violation on the correct strategies' : `${bad.length} runs with violations`);
  return bad.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
