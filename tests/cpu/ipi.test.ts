import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { CpuMachine } from '../../cpu/machine';
import { VEC_CALL_FUNCTION_SINGLE } from '../../cpu/vectors';

/** cpu0 sends an IPI to `target`; the handler sets a flag; cpu0 spins until it sees it. */
function roundTrip(profile: string, target: number, targetBody: 'compute' | 'halt', params: Record<string, number> = {}) {
  const m = new CpuMachine({ config: resolveMachine(profile, params), seed: 1 });
  const { k, engine, memory } = m;
  const flag = memory.allocLines('flag');
  let sentAt = -1;
  let seenAt = -1;
  m.cpu.handlers[VEC_CALL_FUNCTION_SINGLE] = function* (): Sim {
    yield k.store(flag, 1);
  };
  function* initiator(): Sim {
    yield k.load(flag); // the spin's line is already cached when the IPI goes out
    sentAt = engine.now;
    yield k.sendIpi(target, VEC_CALL_FUNCTION_SINGLE);
    yield k.spinUntilEq(flag, 1);
    seenAt = engine.now;
  }
  function* busy(): Sim {
    yield k.compute(10_000_000);
  }
  function* idle(): Sim {
    yield k.halt();
  }
  m.cpu.boot(0, engine.create('initiator', 0, initiator()));
  m.cpu.boot(target, engine.create('target', target, targetBody === 'compute' ? busy() : idle()));
  engine.run();
  return { latency: seenAt - sentAt, m };
}

describe('IPI round trip', () => {
  test.each([
    ['skylake-sp-2s', 1],
    ['skylake-sp-2s', 28],
    ['zen3-1s', 1],
    ['zen3-1s', 9],
  ])('%s cpu0 -> cpu%i and back equals what the parameters imply', (profile, target) => {
    const { latency, m } = roundTrip(profile, target, 'compute');
    const p = m.config.params;
    const dist = m.topology.distance(0, target);
    const transfer = [0, p.transferSmt, p.transferCcx, p.transferSocket, p.transferRemote][dist];
    const delivery = [0, p.ipiDeliveryCcx, p.ipiDeliveryCcx, p.ipiDeliverySocket, p.ipiDeliveryRemote][dist];
    // ICR write + delivery + interrupt entry; the handler's store drains (GetM: the initiator's
    // cached copy is invalidated), and the initiator's spin re-reads the line from the target.
    const expected = p.ipiSendX2apic + delivery + Math.floor(p.irqEntryExit / 2) + p.storeIssue + 2 * transfer;
    expect(latency).toBe(expected);
    expect((m.stats.dump() as any)[`cpu${target}`].ipisReceived.callFunctionSingle).toBe(1);
  });

  test('xAPIC sends cost more, and a halted target adds its wake-up latency', () => {
    const x2 = roundTrip('skylake-sp-2s', 1, 'compute').latency;
    const x = roundTrip('skylake-sp-2s', 1, 'compute', { x2apic: 0 });
    expect(x.latency - x2).toBe(x.m.config.params.ipiSendXapic - x.m.config.params.ipiSendX2apic);
    const idle = roundTrip('skylake-sp-2s', 1, 'halt');
    expect(idle.latency - x2).toBe(idle.m.config.params.idleWakeup);
  });
});
