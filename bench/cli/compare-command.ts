import { strategyNames, strategyByName } from '../../tlb/strategies/index';
import { runSimulation, type RunJson } from '../runner';
import { runConfig, type SimOptions } from './sim-options';

export const COMPARE_DEFAULT_MS = 2;

/** `lazytlb compare`: every shipped strategy on the same machine, workload and seed, side by side. */
export function compareCommand(o: SimOptions & { strategies?: string }, out: (s: string) => void): number {
  const names = o.strategies === undefined ? strategyNames() : o.strategies.split(',').map((s) => s.trim());
  const results: RunJson[] = names.map((name) => runSimulation(runConfig(name, o, COMPARE_DEFAULT_MS), strategyByName(name)));
  if (o.json === true) {
    out(JSON.stringify({ results }, null, 2));
    return 0;
  }
  const r0 = results[0];
  out(`${r0.config.workload} on ${r0.config.machine.profile} for ${r0.simulated.cycles} cycles (${(r0.simulated.seconds * 1e3).toFixed(2)} ms), seed ${r0.seed}`);
  const header = ['strategy', 'IPIs', 'flushIPI', 'toLazy', 'spared', 'flushes', 'p50', 'p99', 'switches', 'switchMm', 'lines', 'RMWs', 'walks', 'stale', 'freedPT'];
  const rows = results.map((r) => [
    r.config.strategy, r.ipis.sent, r.ipis.tlbFlush, r.ipis.toLazyCpus, r.ipis.avoidedLazy, r.flushes.count,
    r.flushes.latencyCycles.p50, r.flushes.latencyCycles.p99, r.contextSwitches.count, r.contextSwitches.switchMmCycles,
    r.coherence.lineTransfers, r.coherence.rmw, r.tlb.stlbMisses, r.violationCounts.staleTranslation, r.violationCounts.freedPageTable,
  ].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  out(fmt(header));
  for (const row of rows) out(fmt(row));
  out('(flush latency p50/p99 and switchMm in cycles; "spared": lazy CPUs a flush did not interrupt; stale/freedPT: oracle violations)');
  return 0;
}
