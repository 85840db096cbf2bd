import type { Engine, EventHandler } from '../../lib/engine/engine';
import type { Sim } from '../../lib/engine/ops';
import type { Process } from '../../lib/engine/process';
import type { Counter } from '../../lib/stats/counter';
import type { StatGroup } from '../../lib/stats/group';
import type { CpuSystem } from '../../cpu/cpu-system';
import type { SimMemory } from '../../mem/memory';
import type { TlbOps } from './tlb-ops';
import type { RemoteActionHw, TlbUnit } from './tlb-unit';

/** Action-vector byte values (RFC v3 `RAR_PENDING` / `RAR_SUCCESS`). */
export const RAR_SUCCESS = 0;
export const RAR_PENDING = 1;
/** Payload types and INVPCID subtypes (RFC v3, "match RAR definitions to the names & numbers in the documentation"). */
export const RAR_TYPE_INVPCID = 2;
export const RAR_INVPCID_ADDR = 0;
export const RAR_INVPCID_PCID = 1;
export const RAR_INVPCID_ALL_NO_GLOBAL = 3;
/** RAR_INVLPG_MAX_PAGES: the payload's 6-bit page count. */
export const RAR_MAX_PAGES = 63;
/** Payload slots (the action vector is u8[64]). */
export const RAR_SLOTS = 64;

/**
 * Intel Remote Action Request hardware (X2 in docs/reference/beyond-mainline.md), the smallest
 * form that keeps its contract: the payload table (one line per slot: word 0 type | subtype << 8
 * | pages << 16, word 1 the PCID, word 2 the first page) and each CPU's action vector (a word per
 * slot) live in simulated memory, so every access goes through the coherence model. A RAR signal
 * is an ICR write (`TlbOps.rarSend`, the sender pays `icrWrite`) that arrives after the IPI
 * delivery latency. It raises no vector: no kernel handler runs, IF is ignored (RAR_CTRL_IGNORE_IF),
 * and no interrupt entry or exit is charged. Arrival wakes the target's microcode context
 * (`cpuN/rar`), which for each PENDING slot reads the payload, takes `rarService` cycles,
 * invalidates the target's TLB and writes SUCCESS into its action-vector word. A halted target
 * first pays `idleWakeup`. Simplification [A]: the microcode runs beside the target's current
 * context instead of suspending it at its next instruction boundary, so the target loses no cycles.
 */
export class Rar implements EventHandler, RemoteActionHw {
  /** Payload line of each slot, and each CPU's action vector (RAR_SLOTS words). */
  readonly payloadAddr: number[] = [];
  readonly actionAddr: number[] = [];
  readonly signals: Counter;
  readonly actions: Counter;
  private readonly engine: Engine;
  private readonly cpu: CpuSystem;
  private readonly unit: TlbUnit;
  private readonly memory: SimMemory;
  private readonly service: number;
  private readonly idleWakeup: number;
  private readonly hArrive: number;
  private readonly pending: Uint8Array;
  private readonly waiting: Uint8Array;
  private readonly procs: Process[] = [];

  constructor(engine: Engine, cpu: CpuSystem, unit: TlbUnit, memory: SimMemory, k: TlbOps, params: { rarService: number; idleWakeup: number }, stats: StatGroup) {
    this.engine = engine;
    this.cpu = cpu;
    this.unit = unit;
    this.memory = memory;
    this.service = params.rarService;
    this.idleWakeup = params.idleWakeup;
    const n = cpu.cpus.length;
    for (let s = 0; s < RAR_SLOTS; s++) this.payloadAddr.push(memory.allocLines(`rar_payload[${s}]`));
    for (let c = 0; c < n; c++) this.actionAddr.push(memory.allocLines(`rar_action[cpu${c}]`, (RAR_SLOTS * 4) / 64));
    this.signals = stats.counter('rarSignals', 'RAR signals sent (ICR writes with delivery mode RAR; not flush IPIs)');
    this.actions = stats.counter('rarActions', 'RAR actions carried out by target microcode');
    this.hArrive = engine.registerHandler(this);
    this.pending = new Uint8Array(n);
    this.waiting = new Uint8Array(n);
    for (let c = 0; c < n; c++) this.procs.push(engine.spawn(`cpu${c}/rar`, c, this.microcode(k, c), engine.now, true));
    unit.rar = this;
  }

  /** The action-vector word of `slot` on CPU `cpu`. */
  action(cpu: number, slot: number): number {
    return this.actionAddr[cpu] + 4 * slot;
  }

  /** One ICR write from `from` to `to` at `now`: schedules the arrival; → the sender's cycles. */
  send(from: number, to: number, now: number): number {
    this.signals.value++;
    const apic = this.cpu.apic;
    this.engine.schedule(now + apic.icrWrite + apic.deliveryLatency(from, to), this.hArrive, to);
    return apic.icrWrite;
  }

  onEvent(cpu: number): void {
    this.pending[cpu] = 1;
    if (this.waiting[cpu] === 1) {
      this.waiting[cpu] = 0;
      this.engine.resume(this.procs[cpu], this.engine.now, 0);
    }
  }

  /** The target's microcode: wait for a signal; handle every PENDING slot of its action vector. */
  private *microcode(k: TlbOps, c: number): Sim {
    const values = this.memory;
    for (;;) {
      if (this.pending[c] === 0) {
        this.waiting[c] = 1;
        yield k.irqWait(); // blocked until a RAR signal arrives (onEvent)
      }
      this.pending[c] = 0;
      if (this.cpu.cpus[c].halted) yield k.delay(this.idleWakeup);
      for (let line = 0; line < (RAR_SLOTS * 4) / 64; line++) {
        yield k.load(this.actionAddr[c] + 64 * line); // the action-vector line, once
        for (let s = line * 16; s < line * 16 + 16; s++) {
          if (values.peek(this.action(c, s)) !== RAR_PENDING) continue;
          const w0 = yield k.load(this.payloadAddr[s]);
          const pcid = yield k.load(this.payloadAddr[s] + 4);
          const vpn = yield k.load(this.payloadAddr[s] + 8);
          yield k.delay(this.service);
          const tlb = this.unit.tlbs[c];
          const now = this.engine.now;
          const subtype = (w0 >>> 8) & 0xff;
          if (subtype === RAR_INVPCID_ALL_NO_GLOBAL) tlb.flushAll(now);
          else if (subtype === RAR_INVPCID_PCID) tlb.flushAsid(pcid, now);
          else for (let v = vpn; v < vpn + (w0 >>> 16); v++) tlb.invalidatePage(pcid, v, now);
          this.actions.value++;
          yield k.store(this.action(c, s), RAR_SUCCESS);
        }
      }
    }
  }
}
