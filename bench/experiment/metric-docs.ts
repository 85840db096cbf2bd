import { metricsOf } from './metrics';
import type { RunJson } from '../result-json';

/**
 * Every figure a run reports, by the dotted path summaries, CSV columns and `--baseline` tests use,
 * with its unit and meaning. docs/STATS.md is generated from it, and a test checks that it names
 * exactly the figures `metricsOf` finds in a run: a new figure cannot go undocumented.
 */
export const METRIC_DOCS: Readonly<Record<string, readonly [unit: string, doc: string]>> = Object.freeze({
  'ipis.sent': ['count', 'IPIs sent by every CPU, every vector (flush, reschedule, call-function, device)'],
  'ipis.tlbFlush': ['count', 'IPIs sent by flush_tlb_mm_range()'],
  'ipis.toLazyCpus': ['count', 'CPUs lazy on the flushed mm (CR3 on it while running a kernel thread or idle: ground truth, not a strategy flag) that a flush interrupted'],
  'ipis.avoidedLazy': ['count', 'CPUs lazy on the flushed mm at the start of a flush that it did not interrupt'],
  'flushes.count': ['count', 'flush_tlb_mm_range() calls in the window'],
  'flushes.local': ['count', 'flushes that reached no other CPU'],
  'flushes.remote': ['count', 'flushes that reached another CPU: IPIs, broadcast invalidations, or invalidations posted in memory (mc-shootdown messages, LATR states)'],
  'flushes.remoteDecisions': ['count', 'flushes whose mm_cpumask held another CPU at entry (the kernel\'s TLB_REMOTE_SEND_IPI tracepoint)'],
  'flushes.latencyCycles.p50': ['cycles', 'median flush latency, entry to return of flush_tlb_mm_range() on the initiator'],
  'flushes.latencyCycles.p90': ['cycles', '90th percentile flush latency'],
  'flushes.latencyCycles.p99': ['cycles', '99th percentile flush latency'],
  'flushes.latencyCycles.max': ['cycles', 'longest flush'],
  'flushes.latencyCycles.mean': ['cycles', 'mean flush latency'],
  'contextSwitches.count': ['count', 'context switches (schedule() picking another task)'],
  'contextSwitches.sameMm': ['count', 'switches between two tasks of one mm (threads)'],
  'contextSwitches.differentMm': ['count', 'switches between tasks of two mms'],
  'contextSwitches.toKernelThread': ['count', 'switches to a kernel thread (lazy TLB entry)'],
  'contextSwitches.fromKernelThread': ['count', 'switches from a kernel thread'],
  'contextSwitches.toIdle': ['count', 'switches to the idle task'],
  'contextSwitches.fromIdle': ['count', 'switches from the idle task'],
  'contextSwitches.switchMmCycles': ['cycles', 'cycles spent in enter_lazy_tlb() and switch_mm_irqs_off(), summed over CPUs'],
  'rates.contextSwitches': ['per second', 'context switches per simulated second'],
  'rates.flushes': ['per second', 'flushes per simulated second'],
  'rates.flushIpis': ['per second', 'flush IPIs per simulated second'],
  'perFlush.ipis': ['count', 'flush IPIs per flush'],
  'perFlush.targets': ['count', 'CPUs a flush interrupted (queued flush work for), per flush'],
  'perFlush.posted': ['count', 'CPUs a flush posted its invalidation to in memory without interrupting them (mc-shootdown messages, LATR states), per flush'],
  'perFlush.lazySkipped': ['count', 'lazy CPUs spared, per flush'],
  'coherence.lineTransfers': ['count', 'cache-to-cache line transfers (between SMT siblings, within a CCX, between CCXs and between sockets)'],
  'coherence.rmw': ['count', 'locked read-modify-writes (LOCK CMPXCHG, XCHG, XADD, ...)'],
  'coherence.cmpxchgFailed': ['count', 'CMPXCHGs whose comparison failed'],
  'tlb.l1dMisses': ['count', 'user accesses that missed the L1 dTLB'],
  'tlb.stlbMisses': ['count', 'user accesses that missed the second-level TLB: page walks'],
  'tlb.kernelWalks': ['count', "walks for the kernel's own global translations (kernelTlbPages)"],
  'tlb.invlpgs': ['count', 'single-page invalidations (INVLPG, or an INVLPGB received)'],
  'tlb.pcidFlushes': ['count', 'flushes of one PCID (CR3 write without NOFLUSH, INVPCID single-context)'],
  'tlb.fullFlushes': ['count', 'flushes of every PCID (CR3 write without PCID support)'],
  'lazyMm.grabs': ['count', 'mmgrab_lazy_tlb() calls (--mm-refcount atomic or shoot-lazies): user -> kernel-thread switches and exit_mm(); with atomic each is a LOCK INC of mm_count'],
  'lazyMm.drops': ['count', 'mmdrop_lazy_tlb() calls: kernel-thread -> user switches and exec from a kernel thread; with atomic a LOCK DEC of mm_count, with shoot-lazies an smp_mb()'],
  'lazyMm.shootCalls': ['count', 'cleanup_lazy_tlbs() calls at the final mmdrop (--mm-refcount shoot-lazies): one per freed mm'],
  'lazyMm.shootTargets': ['count', 'other CPUs in mm_cpumask that cleanup_lazy_tlbs() called do_shoot_lazy_tlb on (shoot-lazies IPIs)'],
  'lazyMm.shootSwitches': ['count', 'CPUs that do_shoot_lazy_tlb() found lazy on the dying mm and switched to init_mm'],
  'lru.added': ['count', 'anonymous pages a write fault or a COW allocated and added to its CPU\'s lru_add batch (--lru drain or batch; tlb/mm/lru.ts)'],
  'lru.freed': ['count', 'pages freed after a zap\'s flush or a COW (release_pages / folios_put)'],
  'lru.batchMoves': ['count', 'lru_add batches moved onto the LRU under lru_lock: full, or drained by free_pages_and_swap_cache (--lru drain)'],
  'lru.drains': ['count', 'lru_add_drain() calls from free_pages_and_swap_cache (--lru drain only)'],
  'lru.lockAcquisitions': ['count', 'lru_lock acquisitions, all nodes (one lruvec per node)'],
  'lru.lockContended': ['count', 'lru_lock acquisitions that had to wait (a ticket not yet served, or the queued lock\'s slowpath)'],
  'lru.lockWaitCycles': ['cycles', 'mean wait for lru_lock, from the first attempt to holding it; null if it was never taken'],
  'kvm.preemptions': ['count', 'vCPUs the host model descheduled while runnable (--param hostPreemptsPerS > 0; 0 on bare metal)'],
  'kvm.stolenCycles': ['cycles', 'cycles vCPUs spent descheduled by the host (steal time), summed over vCPUs; a deschedule counts whole when its vCPU enters again (one still going at the end of the window is not in it)'],
  'kvm.guestFlushes': ['count', 'VM entries at which the host flushed the guest TLB for KVM_VCPU_FLUSH_TLB (--pv-flush)'],
  'kvm.pvDropped': ['count', 'flush targets kvm_flush_tlb_multi() dropped from the IPIs because their vCPU was preempted (--pv-flush)'],
  'kvm.pvCmpxchgFailed': ['count', 'preempted flush targets whose CMPXCHG failed because the host entered them meanwhile: IPIed after all'],
  'lazyCoverage.quarantinedPages': ['count', 'page changes a lazily posted flush covered (latr): quarantined until every CPU has applied it or the range is reused'],
  'lazyCoverage.staleUsesAllowed': ['count', 'user accesses through an entry a lazy flush had yet to remove, before the page was reused: allowed by the quarantine contract, not violations'],
  'lazyCoverage.prematureReuses': ['count', 'pages given a new translation while a CPU still held an entry a lazy flush had to remove (each stale use after it is a violation)'],
  'violationCounts.staleTranslation': ['count', 'uses of a translation older than a flush that had returned (over the whole run, warm-up included)'],
  'violationCounts.freedPageTable': ['count', 'CPUs left on freed page tables after a flush with freed_tables returned (whole run)'],
  'violationCounts.freedMm': ['count', 'CPUs whose active mm or CR3 was an mm_struct being freed (whole run; with --mm-refcount shoot-lazies, a strategy whose mm_cpumask misses lazy CPUs)'],
  'violationCounts.lockup': ['count', 'CPUs and waits stuck at the end of the run past their threshold (RunConfig.lockupCycles): interrupts off, spinning, a runnable task on an idle CPU, a CSD not released, a flush not returned'],
});

/** The documented paths a run's figures lack, and the figures it has that are not documented. */
export function undocumented(r: RunJson): { missing: string[]; extra: string[] } {
  const keys = [...metricsOf(r).keys()];
  return { missing: Object.keys(METRIC_DOCS).filter((k) => !keys.includes(k)), extra: keys.filter((k) => !(k in METRIC_DOCS)) };
}

/** docs/STATS.md. */
export function statsMarkdown(): string {
  const lines = [
    '# The figures of a run',
    '',
    '<!-- Generated from bench/experiment/metric-docs.ts; tests/bench/experiment/metric-docs.test.ts fails when this file differs.',
    '     Regenerate: UPDATE_DOCS=1 npx jest tests/bench/experiment/metric-docs.test.ts -->',
    '',
    'Every figure of a run, by the dotted path of the run JSON (`run --json`) that summaries over seeds',
    '(`compare --json` `summary[].metrics`), `--baseline` tests (`vsBaseline`), CSV columns and the',
    "library's `StrategySummary.metrics` use. Figures cover the measured window after the warm-up,",
    'except the violation counts, which cover the whole run. A figure the window could not measure (a',
    'latency without flushes) is null, never zero.',
    '',
    '| path | unit | meaning |',
    '|---|---|---|',
    ...Object.entries(METRIC_DOCS).map(([k, [unit, doc]]) => `| \`${k}\` | ${unit} | ${doc} |`),
    '',
  ];
  return lines.join('\n');
}
