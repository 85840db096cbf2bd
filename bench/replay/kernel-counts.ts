import type { TraceEvent } from './trace-events';

/** The kernel's own flush decisions, as far as its trace records them. */
export interface KernelCounts {
  /** flush_tlb_mm_range() calls: each traces TLB_LOCAL_MM_SHOOTDOWN (3) when the mm is loaded
   *  locally, else only TLB_REMOTE_SEND_IPI (4); a 4 followed by its 3 is one call. Null when the
   *  trace has no tlb_flush events. */
  flushes: number | null;
  /** Calls that found another CPU in mm_cpumask and went to flush_tlb_multi() (reason 4). */
  remoteFlushes: number | null;
  /** IPIs sent for flush_tlb_func: an ipi_send_cpu (or a CPU of an ipi_send_cpumask) whose
   *  csd_queue_cpu, just before on the same CPU, queued flush_tlb_func. Null without csd events. */
  flushIpis: number | null;
  /** flushIpis / flushes. */
  ipisPerFlush: number | null;
}

const LOCAL_MM_SHOOTDOWN = 3;
const REMOTE_SEND_IPI = 4;
const FLUSH_FUNC = /^flush_tlb_func/;

/**
 * Counts from the trace, in file order per CPU (a flush and its IPIs happen on one CPU, in
 * order). Where the trace lacks the events a count needs, the count is null, never zero.
 */
export function kernelCounts(events: readonly TraceEvent[], cpus: number): KernelCounts {
  let local = 0;
  let remote = 0;
  let remoteAlone = 0;
  let flushIpis = 0;
  let sawFlush = false;
  let sawCsd = false;
  /** Per CPU: a reason-4 event whose reason-3 partner has not come yet. */
  const pendingRemote = new Uint8Array(cpus);
  /** Per CPU: CPUs that queued flush_tlb_func work since the CPU's last IPI send. */
  const queuedFlush: Array<Set<number>> = Array.from({ length: cpus }, () => new Set());
  for (const e of events) {
    if (e.cpu >= cpus) continue;
    switch (e.kind) {
      case 'tlb_flush':
        sawFlush = true;
        if (e.reason === REMOTE_SEND_IPI) {
          if (pendingRemote[e.cpu] === 1) remoteAlone++;
          remote++;
          pendingRemote[e.cpu] = 1;
        } else if (e.reason === LOCAL_MM_SHOOTDOWN) {
          local++;
          pendingRemote[e.cpu] = 0;
        }
        break;
      case 'csd_queue_cpu':
        sawCsd = true;
        if (FLUSH_FUNC.test(e.func)) queuedFlush[e.cpu].add(e.targetCpu);
        else queuedFlush[e.cpu].delete(e.targetCpu);
        break;
      case 'ipi_send_cpu':
        if (queuedFlush[e.cpu].delete(e.targetCpu)) flushIpis++;
        break;
      case 'ipi_send_cpumask':
        for (const t of e.targetCpus) if (queuedFlush[e.cpu].delete(t)) flushIpis++;
        break;
      default:
        break;
    }
  }
  for (let c = 0; c < cpus; c++) remoteAlone += pendingRemote[c];
  const flushes = sawFlush ? local + remoteAlone : null;
  const ipis = sawCsd ? flushIpis : null;
  return {
    flushes,
    remoteFlushes: sawFlush ? remote : null,
    flushIpis: ipis,
    ipisPerFlush: flushes !== null && ipis !== null && flushes > 0 ? Number((ipis / flushes).toPrecision(4)) : null,
  };
}
