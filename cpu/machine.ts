import { MemMachine, type MemMachineOptions } from '../mem/machine';
import { CpuSystem } from './cpu-system';
import { KernelOps } from './kernel-ops';

export type CpuMachineOptions = Omit<MemMachineOptions, 'ops'> & {
  /** A higher layer's subclass of `KernelOps`. */
  ops?: KernelOps;
};

/**
 * The memory machine plus its CPUs: interrupt flags, APICs, interrupt contexts. Simulated code
 * on it stages operations in `KernelOps`. The scheduler and the TLB layer build on this.
 */
export class CpuMachine extends MemMachine {
  declare readonly k: KernelOps;
  readonly cpu: CpuSystem;

  constructor(options: CpuMachineOptions) {
    super({ ...options, ops: options.ops ?? new KernelOps() });
    this.cpu = new CpuSystem(this.engine, this.topology, this.config.params, this.mem, this.stats);
  }
}
