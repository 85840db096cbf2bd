/**
 * MESI conformance of the coherence model (mem/coherence.ts), after the recipe of
 * docs/reference/input-formats.md §4.3.
 *
 * Expected behaviour: the stable-state cache and directory controller tables of ProtoGen's
 * `MESI.pcc` (icsa-caps/ProtoGen, snapshot 33650761, MIT, © University of Edinburgh), as
 * transcribed in docs/reference/input-formats.md §4.2. This file keeps its OWN copy of those tables; it
 * deliberately does not import mem/mesi.ts, which would make the test check the model against itself.
 *
 * The model is driven only through its public operations (read = Load, write/rmw = Store,
 * evict = Replacement); forwarded messages (Fwd_GetS, Fwd_GetM, Inv) are caused by another CPU's
 * request, routed as the directory table says.
 */
import { RngStreams } from '../../lib/rng';
import type { Coherence } from '../../mem/coherence';
import { build } from './util';

// State codes of the model, for caches and directory alike (documented in mem/mesi.ts).
const I = 0;
const S = 1;
const E = 2;
const M = 3;
const NAME = ['I', 'S', 'E', 'M'];

type Ev = 'Load' | 'Store' | 'Replacement' | 'Fwd_GetS' | 'Fwd_GetM' | 'Inv';
const EVENTS: readonly Ev[] = ['Load', 'Store', 'Replacement', 'Fwd_GetS', 'Fwd_GetM', 'Inv'];
/** "—": the event cannot occur in this state. */
const NO = null;
/** I + Load: S on `GetS_Ack` (others hold the line), E on exclusive data (nobody does). */
const BY_RESPONSE = -1;
/** Directory S + PutS: stay S, or I when the last sharer leaves. */
const S_OR_I = -2;

/** §4.2 cache controller: next stable state per (state, event). */
const CACHE: ReadonlyArray<Readonly<Record<Ev, number | null>>> = [
  /* I */ { Load: BY_RESPONSE, Store: M, Replacement: NO, Fwd_GetS: NO, Fwd_GetM: NO, Inv: NO },
  /* S */ { Load: S, Store: M, Replacement: I, Fwd_GetS: NO, Fwd_GetM: NO, Inv: I },
  /* E */ { Load: E, Store: M, Replacement: I, Fwd_GetS: S, Fwd_GetM: I, Inv: NO },
  /* M */ { Load: M, Store: M, Replacement: I, Fwd_GetS: S, Fwd_GetM: I, Inv: NO },
];

type DirEv = 'GetS' | 'GetM' | 'PutS' | 'PutE' | 'PutM';
/** §4.2 directory controller: next stable state per (state, request). */
const DIR: ReadonlyArray<Readonly<Record<DirEv, number | null>>> = [
  /* I */ { GetS: E, GetM: M, PutS: NO, PutE: NO, PutM: NO },
  /* S */ { GetS: S, GetM: M, PutS: S_OR_I, PutE: NO, PutM: NO },
  /* E */ { GetS: S, GetM: M, PutS: NO, PutE: I, PutM: NO },
  /* M */ { GetS: S, GetM: M, PutS: NO, PutE: NO, PutM: I },
];

type Op = 'read' | 'write' | 'rmw' | 'evict';

/** The message the directory delivers to a cache holding a line in `held` when another cache
 *  sends `request` for it: Fwd_GetS/Fwd_GetM to the owner (E/M), Inv to sharers on a GetM. */
function delivered(held: number, request: 'GetS' | 'GetM'): Ev | null {
  if (held === E || held === M) return request === 'GetS' ? 'Fwd_GetS' : 'Fwd_GetM';
  if (held === S && request === 'GetM') return 'Inv';
  return null;
}

function next(state: number, ev: Ev): number {
  const n = CACHE[state][ev];
  if (n === NO) throw new Error(`${NAME[state]} + ${ev} is "—" in the table but occurred`);
  return n;
}

/** Every cache's state after `op` by `cpu`, by the tables; `before` is every cache's state. */
function expectedAfter(before: readonly number[], cpu: number, op: Op): number[] {
  const after = before.slice();
  const mine = before[cpu];
  if (op === 'evict') {
    if (mine !== I) after[cpu] = next(mine, 'Replacement'); // evicting an absent line does nothing
    return after;
  }
  const ev: Ev = op === 'read' ? 'Load' : 'Store';
  const othersHold = before.some((s, c) => c !== cpu && s !== I);
  let n = next(mine, ev);
  if (n === BY_RESPONSE) n = othersHold ? S : E;
  after[cpu] = n;
  const hit = ev === 'Load' ? mine !== I : mine === E || mine === M;
  if (!hit) {
    const request = ev === 'Load' ? 'GetS' : 'GetM';
    before.forEach((held, c) => {
      const msg = c === cpu ? null : delivered(held, request);
      if (msg !== null) after[c] = next(held, msg);
    });
  }
  return after;
}

function states(coh: Coherence, line: number): number[] {
  return Array.from({ length: coh.nCpus }, (_, c) => coh.stateOf(c, line));
}
const show = (s: readonly number[]): string => s.map((x) => NAME[x]).join('');

/** A fresh model; `run` applies one operation and checks SWMR and every cache's transition. */
function harness() {
  const { coh } = build();
  let now = 0;
  const run = (op: Op, cpu: number, line = L): void => {
    const before = states(coh, line);
    now += 1000; // well past the previous request, so lines are never busy
    if (op === 'read') coh.read(cpu, line, now);
    else if (op === 'write') coh.write(cpu, line, now);
    else if (op === 'rmw') coh.rmw(cpu, line, now);
    else coh.evict(cpu, line);
    expect(coh.checkInvariant(line)).toBeNull();
    expect(show(states(coh, line))).toBe(show(expectedAfter(before, cpu, op)));
  };
  return { coh, run };
}

const L = 7;
const A = 0; // the cache under test
const B = 4; // A's fellow sharer when A is in S (another socket)
const C = 2; // the other CPU whose requests cause Fwd_GetS / Fwd_GetM / Inv at A

/** Puts line L of cache A into `x` through public operations only. */
function enter(run: ReturnType<typeof harness>['run'], x: number): void {
  if (x === I) { run('write', A); run('evict', A); }
  else if (x === S) { run('read', A); run('read', B); }
  else if (x === E) run('read', A);
  else run('write', A);
}

/** The operation that causes `ev` at A (own events), or would cause it if A's state allows it. */
const CAUSE: Record<Ev, [Op, number]> = {
  Load: ['read', A], Store: ['write', A], Replacement: ['evict', A],
  Fwd_GetS: ['read', C], Fwd_GetM: ['write', C], Inv: ['write', C],
};

/** A's state after `ev` is caused in state `x`, with what actually reaches A. */
function outcome(x: number, ev: Ev): { want: number; got: Ev | null } {
  const [op, cpu] = CAUSE[ev];
  if (cpu === A) {
    if (CACHE[x][ev] === NO) return { want: x, got: null }; // only I + Replacement: nothing to evict
    const n = next(x, ev);
    return { want: n === BY_RESPONSE ? E : n, got: ev }; // nobody else holds L when A is in I
  }
  const got = delivered(x, op === 'read' ? 'GetS' : 'GetM');
  return { want: got === null ? x : next(x, got), got };
}

const CACHE_CASES = [I, S, E, M].flatMap((x) =>
  EVENTS.map((ev) => {
    const { want, got } = outcome(x, ev);
    const [op, cpu] = CAUSE[ev];
    const what = cpu === A ? `cpu ${A} ${op}s` : `cpu ${C} ${op}s`;
    const detail = got === null ? 'nothing reaches A' : `A gets ${got} instead`;
    const name = CACHE[x][ev] === NO
      ? `${NAME[x]} + ${ev} → — (${what}: ${detail} → ${NAME[want]})`
      : `${NAME[x]} + ${ev} → ${NAME[want]}`;
    return { name, x, ev, want, got };
  }),
);

describe('MESI cache controller (ProtoGen MESI.pcc, §4.2)', () => {
  test('covers all 24 (state, event) pairs', () => expect(CACHE_CASES).toHaveLength(24));

  test.each(CACHE_CASES)('$name', ({ x, ev, want, got }) => {
    const { coh, run } = harness();
    enter(run, x);
    expect(NAME[coh.stateOf(A, L)]).toBe(NAME[x]);
    // The trigger delivers exactly the table's event, unless the table says it cannot occur.
    if (CACHE[x][ev] === NO) expect(got).not.toBe(ev);
    else expect(got).toBe(ev);
    const [op, cpu] = CAUSE[ev];
    run(op, cpu);
    expect(NAME[coh.stateOf(A, L)]).toBe(NAME[want]);
  });

  describe('requester side', () => {
    test('I + Load → E when no other cache holds the line (exclusive data)', () => {
      const { coh, run } = harness();
      run('read', A);
      expect(NAME[coh.stateOf(A, L)]).toBe('E');
    });

    test.each(['S', 'E', 'M'])('I + Load → S when another cache holds the line in %s', (name) => {
      const held = NAME.indexOf(name);
      const { coh, run } = harness();
      run(held === M ? 'write' : 'read', B);
      if (held === S) run('read', C);
      expect(coh.stateOf(B, L)).toBe(held);
      run('read', A);
      expect(NAME[coh.stateOf(A, L)]).toBe('S');
    });

    test.each([
      ['I', 'write'], ['I', 'rmw'], ['S', 'write'], ['S', 'rmw'], ['E', 'rmw'],
    ] as const)('%s + Store (%s) → M, every other copy invalidated', (from, op) => {
      const { coh, run } = harness();
      if (from === 'I') run('read', B); // someone else holds it
      else enter(run, NAME.indexOf(from));
      run(op, A);
      expect(show(states(coh, L))).toBe('M' + 'I'.repeat(coh.nCpus - 1));
    });
  });
});

describe('MESI directory controller (ProtoGen MESI.pcc, §4.2)', () => {
  /** Directory state d for line L: S has three sharers, cpus 0, 1 and 4; E/M are owned by cpu 0. */
  function enterDir(run: ReturnType<typeof harness>['run'], d: number): void {
    if (d === S) for (const c of [0, 1, 4]) run('read', c);
    else if (d === E) run('read', 0);
    else if (d === M) run('write', 0);
  }
  const REQ: Record<DirEv, Op> = { GetS: 'read', GetM: 'write', PutS: 'evict', PutE: 'evict', PutM: 'evict' };

  // [directory state, request, requester, CPUs that send PutS first, sharers after, states of cpus 0,1,2,4 after]
  const DIR_CASES: Array<[number, DirEv, number, number[], number, string]> = [
    [I, 'GetS', 2, [], 0, 'IIEI'],
    [I, 'GetM', 2, [], 0, 'IIMI'],
    [S, 'GetS', 2, [], 4, 'SSSS'],
    [S, 'GetM', 2, [], 0, 'IIMI'], // Inv to all three sharers
    [S, 'GetM', 0, [], 0, 'MIII'], // upgrade: Inv to the two others
    [S, 'PutS', 0, [], 2, 'ISIS'],
    [S, 'PutS', 0, [1, 4], 0, 'IIII'], // the last sharer leaves
    [E, 'GetS', 2, [], 2, 'SISI'],
    [E, 'GetM', 2, [], 0, 'IIMI'],
    [E, 'PutE', 0, [], 0, 'IIII'],
    [M, 'GetS', 2, [], 2, 'SISI'],
    [M, 'GetM', 2, [], 0, 'IIMI'],
    [M, 'PutM', 0, [], 0, 'IIII'],
  ];

  test.each(DIR_CASES.map(([d, req, cpu, first, sharers, caches]) => {
    let n = DIR[d][req] as number;
    if (n === S_OR_I) n = sharers === 0 ? I : S;
    const name = `${NAME[d]} + ${req} from cpu ${cpu}${first.length ? ' (last sharer)' : ''} → ${NAME[n]}, ${sharers} sharers`;
    return { name, d, req, cpu, first, sharers, caches, n };
  }))('$name', ({ d, req, cpu, first, sharers, caches, n }) => {
    const { coh, run } = harness();
    enterDir(run, d);
    expect(NAME[coh.dir[L]]).toBe(NAME[d]);
    for (const c of first) run('evict', c);
    run(REQ[req], cpu);
    expect(NAME[coh.dir[L]]).toBe(NAME[n]);
    expect(coh.owner[L]).toBe(n === E || n === M ? cpu : -1);
    expect(coh.sharerCount[L]).toBe(sharers);
    expect([0, 1, 2, 4].map((c) => NAME[coh.stateOf(c, L)]).join('')).toBe(caches);
  });

  test('E + Store is silent: the directory stays E with the same owner, and the PutM empties it', () => {
    // §4.2 marks directory E + PutM "—", yet cache E + Store → M (silent) then M + Replacement
    // sends PutM to a directory in E; the model accepts it from the owner, like M + PutM.
    const { coh, run } = harness();
    run('read', 0);
    run('write', 0);
    expect([NAME[coh.dir[L]], coh.owner[L]]).toEqual(['E', 0]);
    run('evict', 0);
    expect([NAME[coh.dir[L]], coh.owner[L], coh.sharerCount[L]]).toEqual(['I', -1, 0]);
  });
});

describe('SWMR under random traffic', () => {
  const OPS: readonly Op[] = ['read', 'write', 'rmw', 'evict'];
  const LINES = [3, 4, 5, 6];

  test.each(Array.from({ length: 20 }, (_, i) => i + 1))('seed %i: 2,000 random operations', (seed) => {
    const { coh } = build();
    const rng = new RngStreams(seed).stream('test.swmr');
    let now = 0;
    for (let i = 0; i < 2000; i++) {
      const cpu = rng.int(16);
      const line = LINES[rng.int(LINES.length)];
      const op = OPS[rng.int(OPS.length)];
      now += 1 + rng.int(200);
      const before = states(coh, line);
      if (op === 'read') coh.read(cpu, line, now);
      else if (op === 'write') coh.write(cpu, line, now);
      else if (op === 'rmw') coh.rmw(cpu, line, now);
      else coh.evict(cpu, line);
      const at = `seed ${seed}, op ${i}: cpu ${cpu} ${op}s line ${line} (${show(before)})`;
      const violation = coh.checkInvariant(line);
      if (violation !== null) throw new Error(`${at}: ${violation}`);
      const want = show(expectedAfter(before, cpu, op));
      const got = show(states(coh, line));
      if (got !== want) throw new Error(`${at}: got ${got}, the table says ${want}`);
      for (const l of LINES) {
        const s = states(coh, l);
        const owners = s.filter((x) => x === E || x === M).length;
        const sharers = s.filter((x) => x === S).length;
        if (owners > 1 || (owners === 1 && sharers > 0)) {
          throw new Error(`${at}: line ${l} breaks SWMR: ${show(s)}`);
        }
      }
    }
  });
});
