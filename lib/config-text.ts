import { ConfigError } from './errors';

/**
 * Text-to-value helpers shared by every place user configuration comes in as text: machine
 * parameters (`--param`), workload parameters (`--wparam`), and config objects whose numbers were
 * typed as strings.
 */

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const HEX = /^0x[0-9a-f]+$/i;

/**
 * A number as typed: decimal ("19", "2.5", "1e3"), hex ("0x10"), or, where `bools` is set,
 * "true"/"false" (1/0). Returns NaN for anything else.
 */
export function parseNumberText(text: string, bools: boolean): number {
  const s = text.trim();
  const lower = s.toLowerCase();
  if (bools && (lower === 'true' || lower === 'false')) return lower === 'true' ? 1 : 0;
  if (HEX.test(s)) return parseInt(s.slice(2), 16);
  if (DECIMAL.test(s)) return Number(s);
  return NaN;
}

/** Splits "key=value" at the first '='; `option` names the CLI option in the error. */
export function parseAssignment(text: string, option: string): [key: string, value: string] {
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq).trim();
  const value = eq < 0 ? '' : text.slice(eq + 1).trim();
  if (key === '' || value === '') throw new ConfigError(`${option} expects key=value, got '${text}'`);
  return [key, value];
}

/** The known key nearest to `key` (case-insensitive edit distance), if it is near enough to be a typo. */
export function nearestKey(key: string, known: readonly string[]): string | null {
  let best = '';
  let bestDist = Infinity;
  for (const k of known) {
    // Case-insensitive distance, so 'l1hit' finds 'l1Hit' at distance 0.
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  return bestDist <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

/** "unknown WHAT 'key' (did you mean 'k'?)", or the list of known keys when none is near. */
export function unknownKeyMessage(what: string, key: string, known: readonly string[]): string {
  const near = nearestKey(key, known);
  return near !== null ? `unknown ${what} '${key}' (did you mean '${near}'?)` : `unknown ${what} '${key}' (known: ${known.join(', ')})`;
}

/** Levenshtein distance (insert, delete, substitute all cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
