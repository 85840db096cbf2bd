import { ParseError } from '../../../lib/errors';
import type { Condition, FinalState, LitmusTest } from '../../../mem/litmus/ast';
import { canonicalReg, displayReg } from '../../../mem/litmus/ast';
import {
  conditionHolds,
  evaluateCondition,
  formatCondition,
  formatState,
  parseFinalClause,
} from '../../../mem/litmus/condition';
import { parseLitmus } from '../../../mem/litmus/parse';

/** A two-thread X86 test whose final clause is `clause`. */
function withClause(clause: string, arch: 'X86' | 'X86_64' = 'X86', extra = ''): LitmusTest {
  const body =
    arch === 'X86'
      ? [' P0          | P1          ;', ' MOV [x],$1  | MOV [y],$1  ;', ' MOV EAX,[y] | MOV EAX,[x] ;']
      : [' P0            | P1            ;', ' movl $1,(x)   | movl $1,(y)   ;', ' movl (y),%eax | movl (x),%eax ;'];
  return parseLitmus([`${arch} T`, '{', '}', ...body, extra, clause].join('\n'), 'T.litmus');
}

function cond(prop: string): Condition {
  return withClause(`exists ${prop}`).condition;
}

/** State where a = (0:EAX=1), b = ([x]=1), c = (1:EAX=1) take the given truth values. */
function abc(a: boolean, b: boolean, c: boolean): FinalState {
  return { regs: [{ rax: a ? 1 : 0 }, { rax: c ? 1 : 0 }], locs: { x: b ? 1 : 0, y: 0 } };
}

const BOOLS = [false, true];
const ALL: Array<[boolean, boolean, boolean]> = BOOLS.flatMap((a) =>
  BOOLS.flatMap((b) => BOOLS.map((c): [boolean, boolean, boolean] => [a, b, c])),
);

describe('condition precedence: ~ then /\\ then \\/', () => {
  const A = '0:EAX=1';
  const B = '[x]=1';
  const C = '1:EAX=1';

  it.each<[string, (a: boolean, b: boolean, c: boolean) => boolean]>([
    [`${A} /\\ ${B} \\/ ${C}`, (a, b, c) => (a && b) || c],
    [`${A} \\/ ${B} /\\ ${C}`, (a, b, c) => a || (b && c)],
    [`~${A} /\\ ${B}`, (a, b) => !a && b],
    [`~${A} \\/ ~${B} /\\ ${C}`, (a, b, c) => !a || (!b && c)],
    [`~(${A} \\/ ${B}) /\\ ${C}`, (a, b, c) => !(a || b) && c],
    [`(${A} \\/ ${B}) /\\ ${C}`, (a, b, c) => (a || b) && c],
    [`~~${A}`, (a) => a],
    [`${A} /\\ ~(${B} /\\ ~${C})`, (a, b, c) => a && !(b && !c)],
    [`true /\\ ${A}`, (a) => a],
    [`false \\/ ${C}`, (_a, _b, c) => c],
    [`~true \\/ ~false /\\ ${B}`, (_a, b) => b],
  ])('%s matches its truth table', (prop, truth) => {
    const c = cond(prop);
    for (const [a, b, cc] of ALL) expect([a, b, cc, evaluateCondition(c, abc(a, b, cc))]).toEqual([a, b, cc, truth(a, b, cc)]);
  });

  it('builds the expected tree shape', () => {
    expect(cond('~[x]=1 /\\ y=2 \\/ 1:EAX=3')).toEqual({
      kind: 'or',
      left: {
        kind: 'and',
        left: { kind: 'not', arg: { kind: 'loc-eq', loc: 'x', value: 1 } },
        right: { kind: 'loc-eq', loc: 'y', value: 2 },
      },
      right: { kind: 'reg-eq', thread: 1, reg: 'rax', value: 3 },
    });
  });

  it('is left-associative', () => {
    expect(cond('x=1 /\\ x=2 /\\ x=3')).toEqual({
      kind: 'and',
      left: { kind: 'and', left: { kind: 'loc-eq', loc: 'x', value: 1 }, right: { kind: 'loc-eq', loc: 'x', value: 2 } },
      right: { kind: 'loc-eq', loc: 'x', value: 3 },
    });
  });
});

describe('atoms and values', () => {
  it('reads negative and hex values', () => {
    expect(cond('(x=-1 /\\ 0:EAX=0x1F)')).toEqual({
      kind: 'and',
      left: { kind: 'loc-eq', loc: 'x', value: -1 },
      right: { kind: 'reg-eq', thread: 0, reg: 'rax', value: 31 },
    });
  });

  it('treats EAX, eax, rax and %rax as one register in either dialect', () => {
    const expected = { kind: 'reg-eq', thread: 0, reg: 'rax', value: 0 };
    expect(withClause('exists (0:EAX=0)', 'X86_64').condition).toEqual(expected);
    expect(withClause('exists (0:rax=0)', 'X86_64').condition).toEqual(expected);
    expect(withClause('exists (0:RAX=0)', 'X86').condition).toEqual(expected);
    expect(withClause('exists (0:%eax=0)', 'X86').condition).toEqual(expected);
    expect(canonicalReg('R9D')).toBe('r9');
    expect(canonicalReg('ax')).toBeUndefined();
    expect(displayReg('X86', 'r9')).toBe('R9D');
    expect(displayReg('X86', 'rsi')).toBe('ESI');
    expect(displayReg('X86_64', 'rsi')).toBe('rsi');
  });

  it('reads registers and locations absent from the state as 0', () => {
    const c = cond('(0:EBX=0 /\\ z=0)');
    expect(evaluateCondition(c, { regs: [], locs: {} })).toBe(true);
    expect(evaluateCondition(c, { regs: [{ rbx: 1 }], locs: {} })).toBe(false);
    expect(evaluateCondition(c, { regs: [{}], locs: { z: 2 } })).toBe(false);
  });

  it('does not confuse a location called like an Object method with a value', () => {
    const c = cond('(constructor=0)');
    expect(evaluateCondition(c, { regs: [], locs: {} })).toBe(true);
  });
});

describe('quantifiers', () => {
  const zeroZero: FinalState = { regs: [{ rax: 0 }, { rax: 0 }], locs: { x: 1, y: 1 } };
  const oneZero: FinalState = { regs: [{ rax: 1 }, { rax: 0 }], locs: { x: 1, y: 1 } };

  it.each(['exists', '~exists', 'forall', '~ exists'])('%s: per-state truth is the proposition', (q) => {
    const t = withClause(`${q} (0:EAX=0 /\\ 1:EAX=0)`);
    expect(t.quantifier).toBe(q.replace(' ', ''));
    expect(conditionHolds(t, zeroZero)).toBe(true);
    expect(conditionHolds(t, oneZero)).toBe(false);
  });

  it('accepts the proposition on the next lines', () => {
    const t = withClause('exists\n(0:EAX=0\n /\\ 1:EAX=0)\n');
    expect(t.condition.kind).toBe('and');
  });

  it('parseFinalClause rejects a missing quantifier', () => {
    expect(() => parseFinalClause([{ text: '(x=1)', line: 7 }], 'f.litmus', 1)).toThrow('f.litmus:7: expected');
    expect(() => parseFinalClause([{ text: '~forall (x=1)', line: 3 }], 'f.litmus', 1)).toThrow(ParseError);
  });
});

describe('formatting', () => {
  it('prints observed registers by thread then name, then locations, in herd spelling', () => {
    const t = withClause('exists (1:EBX=0 /\\ y=2 /\\ 0:EAX=1 /\\ 1:EAX=0 /\\ x=1)');
    expect(t.observed).toEqual({
      regs: [
        { thread: 0, reg: 'rax' },
        { thread: 1, reg: 'rax' },
        { thread: 1, reg: 'rbx' },
      ],
      locs: ['x', 'y'],
    });
    const state: FinalState = { regs: [{ rax: 1 }, { rax: 0, rbx: 7 }], locs: { x: 1, y: 2 } };
    expect(formatState(t, state)).toBe('0:EAX=1; 1:EAX=0; 1:EBX=7; [x]=1; [y]=2;');
  });

  it('uses rax spelling for X86_64 and includes a locations line', () => {
    const t = withClause('exists (0:EAX=1)', 'X86_64', 'locations [1:rax; [y]; x;]');
    expect(t.observed).toEqual({ regs: [{ thread: 0, reg: 'rax' }, { thread: 1, reg: 'rax' }], locs: ['x', 'y'] });
    expect(formatState(t, { regs: [{ rax: 1 }, { rax: 2 }], locs: { x: 1, y: 1 } })).toBe(
      '0:rax=1; 1:rax=2; [x]=1; [y]=1;',
    );
  });

  it('prints a condition herd-style', () => {
    const t = withClause('~exists (0:EAX=0 /\\ ~(1:EAX=0 \\/ [x]=2))');
    expect(formatCondition(t.arch, t.condition)).toBe('(0:EAX=0 /\\ ~(1:EAX=0 \\/ [x]=2))');
    const t64 = withClause('exists 0:EAX=0 /\\ true', 'X86_64');
    expect(formatCondition(t64.arch, t64.condition)).toBe('(0:rax=0 /\\ true)');
  });
});

describe('malformed conditions', () => {
  /** The proposition sits on line 9 of the file withClause builds (quantifier on line 8). */
  function expectError(prop: string, line: number, phrase: string): void {
    let caught: unknown;
    try {
      withClause(`exists\n${prop}`);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ParseError);
    expect((caught as ParseError).line).toBe(line);
    expect((caught as ParseError).message).toContain(`T.litmus:${line}: ${phrase}`);
  }

  it.each<[string, string, number, string]>([
    ['unclosed parenthesis', '((0:EAX=0 /\\ 1:EAX=0)', 9, "unbalanced parentheses: expected ')' to close '(' from line 9"],
    ['extra closing parenthesis', '(0:EAX=0 /\\ 1:EAX=0))', 9, "unbalanced parentheses: ')' without a matching '('"],
    ['unknown thread', '(0:EAX=0 /\\\n 2:EAX=0)', 10, 'condition names thread 2 but the program has 2 threads (P0..P1)'],
    ['unknown register', '(0:EZX=0)', 9, "unknown register 'EZX'"],
    ['register without thread', '(EAX=0)', 9, "register 'EAX' needs a thread prefix"],
    ['missing value', '(0:EAX= /\\ 1:EAX=0)', 9, "expected an integer after '0:EAX=', found '/\\'"],
    ['location as value', '(0:EAX=x)', 9, "'0:EAX=x': comparing with a location address is not supported"],
    ['bad number', '(x=12abc)', 9, "expected an integer value for 'x', found '12abc'"],
    ['missing operator', '(0:EAX=0) 1:EAX=0', 9, "expected '/\\', '\\/' or the end of the condition, found '1'"],
    ['empty condition', '', 8, 'expected a condition after the quantifier'],
    ['dangling operator', '0:EAX=0 /\\', 9, "expected 'T:REG=v', '[x]=v', 'x=v', 'true', 'false', '~' or '(', found the end"],
    ['%-prefixed location', '(%y=0)', 9, "expected a location name, found '%y'"],
    ['unclosed bracket', '([x=0)', 9, "expected ']' after '[x'"],
    ['bad character', '(0:EAX=0 & 1:EAX=0)', 9, "unexpected character '&' in the final condition"],
  ])('rejects %s', (_label, prop, line, phrase) => {
    expectError(prop, line, phrase);
  });

  it('rejects absurdly deep nesting without overflowing the stack', () => {
    expectError('('.repeat(100000) + '0:EAX=0' + ')'.repeat(100000), 9, 'condition nested more than');
    expectError('~'.repeat(100000) + '0:EAX=0', 9, 'condition nested more than');
    expectError(Array(5000).fill('x=1').join(' /\\ '), 9, 'condition has more than 1000 comparisons');
  });
});
