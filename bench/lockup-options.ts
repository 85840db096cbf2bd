import { ConfigError } from '../lib/errors';
import type { MachineParams } from '../lib/machine/params';
import { LOCKUP_WATCHDOGS, type LockupThresholds } from '../tlb/check/liveness';
import type { LockupWatchdog } from '../tlb/check/oracle';
import type { RunConfig } from './run-config';

/**
 * The default threshold of every liveness check: a quarter of the run (warm-up included), at most
 * 0.5 simulated ms. Linux waits seconds (5 s for a CSD, 10 s hard, 20 s soft) where its operations
 * take microseconds; 0.5 ms is three times the longest legitimate wait once measured on any shipped
 * workload at its default size (a 56-CPU csd_lock_wait of 168 µs: latr on tlb-flush2, without the
 * owner window and with ticket spinlocks; 150 µs over seeds 1-5 with queued ones; with the window,
 * the longest on tlb-flush2 and tlb-flush3 was 44 µs, 40 on tlb-flush2 now), and a quarter of the
 * run lets a state that got stuck in its first three quarters show in a short one.
 *
 * Under a host model (`hostPreemptsPerS` > 0) it is at least four freezes (`hostPreemptNs`): a
 * wait can span several freezes of the vCPUs it depends on (a chain of lock holders, a flush
 * waiting for the last of its targets), which the steal-time discount of tlb/check/liveness.ts
 * does not see. Linux's own watchdogs allow a guest seconds against milliseconds of host slices.
 */
export function defaultLockupCycles(cycles: number, warmupCycles: number, params: LockupParams): number {
  const base = Math.max(1, Math.min(Math.round((warmupCycles + cycles) / 4), Math.round(0.5 * params.clockGhz * 1e6)));
  return params.hostPreemptsPerS > 0 ? Math.max(base, 4 * Math.round(params.hostPreemptNs * params.clockGhz)) : base;
}

/** The machine parameters the default thresholds depend on. */
export type LockupParams = Pick<MachineParams, 'clockGhz' | 'hostPreemptsPerS' | 'hostPreemptNs'>;

/**
 * Every check's threshold for a run: its own (`lockupThresholds`), else `lockupCycles`, else the
 * default, which for the `flush` check is at least four times what the strategy says a correct
 * flush may wait by design (`flushWaitBound`, 0 if it says nothing).
 */
export function lockupThresholds(cfg: RunConfig, params: LockupParams, flushWaitBound = 0): LockupThresholds {
  if (!(Number.isFinite(flushWaitBound) && flushWaitBound >= 0)) {
    throw new ConfigError(`strategy '${cfg.strategy}': flushWaitBound gave ${String(flushWaitBound)}: expected a number of cycles, 0 or more`);
  }
  const base = cfg.lockupCycles ?? defaultLockupCycles(cfg.cycles, cfg.warmupCycles, params);
  const flush = cfg.lockupCycles ?? Math.max(base, Math.round(4 * flushWaitBound));
  const t = {} as LockupThresholds;
  for (const w of LOCKUP_WATCHDOGS) {
    const v = cfg.lockupThresholds?.[w] ?? (w === 'flush' ? flush : base);
    if (!(Number.isSafeInteger(v) && v > 0)) throw new ConfigError(`lockup threshold ${w} = ${String(v)}: expected a positive whole number of cycles`);
    t[w] = v;
  }
  return t;
}

/**
 * `--lockup-ms [check=]T` and `--lockup-cycles [check=]N`, in the order given: without a check
 * name the value is every check's threshold (`lockupCycles`), with one (hard, soft, stall, csd,
 * flush) that check's own.
 */
export function parseLockupOptions(ms: readonly string[], cycles: readonly string[], clockGhz: number): Pick<RunConfig, 'lockupCycles' | 'lockupThresholds'> {
  const out: Pick<RunConfig, 'lockupCycles' | 'lockupThresholds'> = {};
  const each: Partial<Record<LockupWatchdog, number>> = {};
  const take = (option: string, text: string, toCycles: (v: number) => number) => {
    const eq = text.indexOf('=');
    const name = eq < 0 ? null : text.slice(0, eq).trim();
    const value = Number(eq < 0 ? text : text.slice(eq + 1));
    if (name !== null && !(LOCKUP_WATCHDOGS as readonly string[]).includes(name)) {
      throw new ConfigError(`${option} '${text}': unknown check '${name}' (expected one of ${LOCKUP_WATCHDOGS.join(', ')}, or no name for all)`);
    }
    const c = Number.isFinite(value) && value > 0 ? toCycles(value) : NaN;
    if (!(Number.isSafeInteger(c) && c > 0)) throw new ConfigError(`${option} '${text}': expected [check=]value, a positive ${option === '--lockup-ms' ? 'number of simulated ms' : 'whole number of cycles'}`);
    if (name === null) out.lockupCycles = c;
    else each[name as LockupWatchdog] = c;
  };
  for (const text of ms) take('--lockup-ms', text, (v) => Math.round(v * clockGhz * 1e6));
  for (const text of cycles) take('--lockup-cycles', text, (v) => v);
  if (Object.keys(each).length > 0) out.lockupThresholds = each;
  return out;
}

/** The reproducer's flags for the thresholds a run set (none for the defaults). */
export function lockupFlags(cfg: RunConfig): string[] {
  const flags: string[] = [];
  if (cfg.lockupCycles !== undefined) flags.push(`--lockup-cycles ${cfg.lockupCycles}`);
  for (const w of LOCKUP_WATCHDOGS) {
    const v = cfg.lockupThresholds?.[w];
    if (v !== undefined) flags.push(`--lockup-cycles ${w}=${v}`);
  }
  return flags;
}
