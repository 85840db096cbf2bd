import type { Rng } from '../../lib/rng';
import type { TlbMachine } from '../../tlb/machine';

/**
 * A workload populates a machine with address spaces and tasks; the run then lasts a fixed
 * simulated time. Every random choice comes from `rng` (the `workload` stream of the run seed).
 */
export interface Workload {
  readonly name: string;
  readonly description: string;
  setup(m: TlbMachine, rng: Rng): void;
}
