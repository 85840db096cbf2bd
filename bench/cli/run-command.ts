import { ConfigError } from '../../lib/errors';
import type { RunJson } from '../result-json';
import { runSimulation } from '../runner';
import { loadWorkload } from '../workloads/index';
import { loadStrategy } from './load-strategy';
import { runProgressBar } from './progress-bar';
import { runConfig, type SimOptions } from './sim-options';

/** Long enough for about 190 flushes of the default memcache, so the flush figures are not noise. */
export const RUN_DEFAULT_MS = 10;

/** `lazytlb run`: one simulation; JSON with --json, otherwise a readable summary. Warnings go to `warn`. */
export function runCommand(o: SimOptions & { strategy: string }, out: (s: string) => void, warn: (s: string) => void): number {
  const workload = loadWorkload(o.workload);
  const cfg = runConfig(o.strategy, o, workload, RUN_DEFAULT_MS);
  // A search picks the timing noise of a perturbed run: without --perturb there is none to pick.
  if (cfg.search !== undefined && !cfg.perturb) throw new ConfigError(`--search ${cfg.search.mode} needs --perturb`);
  const bar = runProgressBar(cfg.machine.params.clockGhz * 1e6);
  let result: RunJson;
  try {
    result = runSimulation(cfg, loadStrategy(o.strategy), workload, bar.progress);
  } finally {
    bar.stop();
  }
  for (const w of result.warnings) warn(`warning: ${w}`);
  out(o.json === true ? JSON.stringify(result, null, 2) : summary(result));
  const v = result.violationCounts;
  return v.staleTranslation + v.freedPageTable + v.lockup + v.freedMm > 0 ? 1 : 0; // violations found: exit 1, as explore
}

const fmt = (x: number | null, digits = 0): string => (x === null ? '-' : x.toFixed(digits));

export function summary(r: RunJson): string {
  const f = r.flushes;
  const l = f.latencyCycles;
  const lines = [
    `${r.config.strategy} on ${r.config.machine.profile}, workload ${r.config.workload}, seed ${r.seed}: ${r.simulated.cycles} cycles measured (${(r.simulated.seconds * 1e3).toFixed(3)} ms) after ${r.config.warmupCycles} cycles of warm-up`,
    `  rates per simulated second: ${fmt(r.rates.contextSwitches)} context switches, ${fmt(r.rates.flushes)} flushes, ${fmt(r.rates.flushIpis)} flush IPIs`,
    `  IPIs sent ${r.ipis.sent}; flush IPIs ${r.ipis.tlbFlush}, to lazy CPUs ${r.ipis.toLazyCpus}, lazy CPUs spared ${r.ipis.avoidedLazy}`,
    `  flushes ${f.count} (${f.local} local, ${f.remote} remote); latency cycles p50 ${fmt(l.p50)}, p99 ${fmt(l.p99)}, max ${fmt(l.max)}`,
    `  per flush: ${fmt(r.perFlush.ipis, 2)} IPIs, ${fmt(r.perFlush.targets, 2)} CPUs interrupted, ${fmt(r.perFlush.posted, 2)} posted to, ${fmt(r.perFlush.lazySkipped, 2)} lazy CPUs skipped`,
    `  context switches ${r.contextSwitches.count}; cycles in switch_mm/enter_lazy_tlb ${r.contextSwitches.switchMmCycles}`,
    `  coherence: ${r.coherence.lineTransfers} line transfers, ${r.coherence.rmw} locked RMWs (${r.coherence.cmpxchgFailed} failed cmpxchg)`,
    `  TLB: ${r.tlb.stlbMisses} page walks, ${r.tlb.invlpgs} page invalidations, ${r.tlb.pcidFlushes} PCID flushes, ${r.tlb.fullFlushes} full flushes`,
    `  violations (whole run): ${r.violationCounts.staleTranslation} stale translations, ${r.violationCounts.freedPageTable} freed page tables, ${r.violationCounts.lockup} lockups${r.violationCounts.freedMm > 0 ? `, ${r.violationCounts.freedMm} freed mms` : ''}`,
  ];
  const lz = r.lazyMm;
  if (r.config.strategyOptions.mmRefcount !== 'none') {
    lines.splice(-1, 0, `  lazy mm (${r.config.strategyOptions.mmRefcount}): ${lz.grabs} grabs, ${lz.drops} drops; ${lz.shootCalls} cleanup_lazy_tlbs, ${lz.shootTargets} CPUs shot at, ${lz.shootSwitches} switched to init_mm`);
  }
  const lru = r.lru;
  if (r.config.strategyOptions.lru !== 'none') {
    const wait = lru.lockWaitCycles === null ? '' : `, ${lru.lockWaitCycles.toFixed(0)} cycles' wait on average`;
    lines.splice(-1, 0, `  LRU (${r.config.strategyOptions.lru}): ${lru.added} pages added, ${lru.freed} freed; lru_lock ${lru.lockAcquisitions} times, ${lru.lockContended} contended${wait}`);
  }
  for (const v of r.violations.slice(0, 5)) lines.push(`    ${v.kind} on cpu${v.cpu} at cycle ${v.cycle}: ${v.detail}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  lines.push(`  host: ${r.host.wallMs.toFixed(0)} ms, ${r.host.events} events, ${(r.host.eventsPerSecond / 1e6).toFixed(2)} M events/s`);
  return lines.join('\n');
}
