import type { Engine, OpExecutor } from '../../lib/engine/engine';
import { OP_SERIALIZE, type Ops } from '../../lib/engine/ops';
import type { Process } from '../../lib/engine/process';
import type { StatGroup } from '../../lib/stats/group';
import type { CpuSystem } from '../../cpu/cpu-system';
import { Tlb, type TlbGeometry } from './tlb';
import { INIT_MM_ID } from '../mm/mm';
import { INVLPGB_ALL_NONGLOBALS, OP_INVLPG, OP_INVLPGB, OP_INVPCID_ADDR, OP_INVPCID_CTX, OP_RAR_SEND, OP_TLBSYNC, OP_WRITE_CR3, TLB_OP_NAMES } from './tlb-ops';

/**
 * Remote-action hardware the unit hands `rarSend` to (Intel RAR, tlb/hw/rar.ts): signals CPU `to`
 * from `from` at `now` and returns the cycles the sender spends. An interface here, so the
 * hardware depends on the unit and not the other way round.
 */
export interface RemoteActionHw {
  send(from: number, to: number, now: number): number;
}

export interface TlbUnitParams extends TlbGeometry {
  pcid: number;
  pti: number;
  cr3Write: number;
  invlpg: number;
  invlpgPti: number;
  invpcid: number;
  invlpgbIssue: number;
  tlbsync: number;
}

/** PCIDs are 12 bits. */
export const NR_ASIDS = 4096;

/**
 * The CPUs' translation hardware: each CPU's TLBs and its CR3 (which mm's page tables, which
 * PCID). Executes the TLB-maintenance instructions at the costs of the machine profile, and
 * passes every other operation to the CPU layer. Serializing instructions take effect at issue
 * and are then charged as a serializing operation (which first drains the store buffer).
 */
export class TlbUnit implements OpExecutor {
  readonly tlbs: Tlb[];
  /** Per CPU: the mm whose page tables CR3 points at (INIT_MM_ID = init_mm), and the PCID. */
  readonly cr3Mm: Int32Array;
  readonly cr3Asid: Int32Array;
  readonly pcid: boolean;
  /** Per CPU: INVLPGBs issued (a flush that issued one reached other CPUs without IPIs). */
  readonly invlpgbIssued: Int32Array;
  /** Intel RAR hardware, when a strategy that uses it has attached it (tlb/hw/rar.ts). */
  rar: RemoteActionHw | null = null;
  private readonly engine: Engine;
  private readonly cpu: CpuSystem;
  private readonly params: TlbUnitParams;

  constructor(engine: Engine, cpu: CpuSystem, params: TlbUnitParams, cpuStats: StatGroup[]) {
    this.engine = engine;
    this.cpu = cpu;
    this.params = params;
    this.pcid = params.pcid === 1;
    this.tlbs = cpuStats.map((g) => new Tlb(params, NR_ASIDS, g.group('tlb')));
    this.cr3Mm = new Int32Array(cpuStats.length).fill(INIT_MM_ID);
    this.cr3Asid = new Int32Array(cpuStats.length);
    this.invlpgbIssued = new Int32Array(cpuStats.length);
    engine.setExecutor(this);
  }

  execute(p: Process, ops: Ops): void {
    const op = ops.op;
    if (op < OP_WRITE_CR3) {
      this.cpu.execute(p, ops);
      return;
    }
    const c = p.cpu;
    const now = this.engine.now;
    const tlb = this.tlbs[c];
    const par = this.params;
    switch (op) {
      case OP_WRITE_CR3: {
        const asid = this.pcid ? ops.b : 0;
        this.cr3Mm[c] = ops.a;
        this.cr3Asid[c] = asid;
        if (!this.pcid) tlb.flushAll(now);
        else if (ops.c === 0) tlb.flushAsid(asid, now);
        this.serialize(p, ops, par.cr3Write);
        return;
      }
      case OP_INVLPG:
        tlb.invalidatePage(this.cr3Asid[c], ops.a, now);
        this.serialize(p, ops, par.pti === 1 ? par.invlpgPti : par.invlpg);
        return;
      case OP_INVPCID_CTX:
        tlb.flushAsid(ops.a, now);
        this.serialize(p, ops, par.invpcid);
        return;
      case OP_INVLPGB: {
        // Broadcast: every CPU's TLB drops the range for that ASID. Completion is what TLBSYNC waits for.
        if (ops.c === INVLPGB_ALL_NONGLOBALS) for (const t of this.tlbs) t.flushAll(now);
        else for (const t of this.tlbs) for (let v = ops.b; v < ops.b + ops.c; v++) t.invalidatePage(ops.a, v, now);
        this.invlpgbIssued[c]++;
        this.engine.resume(p, now + par.invlpgbIssue, 0);
        return;
      }
      case OP_INVPCID_ADDR:
        tlb.invalidatePage(ops.a, ops.b, now);
        this.serialize(p, ops, par.invpcid);
        return;
      case OP_RAR_SEND: {
        if (this.rar === null) throw new Error('RAR send on a machine without RAR hardware attached');
        this.engine.resume(p, now + this.rar.send(c, ops.a, now), 0);
        return;
      }
      case OP_TLBSYNC:
        this.engine.resume(p, now + par.tlbsync, 0);
        return;
      default:
        throw new Error(`TLB unit cannot execute operation ${op}`);
    }
  }

  private serialize(p: Process, ops: Ops, cycles: number): void {
    ops.op = OP_SERIALIZE;
    ops.a = cycles;
    this.cpu.execute(p, ops);
  }

  describeWait(p: Process): string {
    const name = TLB_OP_NAMES[p.op];
    return name === undefined ? this.cpu.describeWait(p) : name;
  }
}
