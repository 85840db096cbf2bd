import { ConfigError } from '../../lib/errors';
import { parseParamAssignment, resolveMachine, type MachineConfig } from '../../lib/machine/resolve';
import { MAX_HOST_TIMEOUT_MS } from '../experiment/pool';

/** Commander collector for repeatable `--param key=value`. */
export function collectParam(value: string, previous: string[]): string[] {
  parseParamAssignment(value); // reject malformed text at once, naming it
  return [...previous, value];
}

/** The machine profile with every `--param` applied (unknown keys and bad values are ConfigErrors). */
export function machineFromOptions(profile: string, params: string[]): MachineConfig {
  const overrides: Record<string, string> = {};
  for (const text of params) {
    const [key, value] = parseParamAssignment(text);
    overrides[key] = value;
  }
  return resolveMachine(profile, overrides);
}

/** Parses an integer option within [min, max], naming the option on failure. */
export function intOption(name: string, min: number, max: number): (text: string) => number {
  return (text: string): number => {
    // Whole numbers as typed, also in exponent form (`--cycles 1e6`, as `--ms 1e6` takes it).
    const v = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new ConfigError(`${name} expects an integer in [${min}, ${max}], got '${text}'`);
    }
    return v;
  };
}

/**
 * `--host-timeout <s>`: a run's host wall-clock budget, in seconds (fractions allowed), returned
 * in ms; at most what a timer can hold (about 24 days).
 */
export function hostTimeoutOption(text: string): number {
  const s = text.trim() === '' ? NaN : Number(text);
  const max = Math.floor(MAX_HOST_TIMEOUT_MS / 1000);
  if (!(Number.isFinite(s) && s > 0 && s <= max)) throw new ConfigError(`--host-timeout expects a number of seconds in (0, ${max}], got '${text}'`);
  return Math.max(1, Math.round(s * 1000));
}

/** A seed is any non-empty string; numbers and strings seed the named RNG streams alike. */
export function seedOption(text: string): string {
  if (text.trim() === '') throw new ConfigError(`--seed expects a non-empty value`);
  return text.trim();
}
