import * as fs from 'fs';
import { ConfigError } from '../../lib/errors';
import { parseParamAssignment } from '../../lib/machine/resolve';
import { strategyNames } from '../../tlb/strategies/index';
import { DEFAULT_MM_REFCOUNT, type MmRefcountMode, type StrategyOptions } from '../../tlb/strategies/strategy';
import { parseTrace } from '../replay/parse-trace';
import { replayTrace, type ReplayJson } from '../replay/replay';
import { loadStrategy } from './load-strategy';

export interface ReplayCommandOptions {
  strategy?: string;
  strategies?: string;
  machine: string;
  param: string[];
  seed: string;
  lenient?: boolean;
  pcid: boolean;
  mmRefcount?: MmRefcountMode;
  pvFlush?: boolean;
  json?: boolean;
}

/**
 * `lazytlb replay TRACE...`: each trace's schedule and mapping changes replayed under each
 * strategy, with the kernel's own counts from the trace beside the simulated ones.
 */
export function replayCommand(files: string[], o: ReplayCommandOptions, out: (s: string) => void, warn: (s: string) => void): number {
  if (o.strategy !== undefined && o.strategies !== undefined) throw new ConfigError('give --strategy or --strategies, not both');
  const names = o.strategy !== undefined ? [o.strategy] : o.strategies === undefined || o.strategies === 'all' ? strategyNames() : o.strategies.split(',').map((s) => s.trim());
  const strategies = names.map((n) => [n, loadStrategy(n)] as const); // every name checked before anything runs
  const params: Record<string, string> = {};
  for (const text of o.param) {
    const [k, v] = parseParamAssignment(text);
    params[k] = v;
  }
  const strategyOptions: Partial<StrategyOptions> = {
    ...(o.pcid ? {} : { pcid: false }),
    ...(o.mmRefcount !== undefined && o.mmRefcount !== DEFAULT_MM_REFCOUNT ? { mmRefcount: o.mmRefcount } : {}),
    ...(o.pvFlush === true ? { pvFlush: true } : {}),
  };
  const reports: ReplayJson[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const trace = parseTrace(text, file, { lenient: o.lenient === true });
    for (const msg of trace.skipped.messages) warn(`warning: skipped ${msg}`);
    const report = replayTrace(file, trace, strategies, { machine: o.machine, params, seed: o.seed, strategyOptions });
    for (const r of report.results) for (const w of r.warnings) warn(`warning: ${file}: ${r.config.strategy}: ${w}`);
    reports.push(report);
  }
  if (o.json === true) out(JSON.stringify(files.length === 1 ? reports[0] : { traces: reports }, null, 2));
  else for (const r of reports) out(replayTable(r));
  return 0;
}

const dash = (x: number | null, digits = 0): string => (x === null ? '-' : x.toFixed(digits));

/** The kernel's counts, then one row per strategy. */
export function replayTable(r: ReplayJson): string {
  const t = r.trace;
  const m = r.results[0].config.machine;
  const p = m.params;
  const lines = [
    `${r.file}: ${t.format}, ${t.cpus} CPUs, ${t.events} events over ${t.spanMs} ms; ${t.tasks} tasks, ${t.mms} address spaces; ` +
      `${t.inferred} switches inferred, ${t.skipped} lines skipped, ${t.lost} events lost, ${t.outOfOrder} out of order`,
    `replayed on ${m.profile} reshaped to ${t.cpus} CPUs (${p.sockets} socket, ${p.ccxPerSocket} CCX of ${p.coresPerCcx} cores)`,
  ];
  const header = ['', 'flushes', 'remote', 'flushIPIs', 'IPI/flush', 'toLazy', 'spared', 'p50', 'p99', 'switches', 'stale', 'freedPT'];
  const k = r.kernel;
  const rows = [
    ['kernel (trace)', dash(k.flushes), dash(k.remoteFlushes), dash(k.flushIpis), dash(k.ipisPerFlush, 3), '-', '-', '-', '-', '-', '-', '-'],
    ...r.results.map((x) => [
      x.config.strategy + (x.warnings.length > 0 ? ' (!)' : ''), String(x.flushes.count), String(x.flushes.remoteDecisions), String(x.ipis.tlbFlush),
      dash(x.perFlush.ipis, 3), String(x.ipis.toLazyCpus), String(x.ipis.avoidedLazy), dash(x.flushes.latencyCycles.p50), dash(x.flushes.latencyCycles.p99),
      String(x.contextSwitches.count), String(x.violationCounts.staleTranslation), String(x.violationCounts.freedPageTable),
    ]),
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  lines.push(fmt(header), ...rows.map(fmt));
  lines.push('("remote": flushes that found another CPU in mm_cpumask, the kernel\'s TLB_REMOTE_SEND_IPI; latencies in cycles; stale/freedPT: oracle violations)');
  return lines.join('\n');
}

export const REPLAY_STRATEGIES_HELP = `a comma-separated list, or 'all' (${strategyNames().length} shipped)`;
