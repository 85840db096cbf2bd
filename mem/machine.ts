import { Engine } from '../lib/engine/engine';
import type { Ops } from '../lib/engine/ops';
import { topologyOf, type MachineConfig } from '../lib/machine/resolve';
import type { Topology } from '../lib/machine/topology';
import { runResult, type RunResult } from '../lib/results';
import { RngStreams } from '../lib/rng';
import { StatGroup } from '../lib/stats/group';
import { SimMemory } from './memory';
import { MemorySystem, type Perturbation } from './memory-system';
import { PctSchedule, type PctOptions } from './pct';

export interface MemMachineOptions {
  config: MachineConfig;
  seed: number | string;
  /** Randomized timing; the draws come from the streams `mem.transferJitter`, `mem.drainJitter`
   *  and `mem.opDelay`. */
  perturb?: { transferMax: number; drainMax: number; opDelayMax?: number };
  /** PCT exploration (mem/pct.ts) over the CPUs and their store buffers; its draws come from the
   *  stream `pct`. Given, it replaces the operation and drain delays of `perturb`. */
  pct?: PctOptions;
  /** Operation set to stage simulated code in (a higher layer's subclass of `Ops`). */
  ops?: Ops;
}

/**
 * The two bottom layers wired together: the engine, seeded RNG streams, the stats tree and the
 * memory system of a machine profile. Higher layers (cores, scheduler, TLBs) build on it.
 */
export class MemMachine {
  readonly config: MachineConfig;
  readonly topology: Topology;
  readonly engine: Engine;
  readonly k: Ops;
  readonly rng: RngStreams;
  readonly stats: StatGroup;
  readonly memory: SimMemory;
  readonly mem: MemorySystem;
  /** The PCT schedule of a `--search pct` run, else null. */
  readonly pct: PctSchedule | null;

  constructor(options: MemMachineOptions) {
    this.config = options.config;
    this.topology = topologyOf(options.config);
    this.engine = new Engine(options.ops);
    this.k = this.engine.ops;
    this.rng = new RngStreams(options.seed);
    this.stats = new StatGroup('');
    this.memory = new SimMemory();
    this.mem = new MemorySystem(this.engine, this.topology, options.config.params, this.memory, this.stats.group('mem'));
    this.engine.setExecutor(this.mem);
    if (options.perturb !== undefined) {
      const p: Perturbation = {
        transferMax: options.perturb.transferMax,
        drainMax: options.perturb.drainMax,
        transferRng: this.rng.stream('mem.transferJitter'),
        drainRng: this.rng.stream('mem.drainJitter'),
        opDelayMax: options.perturb.opDelayMax ?? 0,
        opDelayRng: this.rng.stream('mem.opDelay'),
      };
      this.mem.perturb(p);
    }
    if (options.pct !== undefined) {
      this.pct = new PctSchedule(2 * this.topology.nCpus, options.pct, this.rng.stream('pct'));
      this.mem.setPct(this.pct);
    } else {
      this.pct = null;
    }
  }

  /** The run's JSON result: version, seed, resolved config, simulated stats, and host stats apart. */
  result(): RunResult {
    return runResult(this.config, this.rng.seed, this.engine.now, this.config.params.clockGhz, this.stats, this.engine.host.stats());
  }
}
