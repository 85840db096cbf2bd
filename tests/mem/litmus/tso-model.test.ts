import * as fs from 'fs';
import * as path from 'path';
import { resolveMachine, type MachineConfig } from '../../../lib/machine/resolve';
import type { LitmusTest } from '../../../mem/litmus/ast';
import { evaluateCondition } from '../../../mem/litmus/condition';
import { parseLitmus } from '../../../mem/litmus/parse';
import { LITMUS_DEFAULTS, runLitmus } from '../../../mem/litmus/run';
import { tsoFinalStates, tsoOutcomes } from '../../../mem/litmus/tso-model';

/**
 * The simulator's litmus runs against an independent x86-TSO abstract machine (tso-model.ts):
 * every final state the simulator produces must be one x86-TSO allows (soundness), and every
 * state x86-TSO allows must show up within the runs (coverage).
 */

const DIR = path.join(__dirname, '../../../bench/data/litmus/x86');
const expected = new Map(
  fs.readFileSync(path.join(DIR, 'expected.txt'), 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/) as [string, string]),
);
const catalogue: LitmusTest[] = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.litmus'))
  .sort()
  .map((f) => parseLitmus(fs.readFileSync(path.join(DIR, f), 'utf8'), f));
const byName = (name: string): LitmusTest => catalogue.find((t) => t.name === name)!;

const RUNS = 400;
/**
 * Catalogue tests that get more runs than RUNS because one allowed state is rare under the
 * randomized timing (measured over 20000 runs per machine).
 *  - R+mfence+rfi-po: `1:EAX=1; 1:EBX=1; [y]=1;` (~0.04% on zen3-1s, ~0.37% on skylake-sp-2s).
 *    P1 must read y=1, i.e. not forward its own y=2: its store has to drain and then P0's
 *    `W x; MFENCE; W y=1` has to run and drain, all between P1's store and P1's next
 *    instruction. The owner window makes it rarer: once P1's drain owns y, P0's GetM waits for
 *    its snoop to reach P1, and P1's load meanwhile hits (0.4% on zen3-1s without the window).
 *    At 20000 runs it is missed with probability ~3e-4.
 */
const CATALOGUE_RUNS: Record<string, number> = { 'R+mfence+rfi-po': 20_000 };

const PROFILES = ['skylake-sp-2s', 'zen3-1s'];
const machines = new Map(PROFILES.map((p): [string, MachineConfig] => [p, resolveMachine(p)]));

/** Runs `test` on the simulator and checks soundness and full coverage against the oracle. */
function checkAgainstOracle(test: LitmusTest, profile: string, runs: number): void {
  const allowed = tsoFinalStates(test);
  const report = runLitmus(test, { ...LITMUS_DEFAULTS, runs, seed: 'tso-oracle', machine: machines.get(profile)! });

  // Soundness: nothing outside x86-TSO.
  const unsound = Object.entries(report.observed)
    .filter(([state]) => !allowed.has(state))
    .map(([state, n]) => `${test.name} on ${profile}: simulator produced '${state}' in ${n}/${runs} runs; x86-TSO forbids it`);
  expect(unsound).toEqual([]);

  // Coverage: every x86-TSO state observed.
  const missing = [...allowed].filter((state) => !Object.hasOwn(report.observed, state));
  const coverage = (allowed.size - missing.length) / allowed.size;
  expect({ test: test.name, profile, runs, coverage, missing }).toEqual({ test: test.name, profile, runs, coverage: 1, missing: [] });
}

/** Allow if some x86-TSO final state satisfies the test's proposition. */
function oracleVerdict(test: LitmusTest): 'Allow' | 'Forbid' {
  return [...tsoOutcomes(test).values()].some((s) => evaluateCondition(test.condition, s)) ? 'Allow' : 'Forbid';
}

/**
 * Hand-written tests beyond the catalogue (verdicts from docs/reference/input-formats.md § 2.3),
 * in both dialects: 3- and 4-thread shapes and locked instructions. `runs` is per test: the
 * rarest allowed state's frequency (measured over 20000 runs, worse of the two machines) is in
 * the comment, chosen so that missing it is below ~1e-4.
 */
const EXTRA: Array<{ verdict: 'Allow' | 'Forbid'; runs: number; text: string }> = [
  {
    // Multi-copy atomicity: P2 cannot see y=1 (which P1 wrote after seeing x=1) and then x=0.
    // Rarest: `1:EAX=1; 2:EAX=1; 2:EBX=1;` ~0.7%.
    verdict: 'Forbid',
    runs: 1500,
    text: `X86 WRC
{ }
 P0         | P1          | P2          ;
 MOV [x],$1 | MOV EAX,[x] | MOV EAX,[y] ;
            | MOV [y],$1  | MOV EBX,[x] ;
exists (1:EAX=1 /\\ 2:EAX=1 /\\ 2:EBX=0)`,
  },
  {
    // Rarest: the Allowed outcome itself, ~0.7%.
    verdict: 'Allow',
    runs: 1500,
    text: `X86_64 RWC
{ }
 P0          | P1            | P2            ;
 movl $1,(x) | movl (x),%eax | movl $1,(y)   ;
             | movl (y),%ebx | movl (x),%eax ;
exists (1:rax=1 /\\ 1:rbx=0 /\\ 2:rax=0)`,
  },
  {
    // The two readers cannot disagree on the order of the two writes. 15 allowed states;
    // rarest (one reader sees one write only, the other sees both) ~0.1% on zen3-1s.
    verdict: 'Forbid',
    runs: 8000,
    text: `X86_64 IRIW
{ }
 P0          | P1            | P2          | P3            ;
 movl $1,(x) | movl (x),%eax | movl $1,(y) | movl (y),%eax ;
             | movl (y),%ebx |             | movl (x),%ebx ;
exists (1:rax=1 /\\ 1:rbx=0 /\\ 3:rax=1 /\\ 3:rbx=0)`,
  },
  {
    // Allowed through store forwarding. Rarest: `0:EAX=2; 0:EBX=2; [x]=2;` ~0.4% on zen3-1s.
    verdict: 'Allow',
    runs: 2500,
    text: `X86 n6
{ }
 P0          | P1         ;
 MOV [x],$1  | MOV [y],$2 ;
 MOV EAX,[x] | MOV [x],$2 ;
 MOV EBX,[y] |            ;
exists (0:EAX=1 /\\ 0:EBX=0 /\\ x=1)`,
  },
  {
    // SB with XCHG stores: a locked instruction drains the buffer, so this is SB+mfences.
    verdict: 'Forbid',
    runs: 200,
    text: `X86_64 iwp2.8.a
{ }
 P0             | P1             ;
 movl $1,%eax   | movl $1,%eax   ;
 xchgl %eax,(x) | xchgl %eax,(y) ;
 movl (y),%ebx  | movl (x),%ebx  ;
exists (0:rbx=0 /\\ 1:rbx=0)`,
  },
  {
    // Only one side locked: the plain store on P1 can still be buffered.
    verdict: 'Allow',
    runs: 200,
    text: `X86 n8
{ 0:EAX=1; }
 P0           | P1          ;
 XCHG [x],EAX | MOV [y],$1  ;
 MOV EBX,[y]  | MOV EAX,[x] ;
exists (0:EBX=0 /\\ 1:EAX=0)`,
  },
  {
    // Two CASes 0 -> 1 and 0 -> 2 race: exactly one wins, and each fences an SB pair.
    verdict: 'Forbid',
    runs: 200,
    text: `X86 cas-race
{ 0:EBX=1; 1:EBX=2; }
 P0                   | P1                   ;
 MOV [y],$1           | MOV [z],$1           ;
 LOCK CMPXCHG [x],EBX | LOCK CMPXCHG [x],EBX ;
 MOV ECX,[z]          | MOV ECX,[y]          ;
locations [x;]
exists ((0:EAX=0 /\\ 1:EAX=0) \\/ (0:ECX=0 /\\ 1:ECX=0))`,
  },
  {
    // A CMPXCHG that fails (z=0, rax=5) is still a locked instruction: it fences, and loads
    // the old value (0) into rax.
    verdict: 'Forbid',
    runs: 200,
    text: `X86_64 cas-fail-fence
{ 0:rax=5; 1:rax=5; }
 P0                     | P1                     ;
 movl $1,(x)            | movl $1,(y)            ;
 lock cmpxchgl %ebx,(z) | lock cmpxchgl %ebx,(z) ;
 movl (y),%ecx          | movl (x),%ecx          ;
locations [0:rax; 1:rax; z;]
exists (0:rcx=0 /\\ 1:rcx=0)`,
  },
  {
    // Locked RMWs lose no update: x ends 0 + 1 + 3 - 1 + 5 = 8 whatever the order.
    verdict: 'Allow',
    runs: 300,
    text: `X86_64 counter
{ 1:rax=3; }
 P0             | P1                  | P2               ;
 lock incl (x)  | lock xaddq %rax,(x) | lock decl (x)    ;
 movl (x),%ebx  | movl $7,(y)         | lock addl $5,(x) ;
exists (x=8 /\\ 1:rax=0)`,
  },
];
const extras = EXTRA.map((e) => ({ ...e, test: parseLitmus(e.text, 'extra.litmus') }));

describe('the x86-TSO oracle', () => {
  test.each(catalogue.map((t) => [t.name, t] as const))('%s: Allow iff some TSO state satisfies the condition', (name, test) => {
    expect(expected.get(name)).toBeDefined();
    expect(oracleVerdict(test)).toBe(expected.get(name));
  });

  test.each(extras.map((e) => [e.test.name, e] as const))('%s (hand-written) has its documented verdict', (_name, e) => {
    expect(oracleVerdict(e.test)).toBe(e.verdict);
  });

  const sorted = (s: Set<string>): string[] => [...s].sort();

  test('SB allows all four outcomes, SB+mfences all but 0/0', () => {
    const all = ['0:EAX=0; 1:EAX=0;', '0:EAX=0; 1:EAX=1;', '0:EAX=1; 1:EAX=0;', '0:EAX=1; 1:EAX=1;'];
    expect(sorted(tsoFinalStates(byName('SB')))).toEqual(all);
    expect(sorted(tsoFinalStates(byName('SB+mfences')))).toEqual(all.slice(1));
  });

  test('MP allows everything except EAX=1, EBX=0', () => {
    expect(sorted(tsoFinalStates(byName('MP')))).toEqual(['1:EAX=0; 1:EBX=0;', '1:EAX=0; 1:EBX=1;', '1:EAX=1; 1:EBX=1;']);
  });

  test('CMPXCHG: one CAS wins, the loser gets the winner\'s value in EAX, and the loser sees the winner\'s earlier store', () => {
    const cas = extras.find((e) => e.test.name === 'cas-race')!.test;
    expect(sorted(tsoFinalStates(cas))).toEqual([
      '0:EAX=0; 0:ECX=0; 1:EAX=1; 1:ECX=1; [x]=1;',
      '0:EAX=0; 0:ECX=1; 1:EAX=1; 1:ECX=1; [x]=1;',
      '0:EAX=2; 0:ECX=1; 1:EAX=0; 1:ECX=0; [x]=2;',
      '0:EAX=2; 0:ECX=1; 1:EAX=0; 1:ECX=1; [x]=2;',
    ]);
    const fail = extras.find((e) => e.test.name === 'cas-fail-fence')!.test;
    for (const state of tsoFinalStates(fail)) expect(state).toMatch(/^0:rax=0; 0:rcx=\d; 1:rax=0; 1:rcx=\d; \[z\]=0;$/);
  });

  test('locked RMWs are atomic: the counter always ends at 8', () => {
    const counter = extras.find((e) => e.test.name === 'counter')!.test;
    const states = tsoFinalStates(counter);
    expect(states.size).toBeGreaterThan(1);
    for (const state of states) expect(state).toMatch(/\[x\]=8;$/);
  });
});

describe.each(PROFILES)('simulator vs the x86-TSO oracle on %s', (profile) => {
  test.each(catalogue.map((t) => [t.name, t] as const))('%s: sound, and every TSO state observed', (name, test) => {
    checkAgainstOracle(test, profile, CATALOGUE_RUNS[name] ?? RUNS);
  });

  test.each(extras.map((e) => [e.test.name, e] as const))('%s (hand-written): sound, and every TSO state observed', (_name, e) => {
    checkAgainstOracle(e.test, profile, e.runs);
  });
});
