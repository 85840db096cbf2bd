import { Rng } from '../../lib/rng';
import { PctSchedule, type PctOptions } from '../../mem/pct';

/** PCT's schedule (mem/pct.ts): priorities, change points and what each step is charged. */

const HOLD = 1000;
const make = (seed: string, entities: number, o: Partial<PctOptions> = {}) =>
  new PctSchedule(entities, { depth: 3, steps: 50, holdCycles: HOLD, ...o }, new Rng(seed, 'pct'));

/** How many entities have a higher priority than e: its lateness per step. */
const rankOf = (prio: number[], e: number) => prio.filter((p) => p > prio[e]).length;

test('initial priorities are d..d+m-1 in a seeded random order', () => {
  const orders = new Set<string>();
  for (let seed = 0; seed < 20; seed++) {
    const s = make(String(seed), 6, { depth: 4 });
    const prio = s.priorities();
    expect([...prio].sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9]);
    orders.add(prio.join(','));
    expect(make(String(seed), 6, { depth: 4 }).priorities()).toEqual(prio); // the seed decides
  }
  expect(orders.size).toBeGreaterThan(10); // 720 orders: 20 seeds rarely repeat one
});

test('d - 1 distinct change points in 1..k, or k of them when k is smaller', () => {
  for (let seed = 0; seed < 20; seed++) {
    for (const [depth, steps] of [[3, 50], [8, 10], [5, 2], [1, 100]]) {
      const points = make(String(seed), 4, { depth, steps }).changePoints();
      expect(points.length).toBe(Math.min(depth - 1, steps));
      expect(new Set(points).size).toBe(points.length);
      for (const p of points) expect(p >= 1 && p <= steps && Number.isInteger(p)).toBe(true);
      expect([...points].sort((a, b) => a - b)).toEqual(points);
    }
  }
});

test('each step is late by its rank; a change point lowers the entity to priority i and holds it (d - i) holds', () => {
  const depth = 4;
  const steps = 40;
  for (let seed = 0; seed < 10; seed++) {
    const s = make(String(seed), 5, { depth, steps });
    const points = s.changePoints();
    let changes = 0;
    for (let step = 1; step <= steps; step++) {
      const e = (step * 7 + seed) % 5;
      const before = s.priorities();
      const late = s.step(e);
      const after = s.priorities();
      if (points.includes(step)) {
        changes++;
        // PCT numbers change points in the order they were drawn; each takes its own priority below d.
        expect(after[e]).toBeGreaterThanOrEqual(1);
        expect(after[e]).toBeLessThan(depth);
        expect(late).toBe(HOLD * (depth - after[e]) + rankOf(after, e));
      } else {
        expect(after).toEqual(before);
        expect(late).toBe(rankOf(before, e));
      }
    }
    expect(changes).toBe(depth - 1);
    expect(new Set(s.priorities()).size).toBe(5); // priorities stay distinct
  }
});

test('of two held entities the lower-priority one is released last', () => {
  // Drive one schedule until both change points have fired, each on its own entity.
  for (let seed = 0; seed < 10; seed++) {
    const s = make(String(seed), 2, { depth: 3, steps: 10 });
    const held: Array<{ e: number; at: number; until: number }> = [];
    for (let step = 1; step <= 10; step++) {
      const e = step % 2;
      const late = s.step(e);
      if (late >= HOLD) held.push({ e, at: step, until: step + late });
    }
    expect(held.length).toBe(2);
    const prio = s.priorities();
    if (held[0].e !== held[1].e) {
      const [lo, hi] = prio[held[0].e] < prio[held[1].e] ? [held[0], held[1]] : [held[1], held[0]];
      expect(lo.until).toBeGreaterThan(hi.until);
    }
  }
});

test('depth 1 is priorities alone: no step is ever held', () => {
  const s = make('1', 8, { depth: 1, steps: 1000 });
  for (let step = 0; step < 1000; step++) expect(s.step(step % 8)).toBeLessThan(8);
});
