import type { Engine, EventHandler } from '../lib/engine/engine';
import { DIST_REMOTE, DIST_SOCKET, type Topology } from '../lib/machine/topology';
import type { Rng } from '../lib/rng';
import type { Counter } from '../lib/stats/counter';
import type { StatGroup } from '../lib/stats/group';
import { ProbePoint } from '../lib/probe';
import { NR_IPI_VECTORS, VECTOR_NAMES } from './vectors';

export interface ApicParams {
  /** 1: x2APIC (one WRMSR per ICR write); 0: xAPIC (MMIO write plus the delivery-status poll). */
  x2apic: number;
  ipiSendX2apic: number;
  ipiSendXapic: number;
  ipiDeliveryCcx: number;
  ipiDeliverySocket: number;
  ipiDeliveryRemote: number;
  /** Each interconnect hop beyond the first between the sender's and the target's sockets. */
  hopCycles: number;
}

/**
 * The local APICs' inter-processor interrupts: the hardware's part of an IPI. Sending to n targets
 * costs the sender n ICR writes (Linux writes the ICR once per target in x2APIC physical mode and
 * in xAPIC mode); each IPI arrives the delivery latency of its distance after its own write.
 * Arrival raises the vector on the target through `deliver`. What the kernel adds (interrupt entry
 * and exit on the target, the handler, the CSD queueing and its acknowledgement) is charged where
 * it happens: the CPU's interrupt path and the simulated code of smp.ts, through the memory model.
 */
export class Apic implements EventHandler {
  private readonly engine: Engine;
  private readonly topology: Topology;
  private readonly params: ApicParams;
  private readonly deliver: (cpu: number, vector: number) => void;
  private readonly hArrive: number;
  private jitter: Rng | null;
  private jitterMax: number;
  /** Every ICR write: (from, to, vector). The TLB layer counts flush IPIs with it; tests listen too. */
  readonly ipiSent: ProbePoint<number, number, number>;
  /** sent[cpu * NR_IPI_VECTORS + v], received likewise. */
  private readonly sent: Counter[];
  private readonly received: Counter[];

  constructor(engine: Engine, topology: Topology, params: ApicParams, stats: StatGroup, cpuStats: StatGroup[], deliver: (cpu: number, vector: number) => void) {
    this.engine = engine;
    this.topology = topology;
    this.params = params;
    this.deliver = deliver;
    this.hArrive = engine.registerHandler(this);
    this.jitter = null;
    this.jitterMax = 0;
    this.ipiSent = new ProbePoint('apic.ipiSent');
    this.sent = [];
    this.received = [];
    for (const g of cpuStats) {
      const s = g.group('ipisSent');
      const r = g.group('ipisReceived');
      for (let v = 0; v < NR_IPI_VECTORS; v++) {
        this.sent.push(s.counter(VECTOR_NAMES[v], `${VECTOR_NAMES[v]} IPIs sent`));
        this.received.push(r.counter(VECTOR_NAMES[v], `${VECTOR_NAMES[v]} IPIs received`));
      }
    }
    stats.formula('sent', 'IPIs sent by all CPUs', () => this.sent.reduce((a, c) => a + c.value, 0));
    stats.formula('received', 'IPIs received by all CPUs', () => this.received.reduce((a, c) => a + c.value, 0));
  }

  /** Extra 0..max cycles on every delivery (exploration). */
  setJitter(rng: Rng | null, max: number): void {
    this.jitter = rng;
    this.jitterMax = max;
  }

  /** Sender-side cycles of one ICR write. */
  get icrWrite(): number {
    return this.params.x2apic === 1 ? this.params.ipiSendX2apic : this.params.ipiSendXapic;
  }

  /** Sender-side cycles of sending to n targets. */
  sendCost(n: number): number {
    return n * this.icrWrite;
  }

  /** Send-to-arrival latency between two CPUs. */
  deliveryLatency(from: number, to: number): number {
    const d = this.topology.distanceUnchecked(from, to);
    const p = this.params;
    if (d !== DIST_REMOTE) return d === DIST_SOCKET ? p.ipiDeliverySocket : p.ipiDeliveryCcx;
    const hops = this.topology.hopsUnchecked(from, to);
    return p.ipiDeliveryRemote + (hops > 1 ? (hops - 1) * p.hopCycles : 0);
  }

  /** The i-th ICR write of a send that started at `start`: schedules its arrival. */
  send(from: number, to: number, vector: number, start: number, i: number): void {
    this.sent[from * NR_IPI_VECTORS + vector].value++;
    this.ipiSent.notify(from, to, vector);
    let at = start + (i + 1) * this.icrWrite + this.deliveryLatency(from, to);
    if (this.jitter !== null) at += this.jitter.int(this.jitterMax + 1);
    this.engine.schedule(at, this.hArrive, to * NR_IPI_VECTORS + vector);
  }

  onEvent(arg: number): void {
    this.received[arg].value++;
    this.deliver((arg / NR_IPI_VECTORS) | 0, arg % NR_IPI_VECTORS);
  }
}
