/**
 * What the fuzz tests share (issue #11: "passes when there is no stack trace, no hang and no
 * silent zero"). fast-check runs from a fixed seed, so `npm test` sees the same cases every time
 * and stays within its budget; a long local run sets LAZYTLB_FUZZ_RUNS (cases per property, e.g.
 * 2000) and, for other cases than the default ones, LAZYTLB_FUZZ_SEED.
 */
import fc from 'fast-check';
import { LazytlbError } from '../lib/errors';
import { PARAM_SPECS, type ParamKey } from '../lib/machine/params';
import { resolveMachine } from '../lib/machine/resolve';
import type { WorkloadParamSpec } from '../bench/workloads/params';

/** fast-check's parameters for a property that runs `runs` cases in `npm test`. */
export function fuzzParams(runs: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  const n = Number(process.env.LAZYTLB_FUZZ_RUNS);
  const seed = Number(process.env.LAZYTLB_FUZZ_SEED);
  return {
    seed: Number.isSafeInteger(seed) ? seed : 42,
    numRuns: Number.isSafeInteger(n) && n > 0 ? n : runs,
    // A failing case is reported as found: shrinking it would rerun simulations for minutes.
    endOnFailure: true,
  };
}

/** A long fuzz run takes a multiple of the default's time: the test's own timeout grows with it. */
export function fuzzTimeout(defaultRuns: number, defaultMs: number): number {
  const n = Number(process.env.LAZYTLB_FUZZ_RUNS);
  return Number.isSafeInteger(n) && n > defaultRuns ? Math.ceil((defaultMs * n) / defaultRuns) : defaultMs;
}

/**
 * Values a user may type where a number or a name is expected and that no parser should choke
 * on: blanks, signs, NaN, overflow to Infinity, underflow to 0, past 2^53, hex, unicode digits
 * and letters, separators.
 */
export const ADVERSARIAL = [
  '', ' ', '-1', '0', '-0', 'NaN', 'Infinity', '1e309', '-1e309', '1e-12', '1e-400', 'abc', '1.5',
  '99999999999999999999', '9007199254740993', '0x10', '0b11', '１', '٣', 'é', '漢字', '🚀', 'true', '=', ',', '\t', '1\n2',
] as const;

/**
 * The outcome of a library call under fuzzed input: its value, or the LazytlbError it threw. Any
 * other exception is a bug in lazytlb and fails the property with its stack.
 */
export function userErrorOr<T>(what: string, fn: () => T): T | LazytlbError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LazytlbError) {
      if (err.message.includes('\n')) throw new Error(`${what}: a user error of more than one line: ${JSON.stringify(err.message)}`);
      return err;
    }
    throw new Error(`${what}: not a lazytlb error (a stack trace for the user): ${(err as Error).stack ?? String(err)}`);
  }
}

/** Fails unless the error message names one of `names` (a key, a file:line, a flag, the value at fault; a blank one as ''). */
export function expectNames(what: string, err: LazytlbError, names: readonly string[]): void {
  if (!names.some((n) => err.message.includes(n.trim() === '' ? `'${n}'` : n))) {
    throw new Error(`${what}: the error names none of ${JSON.stringify(names)}: ${err.message}`);
  }
}

/** The topology keys: their valid values are kept small, so that a valid machine is a small one. */
const TOPOLOGY = new Set<string>(['sockets', 'ccxPerSocket', 'coresPerCcx', 'threadsPerCore']);

/** Values a machine parameter accepts: its bounds and its profile value (the topology's at most 3). */
export function validMachineValues(key: ParamKey): string[] {
  const s = PARAM_SPECS[key];
  if (TOPOLOGY.has(key)) return ['1', '2', '3'];
  return [s.min, s.max, resolveMachine('skylake-sp-2s').params[key], s.integer ? Math.floor((s.min + s.max) / 2) : (s.min + s.max) / 2].map(String);
}

/** Values a workload parameter accepts: its bounds and default, its choices, or CPU lists. */
export function validWorkloadValues(spec: WorkloadParamSpec): string[] {
  if (spec.unit === 'choice') return [...spec.choices];
  if (spec.unit === 'cpulist') return ['', '0', '0-1', '1,0', '0-3'];
  return [spec.min, spec.max, spec.default].map(String);
}

/** Numbers no range admits, or only just: non-finite, negative zero, past 2^53, fractions of an integer. */
const ODD_NUMBERS = [NaN, Infinity, -Infinity, -0, -1, 0.5, 1e-12, 2 ** 53 + 2, Number.MAX_VALUE] as const;

/**
 * A value for a parameter whose valid values (as text) are `valid`: mostly one of them, as a
 * number or as text, else an adversarial string or number, or the range's neighbours.
 */
export function paramValue(valid: readonly string[]): fc.Arbitrary<number | string> {
  const numbers = valid.map(Number).filter((n) => Number.isFinite(n));
  const near = numbers.flatMap((n) => [n - 1, n + 1, n + 0.5, -n]);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...valid) },
    ...(numbers.length > 0 ? [{ weight: 2, arbitrary: fc.constantFrom(...numbers) }] : []),
    { weight: 1, arbitrary: fc.constantFrom(...ADVERSARIAL) },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_NUMBERS, ...near) },
  );
}

/**
 * One edit of a text file, as a person or a broken tool makes them: a line deleted, duplicated
 * or moved; a token replaced, dropped, repeated or inserted; a line cut short. Indices are taken
 * modulo what is there when the edit applies.
 */
type Edit =
  | { kind: 'delete' | 'duplicate' | 'truncate'; line: number; at: number }
  | { kind: 'swap'; line: number; other: number }
  | { kind: 'replace' | 'insert'; line: number; at: number; token: string }
  | { kind: 'drop-token' | 'repeat-token'; line: number; at: number };

const TOKEN = /\s+|[^\s\w.]|[\w.]+/g;

function applyEdit(lines: string[], e: Edit): void {
  if (lines.length === 0) return;
  const i = e.line % lines.length;
  const line = lines[i];
  const tokens = line.match(TOKEN) ?? [];
  const t = 'at' in e && tokens.length > 0 ? e.at % tokens.length : 0;
  const at = 'at' in e ? e.at % (line.length + 1) : 0;
  switch (e.kind) {
    case 'delete': return void lines.splice(i, 1);
    case 'duplicate': return void lines.splice(i, 0, line);
    case 'truncate': return void (lines[i] = line.slice(0, at));
    case 'swap': {
      const j = e.other % lines.length;
      [lines[i], lines[j]] = [lines[j], line];
      return;
    }
    case 'insert': return void (lines[i] = line.slice(0, at) + e.token + line.slice(at));
    case 'replace': return void (lines[i] = [...tokens.slice(0, t), e.token, ...tokens.slice(t + 1)].join(''));
    case 'drop-token': return void (lines[i] = [...tokens.slice(0, t), ...tokens.slice(t + 1)].join(''));
    case 'repeat-token': return void (lines[i] = [...tokens.slice(0, t + 1), ...tokens.slice(t)].join(''));
  }
}

/** `text` with one to `maxEdits` edits, using `tokens` (and the adversarial values) as replacements. */
export function mutated(text: string, tokens: readonly string[], maxEdits = 3): fc.Arbitrary<string> {
  const n = fc.nat({ max: 1 << 20 });
  const token = fc.constantFrom(...tokens, ...ADVERSARIAL);
  const edit: fc.Arbitrary<Edit> = fc.oneof(
    fc.record({ kind: fc.constantFrom('delete', 'duplicate', 'truncate'), line: n, at: n }),
    fc.record({ kind: fc.constant('swap'), line: n, other: n }),
    fc.record({ kind: fc.constantFrom('replace', 'insert'), line: n, at: n, token }),
    fc.record({ kind: fc.constantFrom('drop-token', 'repeat-token'), line: n, at: n }),
  );
  return fc.array(edit, { minLength: 1, maxLength: maxEdits }).map((edits) => {
    const lines = text.split('\n');
    for (const e of edits) applyEdit(lines, e);
    return lines.join('\n');
  });
}
