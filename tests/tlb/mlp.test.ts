import { pcidPingPong } from '../../bench/calibration/pcid-pingpong';
import { MlpWindow } from '../../tlb/hw/mlp';

describe('memory-level parallelism of user code', () => {
  /** n walks of `walk` cycles wanted back to back, as accessRange drives the window. */
  function stream(n: number, walk: number, fillBuffers: number, walkers: number): number {
    const w = new MlpWindow(fillBuffers, walkers);
    w.begin(0);
    for (let i = 0; i < n; i++) {
      const at = w.nextIssue();
      const start = w.walk(at, walk);
      w.miss(at, start - at + walk + 4);
    }
    return w.done;
  }

  test('independent walks overlap up to the walkers, and no further than the fill buffers allow', () => {
    expect(stream(100, 20, 10, 2)).toBe(1 + 50 * 20 + 4); // two walkers (the second starts a cycle later): half the serial time
    expect(stream(100, 20, 10, 1)).toBe(100 * 20 + 4); // one walker: serial
    expect(stream(100, 20, 1, 6)).toBe(100 * 24); // one miss slot: each waits for the last one's data
    expect(stream(100, 20, 24, 6)).toBeLessThan(100 * 20 / 5);
  });

  test('TLB hits are pipelined: one per cycle, the last one completing after its latency', () => {
    const w = new MlpWindow(10, 2);
    w.begin(1000);
    for (let i = 0; i < 64; i++) w.hit(w.nextIssue(), 16);
    expect(w.done).toBe(1000 + 63 + 16);
  });

  test("Lutomirski's ping-pong: the buffer's walks overlap on the walkers; the kernel footprint leaves walks with PCID", () => {
    const cycles = 600_000;
    const two = pcidPingPong('skylake-sp-2s', {}, false, 512, cycles);
    const one = pcidPingPong('skylake-sp-2s', { pageWalkers: '1' }, false, 512, cycles);
    // 1,024 walks a round trip: one walker instead of two adds about half their serial time.
    const extraCycles = (one.roundTripUs - two.roundTripUs) * 2.3e3;
    expect(extraCycles).toBeGreaterThan(0.8 * 1024 * 10);
    expect(extraCycles).toBeLessThan(1.2 * 1024 * 10);
    expect(two.walksPerRoundTrip).toBeGreaterThan(1024);
    expect(pcidPingPong('skylake-sp-2s', { kernelTlbPages: '0' }, true, 512, cycles).walksPerRoundTrip).toBe(0);
    expect(pcidPingPong('skylake-sp-2s', {}, true, 512, cycles).walksPerRoundTrip).toBeGreaterThan(20);
  });
});
