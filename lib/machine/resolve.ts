/**
 * Profile + overrides -> a validated, fully resolved MachineConfig. This is the only way user
 * input (`--machine NAME`, `--param key=value`, config files) becomes machine parameters, so every
 * check lives here: unknown profiles and keys are rejected (with a suggestion), values are parsed
 * and range-checked against the catalogue, and the topology and TLB geometry are cross-checked.
 */
import { parseAssignment, parseNumberText, unknownKeyMessage } from '../config-text';
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
  return parseAssignment(text, '--param');
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
    if (!isParamKey(key)) throw new ConfigError(unknownKeyMessage('machine parameter', key, PARAM_KEYS));
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
    socketLinks: p.socketLinks,
  });
}

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
    n = parseNumberText(raw, spec.unit === 'bool');
    if (Number.isNaN(n)) {
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
