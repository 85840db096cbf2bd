import { E, I, M, S } from '../../mem/mesi';
import { PARAMS as P, build } from './util';

// CPU numbering of TOPO: core = cpu % 8; cores 0-1 CCX0, 2-3 CCX1 (socket 0), 4-7 socket 1.
const SMT_OF_0 = 8;
const CCX_OF_0 = 1;
const SOCKET_OF_0 = 2;
const REMOTE_OF_0 = 4;

describe('Coherence costs', () => {
  test('a cold line comes from DRAM in E, then hits', () => {
    const { coh } = build();
    expect(coh.read(0, 10, 0)).toBe(P.memLatency);
    expect(coh.stateOf(0, 10)).toBe(E);
    expect(coh.read(0, 10, 1000)).toBe(1000 + P.l1Hit);
  });

  test('an owned line is transferred at the cost of the owner\'s distance', () => {
    for (const [other, cost] of [
      [SMT_OF_0, P.transferSmt],
      [CCX_OF_0, P.transferCcx],
      [SOCKET_OF_0, P.transferSocket],
      [REMOTE_OF_0, P.transferRemote],
    ]) {
      const { coh } = build();
      coh.write(0, 3, 0); // cpu0 owns line 3 in M
      const t0 = 10_000;
      expect(coh.read(other, 3, t0)).toBe(t0 + cost); // Fwd_GetS
      expect([coh.stateOf(0, 3), coh.stateOf(other, 3)]).toEqual([S, S]);
      expect(coh.write(other, 3, 2 * t0)).toBe(2 * t0 + Math.max(P.llcHit, cost)); // upgrade: Inv to cpu0
      expect([coh.stateOf(0, 3), coh.stateOf(other, 3)]).toEqual([I, M]);
    }
  });

  test('a clean shared line comes from the LLC when a sharer shares it, else across the fabric', () => {
    const { coh } = build();
    coh.read(0, 5, 0);
    coh.read(CCX_OF_0, 5, 1000); // Fwd_GetS from cpu0 (E)
    expect(coh.read(SMT_OF_0 + 1, 5, 2000)).toBe(2000 + P.transferSmt); // cpu9 is cpu1's SMT sibling
    expect(coh.read(3, 5, 3000)).toBe(3000 + P.transferSocket); // CCX1: nearest sharers are in CCX0
    expect(coh.read(SOCKET_OF_0, 5, 4000)).toBe(4000 + P.llcHit); // cpu3 now shares CCX1's LLC
    expect(coh.read(REMOTE_OF_0, 5, 5000)).toBe(5000 + P.transferRemote);
    expect(coh.checkInvariant(5)).toBeNull();
  });

  test('a locked RMW on a contended line serializes: rate = 1 / (transfer + local RMW)', () => {
    const { engine, coh, k, memory } = build();
    const lock = memory.allocLines('lock');
    const iters = 200;
    const cpus = [0, 1]; // same CCX: every RMW after the first moves the line
    function* hammer(): Generator<number, void, number> {
      for (let i = 0; i < iters; i++) yield k.xadd(lock, 1);
    }
    for (const c of cpus) engine.spawn(`cpu${c}`, c, hammer());
    engine.run();
    expect(memory.peek(lock)).toBe(iters * cpus.length);
    const ops = iters * cpus.length;
    const perOp = (engine.now - P.memLatency) / (ops - 1);
    expect(perOp).toBeGreaterThanOrEqual(P.transferCcx + P.rmwLocal - 1);
    expect(perOp).toBeLessThanOrEqual(P.transferCcx + P.rmwLocal + 1);
    expect(coh.busyUntil[lock >>> 6]).toBe(engine.now);
  });
});

describe('interconnect hops', () => {
  test('a line two hops away costs transferRemote plus one hopCycles; one hop away, transferRemote', () => {
    // 4 sockets on a ring (2 links each), one core per socket: cpu2 is two hops from cpu0.
    const { coh } = build({ sockets: 4, ccxPerSocket: 1, coresPerCcx: 1, threadsPerCore: 1, socketLinks: 2 });
    coh.write(0, 3, 0);
    expect(coh.read(1, 3, 10_000)).toBe(10_000 + P.transferRemote);
    coh.write(0, 4, 0);
    expect(coh.read(2, 4, 20_000)).toBe(20_000 + P.transferRemote + P.hopCycles);
    // A clean line is fetched from the nearest sharer: cpu1 shares line 4? No: cpu3 reads line 3,
    // whose sharers are cpu0 (1 hop) and cpu1 (2 hops): one hop.
    expect(coh.read(3, 3, 30_000)).toBe(30_000 + P.transferRemote);
  });
});
