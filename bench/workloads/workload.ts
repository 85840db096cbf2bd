import type { Rng } from '../../lib/rng';
import type { StatGroup } from '../../lib/stats/group';
import type { StatsOf, StatShapeGroup } from '../../lib/stats/shape';
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
export interface Workload<S extends WorkloadParamSpecs = WorkloadParamSpecs, T extends StatShapeGroup = StatShapeGroup> {
  /** The name `--workload` takes. */
  readonly name: string;
  readonly description: string;
  /** Where its shape and its default rates come from (papers, commits, benchmark sources). */
  readonly sources: readonly string[];
  readonly params: S;
  /** Its warm-up in simulated ms, when it needs another one than the default. */
  readonly warmupMs?: number;
  /**
   * The shape of what `setup` registers in `ctx.stats` (kinds by name, groups nested). The run
   * checks it against the group right after `setup` and fails naming the first difference; the
   * library types the result's `workload` section from it. Without it that section is untyped.
   */
  readonly stats?: T;
  setup(ctx: WorkloadContext<WorkloadParamValues<S>>): void;
}

/**
 * Declares a workload, checking that its parameter defaults satisfy their own specs. The stats
 * shape is inferred as written (`const`), so its kinds stay literal and type the result.
 */
export function defineWorkload<S extends WorkloadParamSpecs, const T extends StatShapeGroup = StatShapeGroup>(w: Workload<S, T>): Workload<S, T> {
  checkSpecs(w.name, w.params);
  return Object.freeze(w);
}

/**
 * The `workload` section of a run of W: typed by the stats it declares (`stats: {}` types it as
 * empty), a plain record when it declares none.
 */
export type StatsOfWorkload<W> = W extends Workload<infer _S, infer T> ? (string extends keyof T ? Record<string, unknown> : StatsOf<T>) : Record<string, unknown>;
