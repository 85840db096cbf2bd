import type { Sim } from '../../lib/engine/ops';
import { ConfigError } from '../../lib/errors';
import { LINE_SHIFT, MAX_MEMORY_BYTES, SimMemory } from '../../mem/memory';
import { M, S } from '../../mem/mesi';
import { build } from './util';

describe('SimMemory sizing', () => {
  test('starts small and grows as allocations need, keeping every address and value', () => {
    const memory = new SimMemory();
    const first = memory.allocLines('first');
    memory.poke(first, 42);
    const before = memory.capacity;
    const big = memory.alloc('big', 3 * before, 64);
    expect(memory.capacity).toBeGreaterThanOrEqual(big + 3 * before);
    expect(memory.peek(first)).toBe(42);
    memory.poke(big + 8, 7);
    expect(memory.peek(big + 8)).toBe(7);
    expect(memory.symbolize(first)).toBe('first');
  });

  test('the grown probe reports the new line count once per growth', () => {
    const memory = new SimMemory();
    const seen: number[] = [];
    memory.grown.attach((lines) => seen.push(lines));
    memory.alloc('a', memory.capacity * 2, 64);
    expect(seen).toEqual([memory.capacity >>> LINE_SHIFT]);
    memory.allocLines('b');
    expect(seen.length).toBe(1);
  });

  test('more than the limit is named as a leak, with the allocation', () => {
    const memory = new SimMemory();
    expect(() => memory.alloc('child9.pte', MAX_MEMORY_BYTES, 64)).toThrow(ConfigError);
    expect(() => memory.alloc('child9.pte', MAX_MEMORY_BYTES, 64)).toThrow(/child9\.pte: the workload allocates without freeing/);
  });
});

describe('per-line state when memory grows', () => {
  test('coherence and spinning keep their lines; new lines start uncached', () => {
    const { engine, memory, coh, k } = build();
    const x = memory.allocLines('x');
    const line = x >>> LINE_SHIFT;
    coh.write(0, line, 0);
    coh.read(1, line, 100);
    expect([coh.stateOf(0, line), coh.stateOf(1, line)]).toEqual([S, S]);
    const far = memory.alloc('far', memory.capacity * 4, 64);
    const farLine = far >>> LINE_SHIFT;
    expect([coh.stateOf(0, line), coh.stateOf(1, line)]).toEqual([S, S]);
    expect(coh.checkInvariant(farLine)).toBeNull();
    // A store and a load on a line past the old end work like any other.
    function* writer(): Generator<number, void, number> {
      yield k.store(far, 5);
      yield k.mfence();
    }
    engine.spawn('w', 2, writer());
    engine.run();
    expect(memory.peek(far)).toBe(5);
    expect(coh.stateOf(2, farLine)).toBe(M);
  });
});

describe('two contexts on one CPU (a RAR microcode context beside the running one)', () => {
  test('both stores stalled on a full store buffer complete, and both fences waiting for it to drain', () => {
    const { engine, memory, k } = build();
    const lines = memory.allocLines('lines', 8);
    const done: string[] = [];
    function* writer(name: string, base: number): Sim {
      for (let i = 0; i < 12; i++) yield k.store(base + 64 * (i % 4), i); // 4-entry buffer: stalls
      yield k.mfence();
      done.push(name);
    }
    engine.spawn('current', 0, writer('current', lines));
    engine.spawn('microcode', 0, writer('microcode', lines + 256));
    engine.run({ maxCycles: 1e7 });
    expect(done.sort()).toEqual(['current', 'microcode']);
    expect(memory.peek(lines + 64 * 3)).toBe(11);
    expect(memory.peek(lines + 256 + 64 * 3)).toBe(11);
  });
});
