import { strategyNames } from '../../tlb/strategies/index';
import type { RunJson } from '../result-json';
import { runSimulation } from '../runner';
import { loadWorkload } from '../workloads/index';
import { loadStrategy } from './load-strategy';
import { runConfig, type SimOptions } from './sim-options';

/** Long enough for about 190 flushes of the default memcache, so the flush figures are not noise. */
export const COMPARE_DEFAULT_MS = 10;

/** `lazytlb compare`: every shipped strategy on the same machine, workload and seed, side by side. */
export function compareCommand(o: SimOptions & { strategies?: string }, out: (s: string) => void, warn: (s: string) => void): number {
  const names = o.strategies === undefined ? strategyNames() : o.strategies.split(',').map((s) => s.trim());
  const workload = loadWorkload(o.workload);
  const factories = names.map((name) => loadStrategy(name)); // every name checked before anything runs
  const results: RunJson[] = names.map((name, i) => runSimulation(runConfig(name, o, workload, COMPARE_DEFAULT_MS), factories[i], workload));
  for (const r of results) for (const w of r.warnings) warn(`warning: ${r.config.strategy}: ${w}`);
  if (o.json === true) {
    out(JSON.stringify({ results }, null, 2));
    return 0;
  }
  out(compareTable(results));
  return 0;
}

/** The side-by-side table; a row whose run measured too little is marked, never shown as a plain result. */
export function compareTable(results: RunJson[]): string {
  const r0 = results[0];
  const lines = [
    `${r0.config.workload} on ${r0.config.machine.profile}: ${r0.simulated.cycles} cycles (${(r0.simulated.seconds * 1e3).toFixed(2)} ms) measured after ${r0.config.warmupCycles} cycles of warm-up, seed ${r0.seed}`,
  ];
  const header = ['strategy', 'IPIs', 'flushIPI', 'IPI/fl', 'toLazy', 'spared', 'flushes', 'p50', 'p99', 'switches', 'switchMm', 'lines', 'RMWs', 'walks', 'stale', 'freedPT'];
  const dash = (x: number | null, digits = 0) => (x === null ? '-' : x.toFixed(digits));
  const rows = results.map((r) => [
    r.config.strategy + (r.warnings.length > 0 ? ' (!)' : ''), r.ipis.sent, r.ipis.tlbFlush, dash(r.perFlush.ipis, 2), r.ipis.toLazyCpus, r.ipis.avoidedLazy, r.flushes.count,
    dash(r.flushes.latencyCycles.p50), dash(r.flushes.latencyCycles.p99), r.contextSwitches.count, r.contextSwitches.switchMmCycles,
    r.coherence.lineTransfers, r.coherence.rmw, r.tlb.stlbMisses, r.violationCounts.staleTranslation, r.violationCounts.freedPageTable,
  ].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  lines.push(fmt(header));
  for (const row of rows) lines.push(fmt(row));
  lines.push('(flush latency p50/p99 and switchMm in cycles; "spared": lazy CPUs a flush did not interrupt; stale/freedPT: oracle violations over the whole run)');
  if (results.some((r) => r.warnings.length > 0)) lines.push('(!) too few flushes measured for the flush figures to mean anything: see the warnings');
  return lines.join('\n');
}
