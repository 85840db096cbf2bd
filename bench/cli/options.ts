import { ConfigError } from '../../lib/errors';
import { parseParamAssignment, resolveMachine, type MachineConfig } from '../../lib/machine/resolve';

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

/** A seed is any non-empty string; numbers and strings seed the named RNG streams alike. */
export function seedOption(text: string): string {
  if (text.trim() === '') throw new ConfigError(`--seed expects a non-empty value`);
  return text.trim();
}
