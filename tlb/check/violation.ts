/**
 * What the oracle reports: the kinds of violation, the flush each is charged to, and the violation
 * itself. Its own file, so that the oracle's parts (lazy-coverage.ts) share it without importing
 * the oracle.
 */

export type ViolationKind = 'stale-translation' | 'freed-page-table' | 'lockup' | 'freed-mm';

/**
 * Which liveness check reported a lockup, after the kernel detector it is modelled on (see
 * tlb/check/liveness.ts): `hard` (interrupts off), `soft` (spinning), `stall` (a runnable task whose CPU
 * does not switch), `csd` (a CSD not released), `flush` (a flush that has not returned).
 */
export type LockupWatchdog = 'hard' | 'soft' | 'stall' | 'csd' | 'flush';

/** A flush as the oracle saw it: requested range, initiator, and when it started and returned. */
export interface FlushInfo {
  id: number;
  mm: string;
  start: number;
  end: number;
  freedTables: boolean;
  initiator: number;
  startCycle: number;
  returnCycle: number;
}

export interface Violation {
  kind: ViolationKind;
  cpu: number;
  cycle: number;
  mm: string;
  page: number;
  /** The flush whose guarantee was broken (null when the CPU ran on another mm's page tables). */
  flush: FlushInfo | null;
  detail: string;
  /** A command line that reproduces the run (set by the runner). */
  reproduce: string;
  /** For a lockup: the check that found it. */
  watchdog?: LockupWatchdog;
}
