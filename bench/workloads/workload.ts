import type { Rng } from '../../lib/rng';
import type { StatGroup } from '../../lib/stats/group';
import type { TlbMachine } from '../../tlb/machine';
import { checkSpecs, type WorkloadParamSpecs, type WorkloadParamValues } from './params';

/** What a workload's `setup` gets. */
export interface WorkloadContext<V> {
  readonly m: TlbMachine;
  /** The resolved parameters, typed by the workload's spec table. */
  readonly params: V;
  /** The run's `workload` random stream: every random choice of the workload comes from it. */
  readonly rng: Rng;
  /** The workload's own stats group (`workload`), dumped into the result's `workload` section. */
  readonly stats: StatGroup;
}

/**
 * A workload is a module, like a strategy: it populates a machine with address spaces and tasks,
 * and the run then lasts a fixed simulated time. Shipped workloads use only the public API, so a
 * user's `--workload ./file.ts` can do anything they do.
 */
export interface Workload<S extends WorkloadParamSpecs = WorkloadParamSpecs> {
  /** The name `--workload` takes. */
  readonly name: string;
  readonly description: string;
  /** Where its shape and its default rates come from (papers, commits, benchmark sources). */
  readonly sources: readonly string[];
  readonly params: S;
  /** Its warm-up in simulated ms, when it needs another one than the default. */
  readonly warmupMs?: number;
  setup(ctx: WorkloadContext<WorkloadParamValues<S>>): void;
}

/** Declares a workload, checking that its parameter defaults satisfy their own specs. */
export function defineWorkload<S extends WorkloadParamSpecs>(w: Workload<S>): Workload<S> {
  checkSpecs(w.name, w.params);
  return Object.freeze(w);
}
