import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { RngStreams } from '../../lib/rng';
import { CpuMachine } from '../../cpu/machine';
import { VEC_CALL_FUNCTION_SINGLE } from '../../cpu/vectors';

/**
 * Target cpu1 alternates interrupts-off and interrupts-on stretches of work; three other CPUs
 * post messages into its mailbox and IPI it at random times. Every message must be handled
 * (never lost), no handler may run while the target has interrupts off, and the target must
 * never take more interrupts than IPIs arrived (never delivered twice).
 */
function run(seed: number) {
  const m = new CpuMachine({ config: resolveMachine('zen3-1s'), seed, perturb: { transferMax: 50, drainMax: 200 } });
  const { k, engine, memory } = m;
  const rng = new RngStreams(seed).stream('test.irq');
  const mailbox = memory.allocLines('mailbox');
  const target = 1;
  const offWindows: Array<[number, number]> = [];
  const handledAt: number[] = [];
  let handled = 0;
  let sent = 0;
  let targetDone = false;
  m.cpu.handlers[VEC_CALL_FUNCTION_SINGLE] = function* (): Sim {
    handledAt.push(engine.now);
    handled += yield k.xchg(mailbox, 0);
  };
  function* targetBody(): Sim {
    for (let i = 0; i < 40; i++) {
      yield k.irqDisable();
      const from = engine.now;
      yield k.compute(rng.range(500, 20_000));
      offWindows.push([from, engine.now]);
      yield k.irqEnable();
      yield k.compute(rng.range(100, 5_000));
    }
    targetDone = true;
  }
  function* sender(cpu: number): Sim {
    for (let i = 0; i < 15; i++) {
      yield k.delay(rng.range(0, 30_000));
      yield k.xadd(mailbox, 1);
      sent++;
      yield k.sendIpi(target, VEC_CALL_FUNCTION_SINGLE);
    }
    void cpu;
  }
  m.cpu.boot(target, engine.create('target', target, targetBody()));
  for (const c of [0, 9, 40]) m.cpu.boot(c, engine.create(`sender${c}`, c, sender(c)));
  engine.run({ maxCycles: 1e9 });
  const stats = m.stats.dump() as any;
  return { m, sent, handled, handledAt, offWindows, targetDone, received: stats.cpu1.ipisReceived.callFunctionSingle, taken: stats.cpu1.irqs.callFunctionSingle };
}

describe('interrupts and the interrupt flag', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: IPIs to a CPU that toggles its interrupt flag are neither lost nor doubled', (seed) => {
    const r = run(seed);
    expect(r.targetDone).toBe(true);
    expect(r.sent).toBe(45);
    expect(r.handled).toBe(r.sent); // every message was handled
    expect(r.received).toBe(r.sent); // every IPI arrived
    expect(r.taken).toBeLessThanOrEqual(r.received); // same-vector IPIs may coalesce, never multiply
    expect(r.taken).toBe(r.handledAt.length);
    for (const t of r.handledAt) {
      for (const [a, b] of r.offWindows) {
        if (t > a && t < b) throw new Error(`handler ran at ${t}, inside the interrupts-off window [${a}, ${b}]`);
      }
    }
  });

  test('an interrupt that arrives with interrupts off is taken right after the enable', () => {
    const m = new CpuMachine({ config: resolveMachine('skylake-sp-2s'), seed: 1 });
    const { k, engine } = m;
    let handledAt = -1;
    let enabledAt = -1;
    m.cpu.handlers[VEC_CALL_FUNCTION_SINGLE] = function* (): Sim {
      handledAt = engine.now;
    };
    function* target(): Sim {
      yield k.irqDisable();
      yield k.compute(100_000);
      enabledAt = engine.now;
      yield k.irqEnable();
      yield k.compute(1000);
    }
    function* sender(): Sim {
      yield k.sendIpi(1, VEC_CALL_FUNCTION_SINGLE);
    }
    m.cpu.boot(1, engine.create('target', 1, target()));
    m.cpu.boot(0, engine.create('sender', 0, sender()));
    engine.run();
    // The enable instruction (1 cycle), then the interrupt entry.
    expect(handledAt).toBe(enabledAt + 1 + Math.floor(m.config.params.irqEntryExit / 2));
  });
});
