import type { RunJson } from '../runner';
import { runSimulation } from '../runner';
import { loadStrategy } from './load-strategy';
import { runConfig, type SimOptions } from './sim-options';

export const RUN_DEFAULT_MS = 2;

/** `lazytlb run`: one simulation; JSON with --json, otherwise a readable summary. */
export function runCommand(o: SimOptions & { strategy: string }, out: (s: string) => void): number {
  const cfg = runConfig(o.strategy, o, RUN_DEFAULT_MS);
  const result = runSimulation(cfg, loadStrategy(o.strategy));
  out(o.json === true ? JSON.stringify(result, null, 2) : summary(result));
  return 0;
}

export function summary(r: RunJson): string {
  const f = r.flushes;
  const lines = [
    `${r.config.strategy} on ${r.config.machine.profile}, workload ${r.config.workload}, seed ${r.seed}: ${r.simulated.cycles} cycles (${(r.simulated.seconds * 1e3).toFixed(3)} ms)`,
    `  IPIs sent ${r.ipis.sent}; flush IPIs ${r.ipis.tlbFlush}, to lazy CPUs ${r.ipis.toLazyCpus}, lazy CPUs spared ${r.ipis.avoidedLazy}`,
    `  flushes ${f.count} (${f.local} local, ${f.remote} remote); latency cycles p50 ${f.latencyCycles.p50}, p99 ${f.latencyCycles.p99}, max ${f.latencyCycles.max}`,
    `  context switches ${r.contextSwitches.count}; cycles in switch_mm/enter_lazy_tlb ${r.contextSwitches.switchMmCycles}`,
    `  coherence: ${r.coherence.lineTransfers} line transfers, ${r.coherence.rmw} locked RMWs (${r.coherence.cmpxchgFailed} failed cmpxchg)`,
    `  TLB: ${r.tlb.stlbMisses} page walks, ${r.tlb.invlpgs} page invalidations, ${r.tlb.pcidFlushes} PCID flushes, ${r.tlb.fullFlushes} full flushes`,
    `  violations: ${r.violationCounts.staleTranslation} stale translations, ${r.violationCounts.freedPageTable} freed page tables`,
  ];
  for (const v of r.violations.slice(0, 5)) lines.push(`    ${v.kind} on cpu${v.cpu} at cycle ${v.cycle}: ${v.detail}`);
  lines.push(`  host: ${r.host.wallMs.toFixed(0)} ms, ${r.host.events} events, ${(r.host.eventsPerSecond / 1e6).toFixed(2)} M events/s`);
  return lines.join('\n');
}
