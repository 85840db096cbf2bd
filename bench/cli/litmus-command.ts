import * as fs from 'fs';
import * as path from 'path';
import { LazytlbError, ParseError } from '../../lib/errors';
import type { MachineConfig } from '../../lib/machine/resolve';
import { parseLitmus } from '../../mem/litmus/parse';
import { LITMUS_DEFAULTS, runLitmus, type LitmusReport } from '../../mem/litmus/run';
import { litmusProgressBar } from './progress-bar';

export interface LitmusCommandOptions {
  runs: number;
  maxEvents: number;
  seed: string;
  machine: MachineConfig;
  json: boolean;
  expected?: string;
  /** `--search pct`: PCT of this depth instead of the random timing (mem/litmus/run.ts). */
  pct?: { depth: number };
}

/** `lazytlb litmus FILE...`: runs herdtools7 x86 litmus tests on the simulated cores. Returns the exit status. */
export function litmusCommand(files: string[], o: LitmusCommandOptions, out: (s: string) => void): number {
  const tests = files.map((f) => parseLitmus(readText(f), path.basename(f)));
  const expected = o.expected === undefined ? undefined : readExpected(o.expected);
  // A long --runs shows its progress on a terminal (stderr only: the output stays the same).
  const bar = litmusProgressBar(tests.length * o.runs);
  let reports: LitmusReport[];
  try {
    reports = tests.map((t, i) => {
      const onRun = bar.progress === undefined ? undefined : (done: number) => bar.progress?.(i * o.runs + done, t.name);
      return runLitmus(t, { ...LITMUS_DEFAULTS, runs: o.runs, maxEvents: o.maxEvents, seed: o.seed, machine: o.machine, ...(o.pct !== undefined ? { pct: o.pct } : {}) }, onRun);
    });
  } finally {
    bar.stop();
  }
  const mismatches = expected === undefined ? [] : reports.filter((r) => expected.get(r.name) !== r.verdict);
  const missing = expected === undefined ? [] : reports.filter((r) => !expected.has(r.name)).map((r) => r.name);
  if (missing.length > 0) throw new LazytlbError(`${o.expected}: no expected verdict for ${missing.join(', ')}`);
  if (o.json) {
    const tests = reports.map((r) => ({
      name: r.name,
      runs: r.runs,
      observed: r.observed,
      conditionObserved: r.conditionObserved,
      verdict: r.verdict,
      ...(expected !== undefined ? { expected: expected.get(r.name) } : {}),
    }));
    out(JSON.stringify({ machine: o.machine.profile, seed: o.seed, ...(o.pct !== undefined ? { search: { mode: 'pct', depth: o.pct.depth } } : {}), tests }, null, 2));
  } else {
    out(formatTable(reports, expected));
  }
  return mismatches.length > 0 ? 1 : 0;
}

function formatTable(reports: LitmusReport[], expected: Map<string, string> | undefined): string {
  const width = Math.max(4, ...reports.map((r) => r.name.length));
  const lines = [`${'test'.padEnd(width)}  verdict  ${expected ? 'expected  ' : ''}runs  states  condition`];
  for (const r of reports) {
    const states = Object.keys(r.observed).length;
    const exp = expected?.get(r.name);
    const mark = exp === undefined ? '' : exp === r.verdict ? `${exp.padEnd(8)}  ` : `${exp.padEnd(8)}  `;
    const flag = exp !== undefined && exp !== r.verdict ? '  MISMATCH' : '';
    lines.push(`${r.name.padEnd(width)}  ${r.verdict.padEnd(7)}  ${mark}${String(r.runs).padStart(4)}  ${String(states).padStart(6)}  ${r.conditionObserved ? 'seen' : 'never'}${flag}`);
  }
  if (expected !== undefined) {
    const bad = reports.filter((r) => expected.get(r.name) !== r.verdict).length;
    lines.push(`${reports.length - bad} passed, ${bad} failed`);
  }
  return lines.join('\n');
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new LazytlbError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** herdtools7 kinds format: `name  Allow|Forbid` per line. */
function readExpected(file: string): Map<string, string> {
  const map = new Map<string, string>();
  readText(file).split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s+(Allow|Forbid|Allowed|Forbidden|Required)$/.exec(line);
    if (m === null) throw new ParseError(path.basename(file), i + 1, `expected 'NAME Allow|Forbid', got '${line}'`);
    map.set(m[1], m[2].startsWith('Forbid') ? 'Forbid' : 'Allow');
  });
  return map;
}
