import type { HostStats } from './engine/host-clock';
import type { StatGroup } from './stats/group';
import { VERSION } from './version';

/**
 * The one JSON object a run produces. Everything but `host` depends only on the config and the
 * seed, so the same inputs give byte-identical JSON once `host` is left out (`simulatedJson`).
 */
export interface RunResult {
  version: string;
  seed: string;
  config: unknown;
  simulated: { cycles: number; seconds: number };
  stats: Record<string, unknown>;
  host: HostStats;
}

export function runResult(config: unknown, seed: string, cycles: number, clockGhz: number, stats: StatGroup, host: HostStats): RunResult {
  return {
    version: VERSION,
    seed,
    config,
    simulated: { cycles, seconds: cycles / (clockGhz * 1e9) },
    stats: stats.dump(),
    host,
  };
}

/** The result without its host section: what determinism is checked on. */
export function simulatedJson(result: RunResult): string {
  const { host: _host, ...simulated } = result;
  return JSON.stringify(simulated);
}
