import type { EventHandler } from '../lib/engine/engine';
import type { Sim } from '../lib/engine/ops';
import type { Rng } from '../lib/rng';
import type { Counter } from '../lib/stats/counter';
import type { StatGroup } from '../lib/stats/group';
import type { StatShapeGroup } from '../lib/stats/shape';
import type { Cpu } from './cpu';
import type { CpuMachine } from './machine';
import { MAX_DELTA_CYCLES } from './timers';
import { VEC_DEVICE } from './vectors';

export interface NetDeviceParams {
  /** The hard interrupt: the driver's handler and napi_schedule(), in cycles. */
  readonly irqCycles: number;
  /** Per packet in the NET_RX softirq: driver receive, GRO, IP and TCP up to the socket, in cycles. */
  readonly rxCycles: number;
}

/** What a NetDevice registers in its stats group, for a workload's declared `stats` (the run checks it). */
export const NETDEV_STATS = { packets: 'counter', interrupts: 'counter', drops: 'counter' } as const satisfies StatShapeGroup;

/** Receive descriptors per queue (a common default ring size); arrivals beyond it are dropped. */
export const RX_RING = 1024;
const POISSON = -1;
/** No arrival: a gap beyond the engine's horizon is cut here and drawn afresh (the process is memoryless). */
const REDRAW = -2;

/**
 * A multi-queue NIC: RSS with one receive queue per CPU in `queueCpus`, MSI-X with each queue's
 * interrupt affine to its CPU, NAPI. A flow's packets always hash to the same queue. An arrival
 * goes into its queue's ring and raises the device vector on the queue's CPU, unless NAPI is
 * already polling that queue (the interrupt stays masked during a poll, and the poll picks the
 * packet up). The handler is the hard interrupt followed by the NET_RX softirq run at irq_exit():
 * for each packet the protocol work, then `onPacket` (queue it on its socket, wake the reader).
 */
export class NetDevice implements EventHandler {
  readonly queueCpus: readonly number[];
  /** The consumer: runs in the softirq of the queue's CPU for each packet of `flow`. */
  onPacket: (cpu: Cpu, flow: number) => Sim;
  private readonly m: CpuMachine;
  private readonly params: NetDeviceParams;
  private readonly rng: Rng;
  private readonly handlerId: number;
  /** Per CPU: queued flows (a ring), its read position and fill, and whether NAPI polls it. */
  private readonly rings: Int32Array[];
  private readonly ringHead: Int32Array;
  private readonly ringLen: Int32Array;
  private readonly polling: Uint8Array;
  private meanGap: number;
  private flows: number;
  readonly packets: Counter;
  readonly interrupts: Counter;
  readonly drops: Counter;

  constructor(m: CpuMachine, queueCpus: readonly number[], params: NetDeviceParams, rng: Rng, stats: StatGroup) {
    if (queueCpus.length === 0) throw new Error('a NIC needs at least one receive queue');
    this.m = m;
    this.queueCpus = queueCpus;
    this.params = params;
    this.rng = rng;
    this.onPacket = function* (): Sim {};
    this.handlerId = m.engine.registerHandler(this);
    const n = m.topology.nCpus;
    this.rings = Array.from({ length: n }, () => new Int32Array(RX_RING));
    this.ringHead = new Int32Array(n);
    this.ringLen = new Int32Array(n);
    this.polling = new Uint8Array(n);
    this.meanGap = 0;
    this.flows = 0;
    this.packets = stats.counter('packets', 'packets received');
    this.interrupts = stats.counter('interrupts', 'receive interrupts taken');
    this.drops = stats.counter('drops', 'packets dropped because their receive ring was full');
    m.cpu.handlers[VEC_DEVICE] = (cpu: Cpu) => this.interrupt(cpu);
  }

  /** The queue's CPU for a flow (the RSS hash, then the indirection table). */
  cpuOf(flow: number): number {
    return this.queueCpus[(Math.imul(flow + 1, 0x9e3779b1) >>> 0) % this.queueCpus.length];
  }

  /** From now on, packets arrive as a Poisson process at `perSecond`, each of a flow drawn uniformly from `flows`. */
  startArrivals(perSecond: number, flows: number): void {
    if (!(perSecond > 0) || !(flows >= 1)) throw new Error(`NIC arrivals: need a positive rate and flows, got ${perSecond}/s over ${flows}`);
    this.meanGap = (this.m.config.params.clockGhz * 1e9) / perSecond;
    this.flows = flows;
    this.scheduleArrival();
  }

  /** The next Poisson arrival, or a redraw at MAX_DELTA_CYCLES if the gap reaches that far. */
  private scheduleArrival(): void {
    const gap = this.rng.exponential(this.meanGap);
    const now = this.m.engine.now;
    if (gap > MAX_DELTA_CYCLES) this.m.engine.schedule(now + MAX_DELTA_CYCLES, this.handlerId, REDRAW);
    else this.m.engine.schedule(now + gap, this.handlerId, POISSON);
  }

  /** One packet of `flow` arrives at cycle `at`. */
  arrive(at: number, flow: number): void {
    this.m.engine.schedule(at, this.handlerId, flow);
  }

  onEvent(arg: number): void {
    let flow = arg;
    if (arg === REDRAW) {
      this.scheduleArrival();
      return;
    }
    if (arg === POISSON) {
      flow = this.rng.int(this.flows);
      this.scheduleArrival();
    }
    const cpu = this.cpuOf(flow);
    if (this.ringLen[cpu] === RX_RING) {
      this.drops.value++;
      return;
    }
    this.rings[cpu][(this.ringHead[cpu] + this.ringLen[cpu]) % RX_RING] = flow;
    this.ringLen[cpu]++;
    if (this.polling[cpu] === 0) this.m.cpu.raise(cpu, VEC_DEVICE);
  }

  /** The hard interrupt, then net_rx_action() polling the queue until it is empty. */
  private *interrupt(cpu: Cpu): Sim {
    const c = cpu.id;
    const k = this.m.k;
    this.interrupts.value++;
    this.polling[c] = 1;
    yield k.compute(this.params.irqCycles);
    while (this.ringLen[c] > 0) {
      const flow = this.rings[c][this.ringHead[c]];
      this.ringHead[c] = (this.ringHead[c] + 1) % RX_RING;
      this.ringLen[c]--;
      this.packets.value++;
      yield k.compute(this.params.rxCycles);
      yield* this.onPacket(cpu, flow);
    }
    this.polling[c] = 0; // napi_complete_done(): the interrupt is unmasked again
  }
}
