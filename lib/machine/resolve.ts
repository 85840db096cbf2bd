/**
 * Profile + overrides -> a validated, fully resolved MachineConfig. This is the only way user
 * input (`--machine NAME`, `--param key=value`, config files) becomes machine parameters, so every
 * check lives here: unknown profiles and keys are rejected (with a suggestion), values are parsed
 * and range-checked against the catalogue, and the topology and TLB geometry are cross-checked.
 */
import { ConfigError } from '../errors';
import { PARAM_KEYS, PARAM_SPECS, describeRange, isParamKey, type MachineParams, type ParamSpec } from './params';
import { PROFILES } from './profiles';
import { Topology } from './topology';

export interface MachineConfig {
  /** Name of the profile the values started from. */
  profile: string;
  /** Fully resolved numbers, keys in catalogue order. */
  params: MachineParams;
}

/** The known profile names, in definition order. */
export function profileNames(): string[] {
  return Object.keys(PROFILES);
}

/** Splits a CLI `--param` argument "key=value" at the first '='. */
export function parseParamAssignment(text: string): [key: string, value: string] {
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq).trim();
  const value = eq < 0 ? '' : text.slice(eq + 1).trim();
  if (key === '' || value === '') {
    throw new ConfigError(`--param expects key=value, got '${text}'`);
  }
  return [key, value];
}

/**
 * Resolves a profile and optional overrides. Override values may be numbers or strings as typed on
 * the command line: decimal ("19", "2.5", "1e3"), hex ("0x10"), and "true"/"false" for bools.
 * @throws ConfigError for an unknown profile or key, or a malformed or out-of-range value.
 */
export function resolveMachine(profile: string, overrides: Record<string, number | string> = {}): MachineConfig {
  const prof = Object.prototype.hasOwnProperty.call(PROFILES, profile) ? PROFILES[profile] : undefined;
  if (prof === undefined) {
    throw new ConfigError(`unknown machine profile '${profile}' (known: ${profileNames().join(', ')})`);
  }
  const values = new Map<keyof MachineParams, number>();
  for (const [key, raw] of Object.entries(overrides)) {
    if (!isParamKey(key)) throw new ConfigError(unknownKeyMessage(key));
    values.set(key, parseValue(PARAM_SPECS[key], raw));
  }
  // A fresh plain object, filled in catalogue order: JSON results embed it, so key order is fixed.
  const params = {} as MachineParams;
  for (const key of PARAM_KEYS) params[key] = values.get(key) ?? prof.params[key].value;
  crossCheck(params);
  return { profile: prof.name, params };
}

/** The topology of a resolved machine. */
export function topologyOf(cfg: MachineConfig): Topology {
  const p = cfg.params;
  return new Topology({
    sockets: p.sockets,
    ccxPerSocket: p.ccxPerSocket,
    coresPerCcx: p.coresPerCcx,
    threadsPerCore: p.threadsPerCore,
  });
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const HEX = /^0x[0-9a-f]+$/i;

function parseValue(spec: ParamSpec, raw: number | string): number {
  // Numbers are shown as typed; text that is not a number is quoted so blanks stay visible.
  let shown = typeof raw === 'string' ? raw.trim() : String(raw);
  const fail = (what: string): never => {
    throw new ConfigError(`machine parameter '${spec.key}' = ${shown} ${what}: expected ${describeRange(spec)}`);
  };
  let n: number;
  if (typeof raw === 'number') {
    n = raw;
  } else if (typeof raw === 'string') {
    const s = raw.trim();
    const lower = s.toLowerCase();
    if (spec.unit === 'bool' && (lower === 'true' || lower === 'false')) n = lower === 'true' ? 1 : 0;
    else if (HEX.test(s)) n = parseInt(s.slice(2), 16);
    else if (DECIMAL.test(s)) n = Number(s);
    else {
      shown = `'${raw}'`;
      return fail('is not a number');
    }
  } else {
    shown = `'${String(raw)}'`;
    return fail('is not a number');
  }
  if (!Number.isFinite(n)) return fail('is not a finite number');
  if (spec.integer && !Number.isInteger(n)) return fail('is not an integer');
  if (n < spec.min || n > spec.max) return fail('is out of range');
  return n;
}

// Checks that involve more than one key. Single-key ranges are in the catalogue.
function crossCheck(p: MachineParams): void {
  topologyOf({ profile: '', params: p }); // throws ConfigError naming a bad field or the CPU limit
  const geometry: [keyof MachineParams, keyof MachineParams][] = [
    ['l1dTlbEntries', 'l1dTlbWays'],
    ['stlbEntries', 'stlbWays'],
  ];
  for (const [entries, ways] of geometry) {
    if (p[entries] % p[ways] !== 0) {
      throw new ConfigError(
        `machine parameters '${entries}' = ${p[entries]} and '${ways}' = ${p[ways]} are inconsistent: ` +
          `the number of entries must be a multiple of the number of ways (a whole number of sets)`,
      );
    }
  }
}

function unknownKeyMessage(key: string): string {
  let best = '';
  let bestDist = Infinity;
  for (const k of PARAM_KEYS) {
    // Case-insensitive distance, so 'l1hit' finds 'l1Hit' at distance 0.
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  if (bestDist <= Math.max(2, Math.floor(key.length / 3))) {
    return `unknown machine parameter '${key}' (did you mean '${best}'?)`;
  }
  return `unknown machine parameter '${key}' (known: ${PARAM_KEYS.join(', ')})`;
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
