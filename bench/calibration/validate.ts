import { ConfigError } from '../../lib/errors';
import { profileNames } from '../../lib/machine/resolve';
import { allTargets, FULL, QUICK, type Target } from './targets';

export interface ValidateRow {
  id: string;
  profile: string;
  what: string;
  published: number;
  simulated: number;
  unit: string;
  /** simulated / published. */
  ratio: number;
  tolerance: number;
  pass: boolean;
  source: string;
  fitted: string | null;
}

export interface ValidateReport {
  quick: boolean;
  /** The `--param` overrides every scenario ran with. */
  params: Record<string, string>;
  pass: boolean;
  rows: ValidateRow[];
}

/** Rounds to 4 significant figures, so reports are readable and stable. */
const r4 = (x: number): number => Number(x.toPrecision(4));

/**
 * Runs every calibration target (those of one profile with `machine`) and compares each simulated
 * value with its published one. The quick form runs each scenario shorter (for tests); `params`
 * overrides machine parameters in every scenario (what-if: how a changed cost moves the targets).
 */
export function validate(options: { machine?: string; quick?: boolean; params?: Record<string, string> } = {}): ValidateReport {
  const { machine } = options;
  if (machine !== undefined && !profileNames().includes(machine)) {
    throw new ConfigError(`--machine: unknown profile '${machine}' (known: ${profileNames().join(', ')})`);
  }
  const params = options.params ?? {};
  const effort = { ...(options.quick === true ? QUICK : FULL), params };
  const targets = allTargets().filter((t: Target) => machine === undefined || t.profile === machine);
  const rows = targets.map((t): ValidateRow => {
    const simulated = t.simulate(effort);
    const ratio = simulated / t.published;
    return {
      id: t.id, profile: t.profile, what: t.what, published: t.published, simulated: r4(simulated), unit: t.unit,
      ratio: r4(ratio), tolerance: t.tolerance, pass: Math.abs(ratio - 1) <= t.tolerance + 1e-9,
      source: t.source, fitted: t.fitted ?? null,
    };
  });
  return { quick: options.quick === true, params, pass: rows.every((r) => r.pass), rows };
}
