import { describeSpec, type WorkloadParamSpec } from './params';
import type { Workload } from './workload';

function defaultText(spec: WorkloadParamSpec): string {
  return spec.unit === 'cpulist' && spec.default === '' ? "''" : String(spec.default);
}

/** `lazytlb workloads`: one line per workload. */
export function listWorkloads(workloads: readonly Workload[]): string {
  const width = Math.max(...workloads.map((w) => w.name.length));
  return workloads.map((w) => `${w.name.padEnd(width)}  ${w.description}`).join('\n');
}

/** `lazytlb workloads NAME`: the workload, its sources and every parameter with unit, range and default. */
export function describeWorkload(w: Workload): string {
  const lines = [`${w.name}: ${w.description}`];
  if (w.warmupMs !== undefined) lines.push(`warm-up: ${w.warmupMs} ms`);
  for (const s of w.sources) lines.push(`source: ${s}`);
  const keys = Object.keys(w.params);
  if (keys.length === 0) {
    lines.push('parameters: none');
    return lines.join('\n');
  }
  lines.push('parameters (--wparam key=value):');
  const width = Math.max(...keys.map((k) => k.length));
  for (const k of keys) {
    const spec = w.params[k];
    lines.push(`  ${k.padEnd(width)}  default ${defaultText(spec)}; ${describeSpec(spec)}`);
    lines.push(`  ${''.padEnd(width)}  ${spec.doc}`);
  }
  return lines.join('\n');
}

/** docs/WORKLOADS.md's reference part: generated from the definitions, checked by a test. */
export function workloadsMarkdown(workloads: readonly Workload[]): string {
  const out: string[] = [];
  for (const w of workloads) {
    out.push(`### \`${w.name}\``, '', w.description + '.', '');
    if (w.warmupMs !== undefined) out.push(`Warm-up: ${w.warmupMs} ms.`, '');
    out.push('Sources:', '', ...w.sources.map((s) => `- ${s}`), '');
    const keys = Object.keys(w.params);
    if (keys.length === 0) {
      out.push('No parameters.', '');
      continue;
    }
    out.push('| parameter | default | range | meaning |', '|---|---|---|---|');
    for (const k of keys) {
      const spec = w.params[k];
      out.push(`| \`${k}\` | ${defaultText(spec)} | ${describeSpec(spec)} | ${spec.doc.replace(/\|/g, '\\|')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
