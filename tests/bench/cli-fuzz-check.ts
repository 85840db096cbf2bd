/**
 * The properties of one fuzzed CLI run (tests/bench/cli-fuzz.test.ts): the documented exit codes,
 * no stack trace, bad input in one line that names what the user typed, and no silent zero: a
 * successful simulation measured something, or warned that it measured too little.
 */

type CliResult = { code: number; out: string; err: string };

/** A line of a stack trace (`    at fn (file.js:12:5)`); help text may wrap onto a line starting with "at". */
const STACK_FRAME = /^\s+at .*:\d+:\d+\)?$/m;

const quote = (a: string): string => (/^[\w./=,:+-]+$/.test(a) ? a : JSON.stringify(a));

/**
 * What a user typed that an error may name: each argument, an option without its dashes, both
 * sides of key=value, a file's name.
 */
function typed(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    const t = a.trim();
    out.push(t, t.replace(/^-+/, ''), ...t.split('='), t.split('/').pop() ?? '');
  }
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/** A blank name prints as `''`, or as the empty FILE of `FILE: detail`. */
const NAMES_BLANK = /''|(^lazytlb: |\s):/;

/** A one-character value is named only quoted, or as the FILE of `FILE: detail`. */
const namesShort = (line: string, t: string): boolean => line.includes(`'${t}'`) || line.includes(` ${t}:`);

/** Commander names a missing argument by its place in the usage, which nobody typed. */
const MISSING_ARGUMENT = /^error: missing required argument '\w+'$/;

/** Commander's help and version (exit 0, or 2 for a bare `lazytlb`): not results, not errors. */
const isHelp = (r: CliResult): boolean => /^Usage: /m.test(r.out + r.err) || /^\d+\.\d+\.\d+$/.test(r.out.trim());

const num = (s: string | undefined): number => (s === undefined ? NaN : Number(s));

/** A run's result (JSON or its text summary): why it is a silent zero, or null. */
function runZero(r: { cycles: number; events: number; activity: number }, warned: boolean): string | null {
  if (!(r.cycles > 0)) return `a successful run measured ${r.cycles} cycles`;
  if (!(r.events > 0)) return `a successful run processed ${r.events} events`;
  if (r.activity === 0 && !warned) return 'a successful run measured nothing (no flush, switch, transfer, RMW or walk) and did not warn';
  return null;
}

function jsonRun(j: any): { cycles: number; events: number; activity: number } {
  const activity = j.flushes.count + j.contextSwitches.count + j.coherence.lineTransfers + j.coherence.rmw + j.tlb.stlbMisses;
  return { cycles: j.simulated.cycles, events: j.host.events, activity };
}

function textRun(out: string): { cycles: number; events: number; activity: number } {
  const n = (re: RegExp) => num(re.exec(out)?.[1]);
  const activity = n(/flushes (\d+) \(/) + n(/context switches (\d+);/) + n(/(\d+) line transfers/) + n(/(\d+) locked RMWs/) + n(/(\d+) page walks/);
  return { cycles: n(/(\d+) cycles measured/), events: n(/(\d+) events/), activity };
}

/** Table rows (compare, sweep, replay): each row of numbers must hold one that is not zero, unless warned. */
function tableZero(out: string, warned: boolean): string | null {
  const rows = out.split('\n').filter((l) => /^\S.*\s+(-|\d)/.test(l) && !l.includes(':') && !/^strategy\s/.test(l) && !/^\s*\(/.test(l));
  if (rows.length === 0) return 'a successful run printed no result row';
  for (const row of rows) {
    const cells = row.trim().split(/\s{2,}/).slice(1);
    if (cells.length > 0 && cells.every((c) => /^[-0.±*]*$/.test(c)) && !warned) return `a row of zeros and no warning: ${row}`;
  }
  return null;
}

/** Why a successful command's output is a silent zero, or null. */
function silentZero(command: string, args: readonly string[], r: CliResult): string | null {
  const warned = /warning:/.test(r.err);
  const json = r.out.trimStart().startsWith('{') ? JSON.parse(r.out) : null;
  const writesFiles = args.includes('--out');
  // A shard of fewer runs than shards may hold none; merge joins it all the same.
  const mayBeEmpty = writesFiles || args.includes('--shard');
  switch (command) {
    case 'run':
      return runZero(json !== null ? jsonRun(json) : textRun(r.out), warned);
    case 'compare':
    case 'sweep':
    case 'replay': {
      if (json !== null) {
        const runs = json.runs?.map((x: any) => x.result) ?? json.results ?? json.traces?.flatMap((t: any) => t.results);
        if (!Array.isArray(runs) || runs.length === 0) return mayBeEmpty ? null : 'a successful run printed no results';
        for (const x of runs) {
          const why = runZero(jsonRun(x), warned || x.warnings.length > 0);
          if (why !== null) return why;
        }
        return null;
      }
      if (r.out.trim() === '') return writesFiles ? null : 'a successful run printed nothing';
      if (args.includes('--csv')) return r.out.trim().split('\n').length >= 2 ? null : 'a CSV without rows';
      return tableZero(r.out, warned);
    }
    case 'explore': {
      const runs = json !== null ? json.seeds : num(/(\d+) seeded runs/.exec(r.out)?.[1]);
      return runs > 0 ? null : `explore ran ${runs} seeds`;
    }
    case 'litmus': {
      const tests: { runs: number; states: number }[] = json !== null
        ? json.tests.map((t: any) => ({ runs: t.runs, states: Object.values(t.observed as Record<string, number>).reduce((a, b) => a + b, 0) }))
        : [...r.out.matchAll(/^\S+\s+(?:Allow|Forbid)\s+(?:(?:Allow|Forbid)\s+)?(\d+)\s+(\d+)\s/gm)].map((m) => ({ runs: Number(m[1]), states: Number(m[2]) }));
      if (tests.length === 0) return 'litmus printed no test';
      return tests.every((t) => t.runs > 0 && t.states > 0) ? null : `a litmus test without runs or states: ${JSON.stringify(tests)}`;
    }
    default:
      return r.out.trim() !== '' || writesFiles ? null : `${command} printed nothing`;
  }
}

/** Throws, naming the command line, unless the run kept every property. */
export function checkCliOutcome(args: readonly string[], r: CliResult, ms: number, hangMs: number): void {
  const fail = (why: string): never => {
    throw new Error(`lazytlb ${args.map(quote).join(' ')}\n  ${why}\n  exit ${r.code}, ${ms} ms; stderr:\n${r.err}\n  stdout:\n${r.out.slice(0, 1500)}`);
  };
  if (ms > hangMs) fail(`took ${ms} ms: a hang`);
  if (STACK_FRAME.test(r.err) || STACK_FRAME.test(r.out)) fail('a stack trace');
  if (![0, 1, 2].includes(r.code)) fail(`exit ${r.code}: expected 0, 1 (violations) or 2 (bad input)`);
  if (isHelp(r)) return;
  if (r.code === 2) {
    // Warnings may come first; commander adds its hints on lines of their own in parentheses.
    const lines = r.err.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('lazytlb: warning:') && !/^\(.*\)$/.test(l.trim()));
    if (lines.length !== 1) fail(`bad input must be reported in one line, not ${lines.length}`);
    const named =
      MISSING_ARGUMENT.test(lines[0]) || typed(args).some((t) => (t.length >= 2 ? lines[0].includes(t) : namesShort(lines[0], t))) ||
      // An empty name, as typed or as an element of a list ('a,,b').
      (args.some((a) => a.trim() === '' || a.includes(',')) && NAMES_BLANK.test(lines[0]));
    if (!named) fail('the error names nothing the user typed');
    return;
  }
  const why = silentZero(args[0], args, r);
  if (why !== null) fail(why);
}
