import { parseParamAssignment, profileNames, resolveMachine } from '../../lib/machine/resolve';
import { validate, type ValidateReport } from '../calibration/validate';

export interface ValidateOptions {
  machine?: string;
  json?: boolean;
  quick?: boolean;
  param: string[];
}

/** `lazytlb validate`: every calibration target, simulated and compared; exit 1 if any fails. */
export function validateCommand(o: ValidateOptions, out: (s: string) => void): number {
  const params: Record<string, string> = {};
  for (const text of o.param) {
    const [k, v] = parseParamAssignment(text);
    params[k] = v;
  }
  // A bad key or value is named before anything runs.
  for (const p of profileNames()) if (o.machine === undefined || o.machine === p) resolveMachine(p, params);
  const report = validate({ machine: o.machine, quick: o.quick === true, params });
  out(o.json === true ? JSON.stringify(report, null, 2) : validateTable(report));
  return report.pass ? 0 : 1;
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(4));

/** One line per target: published vs simulated, the ratio, the tolerance, the verdict; sources below. */
export function validateTable(report: ValidateReport): string {
  const header = ['profile', 'target', 'published', 'simulated', 'unit', 'ratio', 'tol', ''];
  const rows = report.rows.map((r) => [
    r.profile, r.id, fmt(r.published), fmt(r.simulated), r.unit, r.ratio.toFixed(3), `±${Math.round(r.tolerance * 100)}%`,
    (r.pass ? 'pass' : 'FAIL') + (r.fitted !== null ? ' (fitted)' : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 || i === 4 || i === 7 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const lines = [line(header), ...rows.map(line), '', 'Sources:'];
  for (const r of report.rows) lines.push(`  ${r.profile} ${r.id}: ${r.what}. ${r.source}${r.fitted !== null ? ` (fitted: ${r.fitted})` : ''}`);
  const failed = report.rows.filter((r) => !r.pass).length;
  lines.push('', failed === 0 ? `all ${report.rows.length} targets pass` : `${failed} of ${report.rows.length} targets FAIL`);
  return lines.join('\n');
}
