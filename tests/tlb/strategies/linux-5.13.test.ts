import type { Sim } from '../../../lib/engine/ops';
import { resolveMachine } from '../../../lib/machine/resolve';
import type { Cpu } from '../../../cpu/cpu';
import type { KernelOps } from '../../../cpu/kernel-ops';
import type { Scheduler } from '../../../cpu/sched';
import type { TaskEnv } from '../../../cpu/task';
import { LINE_BYTES } from '../../../mem/memory';
import { TlbMachine } from '../../../tlb/machine';
import type { Mm } from '../../../tlb/mm/mm';
import type { Strategy } from '../../../tlb/strategies/strategy';
import type { TlbOps } from '../../../tlb/hw/tlb-ops';
import { TLB_FLUSH_ALL } from '../../../tlb/strategies/common';
import { Linux420, linux420 } from '../../../tlb/strategies/linux-4.20';
import { Linux513, TLB_GENERATION_INVALID, linux513 } from '../../../tlb/strategies/linux-5.13';
import { randomized } from '../random-workload';
import { ROLES, flushScenario } from '../scenario';

const { initiator, running, lazyKthread, lazyIdle } = ROLES;

/** linux-5.13 that records the CPUs whose is_lazy the open-coded filter read. */
class Probed extends Linux513 {
  condReads: number[] = [];
  protected override *isNotLazy(k: KernelOps, target: number): Sim<boolean> {
    this.condReads.push(target);
    return yield* super.isNotLazy(k, target);
  }
}

/** linux-5.13 with flush_tlb_func() callable from a test, and (`sentinel` false) the 2022 bug: no TLB_GENERATION_INVALID check. */
class Handler extends Linux513 {
  constructor(private readonly sentinel: boolean) {
    super();
  }
  infoAt(c: number) {
    return { f: this.info.addr(c), field: (f: number, n: string) => this.info.field(f, n) };
  }
  run(cpu: Cpu, f: number): Sim {
    return this.flushTlbFuncRemote(cpu, f);
  }
  protected override *flushTail(k: TlbOps, cpu: Cpu, f: number, loaded: Mm, asid: number): Sim {
    if (!this.sentinel && (yield k.load(this.info.field(f, 'new_tlb_gen'))) <= (yield k.load(this.ts.ctxTlbGen(cpu.id, asid)))) return;
    yield* super.flushTail(k, cpu, f, loaded, asid);
  }
}

describe('linux-5.13', () => {
  test('PTE-only flush: the open-coded filter reads each candidate\'s is_lazy and IPIs only the running CPU', () => {
    const s = new Probed();
    const { m, targets, cr3After, violations } = flushScenario(s);
    // As v4.20 (reference §5 D1, §6 E1): mm_cpumask(a) = {0, 1, 2, 3} (lazy CPUs stay in it; cpu5
    // left a when it switched to b). The filter reads is_lazy of each, the initiator's included;
    // cpu2 and cpu3 are lazy and keep CR3 on a, to catch up through tlb_gen when they return.
    expect(s.condReads).toEqual([initiator, running, lazyKthread, lazyIdle]);
    expect(targets).toEqual([running]);
    expect([cr3After[lazyKthread], cr3After[lazyIdle]]).toEqual([1, 1]);
    expect(m.stats.dump().strategy).toEqual({ lazyCatchUpFlushes: 2, lazyToInitMm: 0, tlbGenReadsSkipped: 0 });
    expect(violations).toEqual([]);
  });

  test('freed page tables: the whole mask gets the IPI and the lazy CPUs leave for init_mm', () => {
    // native_flush_tlb_multi: freed_tables → on_each_cpu_mask(mm_cpumask) (reference §6 E1 "as D").
    const { m, targets, cr3After, violations } = flushScenario(linux513(), { freedTables: true });
    expect(targets).toEqual([running, lazyKthread, lazyIdle]);
    expect([cr3After[running], cr3After[lazyKthread], cr3After[lazyIdle]]).toEqual([1, 0, 0]);
    expect(m.stats.dump().strategy).toEqual({ lazyCatchUpFlushes: 0, lazyToInitMm: 2, tlbGenReadsSkipped: 0 });
    expect(violations).toEqual([]);
  });

  test('concurrent order: the initiator flushes locally while the IPI flies, so the flush returns sooner than v4.20\'s', () => {
    const latency = (s: Strategy) => {
      const { m, targets } = flushScenario(s);
      expect(targets).toEqual([running]);
      const h = m.stats.dump().flushes as { latencyCycles: { count: number; max: number } };
      expect(h.latencyCycles.count).toBe(1);
      return h.latencyCycles.max;
    };
    const serial = latency(linux420());
    const concurrent = latency(linux513());
    // v4.20: 8 INVLPGs (200 cycles each on skylake-sp-2s), then send and wait; v5.13: send, the
    // 8 INVLPGs under the IPI's delivery, wait. The saving is about the local flush (~1,900 cycles
    // of handler, like the remote one's handlerCycles); measured 7,479 → 5,284.
    expect(serial - concurrent).toBeGreaterThan(1_200);
    expect(serial - concurrent).toBeLessThan(3_000);
  });

  test('layout (v5.13): is_lazy sits alone on its cpu_tlbstate_shared line; in v4.20 it shared loaded_mm\'s', () => {
    const cfg = resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 4 });
    const s = new Linux513();
    new TlbMachine({ config: cfg, seed: 1, strategy: s });
    const line = (a: number) => Math.floor(a / LINE_BYTES);
    const ts = s.tlbState;
    expect([s.sharedState.size, s.sharedState.lineOf('is_lazy')]).toEqual([LINE_BYTES, 0]);
    expect(ts.s.size).toBe(128); // cpu_tlbstate: two lines, no is_lazy
    expect(() => ts.s.addr(0, 'is_lazy')).toThrow();
    const tlbstateLines = new Set<number>();
    for (let c = 0; c < 4; c++) for (const f of ['loaded_mm', 'ctxs[5].tlb_gen']) tlbstateLines.add(line(ts.s.addr(c, f)));
    for (let c = 0; c < 4; c++) {
      expect(tlbstateLines.has(line(ts.isLazy(c)))).toBe(false);
      expect(line(ts.isLazy(c))).not.toBe(line(ts.isLazy((c + 1) % 4)));
    }
    const old = new Linux420();
    new TlbMachine({ config: cfg, seed: 1, strategy: old });
    expect(line(old.tlbState.isLazy(1))).toBe(line(old.tlbState.loadedMm(1)));
  });

  test('no redundant is_lazy store: thread-to-thread switches leave the line alone (v4.20 stores every time)', () => {
    const stores = (s: Strategy & { tlbState: { isLazy(c: number): number } }) => {
      const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }), seed: 1, strategy: s });
      const a = m.createMm('a', 16);
      let n = 0;
      const store = m.k.store.bind(m.k);
      m.k.store = (addr: number, v: number) => {
        if (addr === s.tlbState.isLazy(0)) n++;
        return store(addr, v);
      };
      for (const name of ['t0', 't1']) {
        m.sched.createTask(name, a, 0, function* ({ task, sched }: TaskEnv<Scheduler>): Sim {
          for (let i = 0; i < 10; i++) {
            yield* sched.touch(task, i, true);
            yield* sched.yieldCpu(task);
          }
        });
      }
      m.sched.start();
      m.engine.run({ maxCycles: 1e8 });
      expect(m.sched.switches.sameMm.value).toBeGreaterThanOrEqual(18);
      return n;
    };
    // The CPU goes lazy once (idle after the threads end): one store to set it; the first switch
    // from idle is not lazy (loaded_mm was init_mm), and no thread switch stores false.
    expect(stores(new Linux513())).toBe(1);
    expect(stores(new Linux420())).toBeGreaterThanOrEqual(20);
  });

  test('handler shortcut: generation already reached → no tlb_gen read; TLB_GENERATION_INVALID still flushes', () => {
    const run = (sentinel: boolean) => {
      const s = new Handler(sentinel);
      const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }), seed: 1, strategy: s });
      const a = m.createMm('a', 16);
      const r = { caughtUp: false, asidFlushes: 0 };
      m.sched.createTask('t', a, 0, function* ({ k: k0, task, sched }: TaskEnv<Scheduler>): Sim {
        const k = k0 as TlbOps;
        yield* sched.touch(task, 0, true);
        const cpu = sched.cpuOf(task);
        const t = m.unit.tlbs[cpu.id];
        const f0 = t.asidFlushes.value;
        // arch_tlbbatch_add_pending() bumps tlb_gen; arch_tlbbatch_flush() then sends a full
        // flush whose new_tlb_gen is TLB_GENERATION_INVALID.
        yield k.xadd(a.tlbGenAddr, 1);
        const { f, field } = s.infoAt(cpu.id);
        for (const [n, v] of [['mm', a.id], ['start', 0], ['end', TLB_FLUSH_ALL], ['new_tlb_gen', TLB_GENERATION_INVALID], ['initiating_cpu', cpu.id]] as const) yield k.store(field(f, n), v);
        yield k.irqDisable();
        yield* s.run(cpu, f);
        yield k.irqEnable();
        const asid = m.memory.peek(s.tlbState.s.addr(cpu.id, 'loaded_mm_asid')) % 65536;
        r.caughtUp = m.memory.peek(s.tlbState.ctxTlbGen(cpu.id, asid)) === m.memory.peek(a.tlbGenAddr);
        r.asidFlushes = t.asidFlushes.value - f0;
      });
      m.sched.start();
      m.engine.run({ maxCycles: 1e8 });
      return r;
    };
    expect(run(true)).toEqual({ caughtUp: true, asidFlushes: 1 });
    // Control: without the sentinel, generation 0 looks reached and the batched flush is lost.
    expect(run(false)).toEqual({ caughtUp: false, asidFlushes: 0 });
  });

  test('randomized: 30 seeds with perturbed timing and no violation; concurrent flushes let handlers skip the tlb_gen read', () => {
    let skipped = 0;
    randomized(linux513, { onRun: (m) => { skipped += (m.stats.dump().strategy as { tlbGenReadsSkipped: number }).tlbGenReadsSkipped; } });
    expect(skipped).toBeGreaterThan(0);
  });
});
