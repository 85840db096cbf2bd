import { MemMachine, type MemMachineOptions } from '../mem/machine';
import { CpuSystem } from './cpu-system';
import { VcpuHost } from './host';
import { KernelOps } from './kernel-ops';

export type CpuMachineOptions = Omit<MemMachineOptions, 'ops'> & {
  /** A higher layer's subclass of `KernelOps`. */
  ops?: KernelOps;
  /** The host model's class when `hostPreemptsPerS` > 0 (a variant of `VcpuHost`, e.g. in a test). */
  host?: typeof VcpuHost;
};

/**
 * The memory machine plus its CPUs: interrupt flags, APICs, interrupt contexts. Simulated code
 * on it stages operations in `KernelOps`. The scheduler and the TLB layer build on this. With
 * `hostPreemptsPerS` > 0 the CPUs are vCPUs of a KVM guest, which a host model deschedules.
 */
export class CpuMachine extends MemMachine {
  declare readonly k: KernelOps;
  readonly cpu: CpuSystem;
  /** The host under the guest, or null on bare metal. */
  readonly host: VcpuHost | null;

  constructor(options: CpuMachineOptions) {
    super({ ...options, ops: options.ops ?? new KernelOps() });
    const p = this.config.params;
    this.cpu = new CpuSystem(this.engine, this.topology, p, this.mem, this.stats);
    const Host = options.host ?? VcpuHost;
    this.host = p.hostPreemptsPerS > 0 ? new Host(this.engine, this.cpu, this.memory, this.rng, p, this.stats.group('kvm')) : null;
  }
}
