import type { Scheduler } from '../../cpu/sched';
import type { AddressSpace } from '../../cpu/task';
import type { TlbUnit } from '../hw/tlb-unit';
import type { Mm } from '../mm/mm';
import type { MmLifecycle } from '../mm/mm-lifecycle';
import type { Oracle } from './oracle';

/** A check postponed until a CPU finishes the context switch it is in. */
interface Pending {
  mmId: number;
  ctxId: number;
  name: string;
}

/**
 * The `freed-mm` check: when an mm_struct is freed (__mmdrop), no CPU may still have it as its
 * active mm (`current->active_mm`) or as its CR3. This is the check the kernel itself runs under
 * CONFIG_DEBUG_VM_SHOOT_LAZIES (kernel/fork.c do_check_lazy_tlb: `WARN_ON_ONCE(current->active_mm
 * == mm)` on every CPU after cleanup_lazy_tlbs()), plus the loaded page tables. With a counted lazy
 * reference it cannot fire; with `shoot-lazies` it catches a strategy whose mm_cpumask does not
 * cover every lazy CPU, which the MMU_LAZY_TLB_SHOOTDOWN Kconfig text makes the architecture's
 * duty (linux-4.13 clears the bit on lazy entry).
 *
 * A CPU inside a context switch has interrupts off and is about to change both: it is judged when
 * the switch is done (as the oracle defers its freed-table check), on what it holds then.
 */
export class FreedMmCheck {
  private readonly oracle: Oracle;
  private readonly unit: TlbUnit;
  private readonly life: MmLifecycle;
  private readonly sched: Scheduler;
  private readonly mmById: (id: number) => Mm;
  private readonly now: () => number;
  private readonly pending: Pending[][];
  /**
   * Per CPU: the mm_struct it was last reported holding, until it lets go. A CPU left on a freed
   * mm_struct that is then reused holds the new mm too (its dangling pointer now points there):
   * reported once, not again at every later free of that struct.
   */
  private readonly reported: Int32Array;

  constructor(oracle: Oracle, unit: TlbUnit, life: MmLifecycle, sched: Scheduler, mmById: (id: number) => Mm, now: () => number) {
    this.oracle = oracle;
    this.unit = unit;
    this.life = life;
    this.sched = sched;
    this.mmById = mmById;
    this.now = now;
    this.pending = Array.from({ length: unit.cr3Mm.length }, () => []);
    this.reported = new Int32Array(unit.cr3Mm.length).fill(-1);
    life.freeing.attach((mm) => this.onFree(mm));
    sched.activeMmProbe.attach((cpu, active) => this.afterSwitch(cpu, active));
  }

  private onFree(mm: Mm): void {
    for (let c = 0; c < this.pending.length; c++) {
      if (this.sched.inMmSwitch[c] === 1) this.pending[c].push({ mmId: mm.id, ctxId: mm.ctxId, name: mm.name });
      else this.judge(c, mm.id, mm.name, this.life.activeOn(c), 'freed');
    }
  }

  /** After a switch on `cpu` (its active mm now `active`): the checks postponed for it. */
  private afterSwitch(cpu: number, active: AddressSpace): void {
    if (this.reported[cpu] !== active.id && this.unit.cr3Mm[cpu] !== this.reported[cpu]) this.reported[cpu] = -1;
    const list = this.pending[cpu];
    if (list.length === 0) return;
    for (const p of list) {
      // The same mm_struct given to a new mm meanwhile is a new mm: holding that is legitimate.
      if (this.mmById(p.mmId).ctxId !== p.ctxId) continue;
      this.judge(cpu, p.mmId, p.name, active.id, 'freed while this CPU was switching, and it still holds it after the switch');
    }
    list.length = 0;
  }

  private judge(cpu: number, mmId: number, name: string, activeId: number, when: string): void {
    const active = activeId === mmId;
    const cr3 = this.unit.cr3Mm[cpu] === mmId;
    if ((!active && !cr3) || this.reported[cpu] === mmId) return;
    this.reported[cpu] = mmId;
    const what = active && cr3 ? 'active mm and CR3' : active ? 'active mm (lazy: current->active_mm)' : 'CR3';
    this.oracle.recordFreedMm(cpu, this.now(), name, `${name}'s mm_struct was ${when} while it was this CPU's ${what}: no reference held it and no shootdown reached this CPU`);
  }
}
