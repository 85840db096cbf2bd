import { parseNumberText, unknownKeyMessage } from '../../lib/config-text';
import { ConfigError } from '../../lib/errors';

/**
 * Workload parameters, typed the way machine parameters are (lib/machine/params.ts): every key
 * has a unit, a range or a set of choices, a default and a doc line. A workload declares its
 * specs; `resolveWorkloadParams` turns `--wparam key=value` text or a library object into typed
 * values, naming the key at fault.
 */

export type NumericUnit =
  | 'count' | 'cycles' | 'ns' | 'us' | 'ms' | 'pages' | 'bytes' | 'per-second' | 'fraction' | 'bool';

export interface NumericSpec {
  readonly unit: NumericUnit;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  readonly doc: string;
}

export interface ChoiceSpec<C extends string = string> {
  readonly unit: 'choice';
  readonly default: C;
  readonly choices: readonly C[];
  readonly doc: string;
}

/** A CPU list in the kernel's cpulist format ("0-3,8"); '' means the workload's own default. */
export interface CpuListSpec {
  readonly unit: 'cpulist';
  readonly default: string;
  readonly doc: string;
}

export type WorkloadParamSpec = NumericSpec | ChoiceSpec | CpuListSpec;
export type WorkloadParamSpecs = Readonly<Record<string, WorkloadParamSpec>>;

/** The resolved values: numbers for numeric keys, the choice for choice keys, text for CPU lists. */
export type WorkloadParamValues<S extends WorkloadParamSpecs> = {
  readonly [K in keyof S]: S[K] extends ChoiceSpec<infer C> ? C : S[K] extends CpuListSpec ? string : number;
};

/** What a caller may pass: any subset, numbers as numbers or as text. */
export type WorkloadParamInput = Readonly<Record<string, number | string>>;

/** Spec builders, so a workload's table reads like the machine catalogue: `wparam.count(4, 1, 64, 'Threads.')`. */
export const wparam = {
  count: (def: number, min: number, max: number, doc: string): NumericSpec => ({ unit: 'count', default: def, min, max, integer: true, doc }),
  cycles: (def: number, doc: string, max = 1e9): NumericSpec => ({ unit: 'cycles', default: def, min: 0, max, integer: true, doc }),
  micros: (def: number, min: number, max: number, doc: string): NumericSpec => ({ unit: 'us', default: def, min, max, integer: false, doc }),
  millis: (def: number, min: number, max: number, doc: string): NumericSpec => ({ unit: 'ms', default: def, min, max, integer: false, doc }),
  pages: (def: number, min: number, max: number, doc: string): NumericSpec => ({ unit: 'pages', default: def, min, max, integer: true, doc }),
  bytes: (def: number, min: number, max: number, doc: string): NumericSpec => ({ unit: 'bytes', default: def, min, max, integer: true, doc }),
  perSecond: (def: number, min: number, max: number, doc: string): NumericSpec => ({ unit: 'per-second', default: def, min, max, integer: false, doc }),
  fraction: (def: number, doc: string): NumericSpec => ({ unit: 'fraction', default: def, min: 0, max: 1, integer: false, doc }),
  // `const`: the choices stay literal without `as const`, so the value types as their union.
  choice: <const C extends string>(def: C, choices: readonly C[], doc: string): ChoiceSpec<C> => ({ unit: 'choice', default: def, choices, doc }),
  cpuList: (doc: string): CpuListSpec => ({ unit: 'cpulist', default: '', doc }),
} as const;

/** "an integer in [1, 64] (count)", "one of threads, processes", for errors and listings. */
export function describeSpec(spec: WorkloadParamSpec): string {
  if (spec.unit === 'choice') return `one of ${spec.choices.join(', ')}`;
  if (spec.unit === 'cpulist') return "a CPU list such as 0-3,8 ('' for the default)";
  return `${spec.integer ? 'an integer' : 'a number'} in [${spec.min}, ${spec.max}] (${spec.unit})`;
}

/** Checks a workload's own table: every default must satisfy its spec. */
export function checkSpecs(workload: string, specs: WorkloadParamSpecs): void {
  for (const [key, spec] of Object.entries(specs)) resolveOne(workload, key, spec, spec.default);
}

/**
 * The workload's parameters with `input` applied, in the order of its spec table (so JSON results
 * embedding them have a fixed key order).
 * @throws ConfigError for an unknown key (with the nearest known one) or a bad value.
 */
export function resolveWorkloadParams<S extends WorkloadParamSpecs>(workload: string, specs: S, input: WorkloadParamInput = {}): WorkloadParamValues<S> {
  const keys = Object.keys(specs);
  for (const key of Object.keys(input)) {
    if (!Object.prototype.hasOwnProperty.call(specs, key)) throw new ConfigError(unknownKeyMessage(`parameter of workload ${workload}`, key, keys));
  }
  const out: Record<string, number | string> = {};
  for (const key of keys) {
    const raw = Object.prototype.hasOwnProperty.call(input, key) ? input[key] : specs[key].default;
    out[key] = resolveOne(workload, key, specs[key], raw);
  }
  return out as WorkloadParamValues<S>;
}

function resolveOne(workload: string, key: string, spec: WorkloadParamSpec, raw: number | string): number | string {
  const shown = typeof raw === 'string' ? `'${raw}'` : String(raw);
  const fail = (): never => {
    throw new ConfigError(`workload ${workload}: parameter '${key}' = ${shown}: expected ${describeSpec(spec)}`);
  };
  if (spec.unit === 'choice') {
    const s = String(raw).trim();
    return spec.choices.includes(s) ? s : fail();
  }
  if (spec.unit === 'cpulist') {
    const s = String(raw).trim();
    return s === '' || /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(s.replace(/\s+/g, '')) ? s.replace(/\s+/g, '') : fail();
  }
  const n = typeof raw === 'number' ? raw : parseNumberText(raw, spec.unit === 'bool');
  if (!Number.isFinite(n) || (spec.integer && !Number.isInteger(n)) || n < spec.min || n > spec.max) return fail();
  return n;
}
