import * as fs from 'fs';
import * as path from 'path';
import { ParseError } from '../../../lib/errors';
import type { FinalState, Instr, LitmusTest } from '../../../mem/litmus/ast';
import { formatState } from '../../../mem/litmus/condition';
import { parseLitmus } from '../../../mem/litmus/parse';

const DATA = path.join(__dirname, '../../../bench/data/litmus/x86');

function load(name: string): LitmusTest {
  const file = `${name}.litmus`;
  return parseLitmus(fs.readFileSync(path.join(DATA, file), 'utf8'), file);
}

/** Instructions without line numbers, to compare dialects. */
function shape(threads: Instr[][]): unknown[][] {
  return threads.map((t) => t.map(({ line: _line, ...rest }) => rest));
}

describe('herdtools7 x86 catalogue files', () => {
  const files = fs.readdirSync(DATA).filter((f) => f.endsWith('.litmus')).sort();
  const expected = new Map(
    fs
      .readFileSync(path.join(DATA, 'expected.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.trim().split(/\s+/) as [string, string]),
  );

  it('has one expected verdict per litmus file', () => {
    expect(files.length).toBe(23);
    expect([...expected.keys()].sort()).toEqual(files.map((f) => f.replace(/\.litmus$/, '')).sort());
  });

  it.each(files)('parses %s', (file) => {
    const stem = file.replace(/\.litmus$/, '');
    const test = parseLitmus(fs.readFileSync(path.join(DATA, file), 'utf8'), file);
    expect(test.name).toBe(stem);
    expect(['Allow', 'Forbid']).toContain(expected.get(test.name));
    expect(test.arch).toBe('X86');
    expect(test.file).toBe(file);
    expect(test.threads).toHaveLength(2);
    expect(test.init.regs).toEqual([{}, {}]);
    expect(test.init.locs).toEqual({});
    expect(test.quantifier).toBe('exists');
    expect(test.metadata.Generator).toMatch(/^diy/);
    expect(test.locations).toEqual(['x', 'y']);
    for (const t of test.threads) expect(t.length).toBeGreaterThanOrEqual(2);
  });

  it('reads SB exactly', () => {
    const sb = load('SB');
    expect(sb.doc).toBe('PodWR Fre PodWR Fre');
    expect(sb.metadata).toMatchObject({ Cycle: 'Fre PodWR Fre PodWR', Com: 'Fr Fr', Orig: 'PodWR Fre PodWR Fre' });
    expect(sb.threads).toEqual([
      [
        { op: 'mov', dst: { kind: 'mem', loc: 'x' }, src: { kind: 'imm', value: 1 }, line: 11 },
        { op: 'mov', dst: { kind: 'reg', reg: 'rax' }, src: { kind: 'mem', loc: 'y' }, line: 12 },
      ],
      [
        { op: 'mov', dst: { kind: 'mem', loc: 'y' }, src: { kind: 'imm', value: 1 }, line: 11 },
        { op: 'mov', dst: { kind: 'reg', reg: 'rax' }, src: { kind: 'mem', loc: 'x' }, line: 12 },
      ],
    ]);
    expect(sb.condition).toEqual({
      kind: 'and',
      left: { kind: 'reg-eq', thread: 0, reg: 'rax', value: 0 },
      right: { kind: 'reg-eq', thread: 1, reg: 'rax', value: 0 },
    });
    expect(sb.observed).toEqual({ regs: [{ thread: 0, reg: 'rax' }, { thread: 1, reg: 'rax' }], locs: [] });
    expect(formatState(sb, { regs: [{ rax: 0 }, { rax: 1 }], locs: { x: 1, y: 1 } })).toBe('0:EAX=0; 1:EAX=1;');
  });

  it('reads MP+mfences fences and both registers', () => {
    const mp = load('MP+mfences');
    expect(shape(mp.threads)).toEqual([
      [
        { op: 'mov', dst: { kind: 'mem', loc: 'x' }, src: { kind: 'imm', value: 1 } },
        { op: 'mfence' },
        { op: 'mov', dst: { kind: 'mem', loc: 'y' }, src: { kind: 'imm', value: 1 } },
      ],
      [
        { op: 'mov', dst: { kind: 'reg', reg: 'rax' }, src: { kind: 'mem', loc: 'y' } },
        { op: 'mfence' },
        { op: 'mov', dst: { kind: 'reg', reg: 'rbx' }, src: { kind: 'mem', loc: 'x' } },
      ],
    ]);
    expect(mp.observed.regs).toEqual([{ thread: 1, reg: 'rax' }, { thread: 1, reg: 'rbx' }]);
  });

  it('keeps threads of different lengths (MP+po+mfence)', () => {
    const mp = load('MP+po+mfence');
    expect(mp.threads.map((t) => t.map((i) => i.op))).toEqual([['mov', 'mov'], ['mov', 'mfence', 'mov']]);
    expect(mp.threads[1]![2]!.line).toBe(13);
  });

  it('reads a location in the condition of R+mfence+rfi-po', () => {
    const r = load('R+mfence+rfi-po');
    expect(r.metadata.Cycle).toBeUndefined();
    expect(r.condition).toEqual({
      kind: 'and',
      left: {
        kind: 'and',
        left: { kind: 'loc-eq', loc: 'y', value: 2 },
        right: { kind: 'reg-eq', thread: 1, reg: 'rax', value: 2 },
      },
      right: { kind: 'reg-eq', thread: 1, reg: 'rbx', value: 0 },
    });
    expect(r.observed).toEqual({ regs: [{ thread: 1, reg: 'rax' }, { thread: 1, reg: 'rbx' }], locs: ['y'] });
    expect(shape(r.threads)[1]).toEqual([
      { op: 'mov', dst: { kind: 'mem', loc: 'y' }, src: { kind: 'imm', value: 2 } },
      { op: 'mov', dst: { kind: 'reg', reg: 'rax' }, src: { kind: 'mem', loc: 'y' } },
      { op: 'mov', dst: { kind: 'reg', reg: 'rbx' }, src: { kind: 'mem', loc: 'x' } },
    ]);
    const state: FinalState = { regs: [{}, { rax: 2, rbx: 0 }], locs: { x: 1, y: 2 } };
    expect(formatState(r, state)).toBe('1:EAX=2; 1:EBX=0; [y]=2;');
  });

  it('reads 2+2W (locations only in the condition)', () => {
    const w = load('2+2W');
    expect(shape(w.threads)).toEqual([
      [
        { op: 'mov', dst: { kind: 'mem', loc: 'x' }, src: { kind: 'imm', value: 2 } },
        { op: 'mov', dst: { kind: 'mem', loc: 'y' }, src: { kind: 'imm', value: 1 } },
      ],
      [
        { op: 'mov', dst: { kind: 'mem', loc: 'y' }, src: { kind: 'imm', value: 2 } },
        { op: 'mov', dst: { kind: 'mem', loc: 'x' }, src: { kind: 'imm', value: 1 } },
      ],
    ]);
    expect(w.observed).toEqual({ regs: [], locs: ['x', 'y'] });
  });
});

const SB_ATT = `X86_64 SB
"PodWR Fre PodWR Fre"
Cycle=Fre PodWR Fre PodWR
Relax=
Safe=Fre PodWR
Generator=diy7 (version 7.57+1)
Prefetch=0:x=F,0:y=T,1:y=F,1:x=T
Com=Fr Fr
Orig=PodWR Fre PodWR Fre
{
}
 P0            | P1            ;
 movl $1,(x)   | movl $1,(y)   ;
 movl (y),%eax | movl (x),%eax ;
exists (0:rax=0 /\\ 1:rax=0)
`;

const IWP28A = `X86 iwp2.8.a
{
}
 P0           | P1           ;
 MOV EAX,$1   | MOV EAX,$1   ;
 XCHG [x],EAX | XCHG [y],EAX ;
 MOV EBX,[y]  | MOV EBX,[x]  ;
exists
(0:EBX=0 /\\ 1:EBX=0)
`;

describe('inline tests', () => {
  it('reads the AT&T SB as the same program as the Intel SB', () => {
    const att = parseLitmus(SB_ATT, 'SB64.litmus');
    const intel = load('SB');
    expect(att.arch).toBe('X86_64');
    expect(att.metadata.Relax).toBe('');
    expect(att.metadata.Generator).toBe('diy7 (version 7.57+1)');
    expect(shape(att.threads)).toEqual(shape(intel.threads));
    expect(att.threads[0]![1]!.line).toBe(14);
    expect(att.condition).toEqual(intel.condition);
    expect(formatState(att, { regs: [{ rax: 0 }, { rax: 0 }], locs: {} })).toBe('0:rax=0; 1:rax=0;');
  });

  it('reads XCHG (iwp2.8.a)', () => {
    const t = parseLitmus(IWP28A, 'iwp28a.litmus');
    expect(t.name).toBe('iwp2.8.a');
    expect(t.doc).toBeUndefined();
    expect(shape(t.threads)[0]).toEqual([
      { op: 'mov', dst: { kind: 'reg', reg: 'rax' }, src: { kind: 'imm', value: 1 } },
      { op: 'xchg', mem: 'x', reg: 'rax' },
      { op: 'mov', dst: { kind: 'reg', reg: 'rbx' }, src: { kind: 'mem', loc: 'y' } },
    ]);
    // Either operand order of XCHG means the same instruction.
    const swapped = parseLitmus(IWP28A.replace('XCHG [x],EAX', 'XCHG EAX,[x]'), 'iwp28a.litmus');
    expect(shape(swapped.threads)).toEqual(shape(t.threads));
  });

  it('reads locked read-modify-writes, init, locations and ~exists (Intel)', () => {
    const text = [
      'X86 atomics (* a comment *)',
      '{ x=1; [y]=0x10; int z;',
      '  uint64_t w=-2; 0:EAX=5; 1:ebx=7; }',
      ' P0                   | P1                ;',
      ' LOCK CMPXCHG [x],EBX | LOCK XADD [y],EAX ;',
      ' LOCK INC [z]         | lock dec [w]      ;',
      ' LOCK ADD [x],$3      | LOCK ADD [y],ECX  ;',
      ' ADD EAX,$1           | add ebx,eax       ;',
      ' XCHG EAX,[x]         | INC ECX           ;',
      '(* a comment',
      '   over two lines *)',
      'locations [z; 1:ECX;]',
      '~exists (0:EAX=1 \\/ ~[x]=2 /\\ y=3)',
    ].join('\n');
    const t = parseLitmus(text, 'atomics.litmus');
    expect(t.init).toEqual({ locs: { x: 1, y: 16, z: 0, w: -2 }, regs: [{ rax: 5 }, { rbx: 7 }] });
    expect(t.threads[0]).toEqual([
      { op: 'lock-cmpxchg', mem: 'x', reg: 'rbx', line: 5 },
      { op: 'lock-inc', mem: 'z', line: 6 },
      { op: 'lock-add', mem: 'x', src: { kind: 'imm', value: 3 }, line: 7 },
      { op: 'add', dst: 'rax', src: { kind: 'imm', value: 1 }, line: 8 },
      { op: 'xchg', mem: 'x', reg: 'rax', line: 9 },
    ]);
    expect(shape(t.threads)[1]).toEqual([
      { op: 'lock-xadd', mem: 'y', reg: 'rax' },
      { op: 'lock-dec', mem: 'w' },
      { op: 'lock-add', mem: 'y', src: { kind: 'reg', reg: 'rcx' } },
      { op: 'add', dst: 'rbx', src: { kind: 'reg', reg: 'rax' } },
      { op: 'add', dst: 'rcx', src: { kind: 'imm', value: 1 } },
    ]);
    expect(t.quantifier).toBe('~exists');
    expect(t.condition).toEqual({
      kind: 'or',
      left: { kind: 'reg-eq', thread: 0, reg: 'rax', value: 1 },
      right: {
        kind: 'and',
        left: { kind: 'not', arg: { kind: 'loc-eq', loc: 'x', value: 2 } },
        right: { kind: 'loc-eq', loc: 'y', value: 3 },
      },
    });
    expect(t.observed).toEqual({ regs: [{ thread: 0, reg: 'rax' }, { thread: 1, reg: 'rcx' }], locs: ['x', 'y', 'z'] });
    expect(t.locations).toEqual(['w', 'x', 'y', 'z']);
  });

  it('reads the same atomics in AT&T syntax with forall and parentheses', () => {
    const text = [
      'X86_64 atomics64',
      '{ 0:rax=1; x=1; }',
      ' P0                     | P1                  ;',
      ' lock cmpxchgl %ebx,(x) | lock xaddq %rax,(y) ;',
      ' lock incl (z)          | lock decl (w)       ;',
      ' lock addl $3,(x)       | xchgl %eax,(x)      ;',
      ' addl $1,%eax           | movq (x),%r8        ;',
      ' MFENCE                 | movl %r8d,%ebx      ;',
      'forall (0:rax=1 /\\ (x=4 \\/ false)) \\/ ~(1:EAX=0) (* trailing comment *)',
    ].join('\n');
    const t = parseLitmus(text, 'atomics64.litmus');
    expect(t.init.regs).toEqual([{ rax: 1 }, {}]);
    expect(shape(t.threads)).toEqual([
      [
        { op: 'lock-cmpxchg', mem: 'x', reg: 'rbx' },
        { op: 'lock-inc', mem: 'z' },
        { op: 'lock-add', mem: 'x', src: { kind: 'imm', value: 3 } },
        { op: 'add', dst: 'rax', src: { kind: 'imm', value: 1 } },
        { op: 'mfence' },
      ],
      [
        { op: 'lock-xadd', mem: 'y', reg: 'rax' },
        { op: 'lock-dec', mem: 'w' },
        { op: 'xchg', mem: 'x', reg: 'rax' },
        { op: 'mov', dst: { kind: 'reg', reg: 'r8' }, src: { kind: 'mem', loc: 'x' } },
        { op: 'mov', dst: { kind: 'reg', reg: 'rbx' }, src: { kind: 'reg', reg: 'r8' } },
      ],
    ]);
    expect(t.quantifier).toBe('forall');
    expect(t.condition).toEqual({
      kind: 'or',
      left: {
        kind: 'and',
        left: { kind: 'reg-eq', thread: 0, reg: 'rax', value: 1 },
        right: { kind: 'or', left: { kind: 'loc-eq', loc: 'x', value: 4 }, right: { kind: 'false' } },
      },
      right: { kind: 'not', arg: { kind: 'reg-eq', thread: 1, reg: 'rax', value: 0 } },
    });
    expect(formatState(t, { regs: [{ rax: 1 }, { rax: 0 }], locs: { x: 4 } })).toBe('0:rax=1; 1:rax=0; [x]=4;');
  });
});

// ---- malformed inputs ----------------------------------------------------------------------

const SB_LINES = [
  'X86 SB', //                    1
  '"PodWR Fre PodWR Fre"', //     2
  'Cycle=Fre PodWR Fre PodWR', // 3
  '{', //                         4
  '}', //                         5
  ' P0          | P1          ;', // 6
  ' MOV [x],$1  | MOV [y],$1  ;', // 7
  ' MOV EAX,[y] | MOV EAX,[x] ;', // 8
  'exists', //                    9
  '(0:EAX=0 /\\ 1:EAX=0)', //     10
];

/** SB with line `n` (1-based) replaced by `replacement` (or several lines). */
function sbWith(n: number, ...replacement: string[]): string {
  const lines = [...SB_LINES];
  lines.splice(n - 1, 1, ...replacement);
  return lines.join('\n');
}

function expectParseError(text: string, line: number, phrase: string): void {
  let caught: unknown;
  try {
    parseLitmus(text, 'SB.litmus');
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ParseError);
  const err = caught as ParseError;
  expect(err.file).toBe('SB.litmus');
  expect(err.line).toBe(line);
  expect(err.message).toContain(`SB.litmus:${line}: `);
  expect(err.message).toContain(phrase);
}

describe('malformed litmus files', () => {
  it('accepts the unmodified base text', () => {
    expect(parseLitmus(sbWith(1, 'X86 SB'), 'SB.litmus').threads).toHaveLength(2);
  });

  it.each<[string, string, number, string]>([
    ['missing row terminator', sbWith(8, ' MOV EAX,[y] | MOV EAX,[x]'), 8, "expected ';' at the end of the program row"],
    ['unsupported instruction', sbWith(8, ' CLFLUSH [x] | MOV EAX,[x] ;'), 8, "unsupported instruction 'CLFLUSH [x]' (supported: MOV"],
    ['unknown architecture', sbWith(1, 'ARM SB'), 1, "unsupported architecture 'ARM'"],
    ['missing test name', sbWith(1, 'X86'), 1, "expected one test name after 'X86'"],
    ['misspelt quantifier', sbWith(9, 'exist'), 9, "expected 'exists', '~exists' or 'forall'"],
    ['no final condition', SB_LINES.slice(0, 8).join('\n'), 8, "expected 'exists', '~exists' or 'forall' after the program"],
    ['register as LOCK ADD destination', sbWith(8, ' LOCK ADD EAX,$1 | MOV EAX,[x] ;'), 8, 'LOCK ADD needs a memory operand as destination, found a register'],
    ['register as XCHG memory', sbWith(8, ' XCHG EAX,EBX | MOV EAX,[x] ;'), 8, 'XCHG needs a memory operand'],
    ['two memory operands', sbWith(8, ' MOV [x],[y] | MOV EAX,[x] ;'), 8, "MOV cannot have two memory operands in 'MOV [x],[y]'"],
    ['unlocked XADD', sbWith(8, ' XADD [x],EAX | MOV EAX,[x] ;'), 8, 'XADD is only supported with the LOCK prefix'],
    ['unlocked ADD to memory', sbWith(8, ' ADD [x],$1 | MOV EAX,[x] ;'), 8, 'ADD on memory is only supported with the LOCK prefix'],
    ['LOCK on MOV', sbWith(8, ' LOCK MOV [x],$1 | MOV EAX,[x] ;'), 8, 'LOCK prefix is not valid on MOV'],
    ['indirect addressing', sbWith(8, ' MOV EAX,[EBX] | MOV EAX,[x] ;'), 8, "indirect memory operand '[EBX]' is not supported"],
    ['bare name operand', sbWith(8, ' MOV EAX,y | MOV EAX,[x] ;'), 8, "expected a register, '$imm' or '[location]' operand, found 'y'"],
    ['bad immediate', sbWith(7, ' MOV [x],$1z | MOV [y],$1 ;'), 7, "expected an integer immediate, found '$1z'"],
    ['wrong operand count', sbWith(7, ' MFENCE [x] | MOV [y],$1 ;'), 7, 'MFENCE takes 0 operands, found 1'],
    ['too many columns', sbWith(7, ' MOV [x],$1 | MOV [y],$1 | MFENCE ;'), 7, 'program row has 3 columns but the program has 2 threads'],
    ['wrong thread name', sbWith(6, ' P0 | P2 ;'), 6, "expected thread name 'P1' in column 2"],
    ['unterminated comment', sbWith(3, '(* Cycle=Fre'), 3, "unterminated comment: '(*'"],
    ['unclosed init block', sbWith(5, ' x=1;'), 4, "expected '}' closing the initial state"],
    ['bad init value', sbWith(5, 'x==1; }'), 5, "expected an integer initial value for location 'x', found '=1'"],
    ['bad init entry', sbWith(5, 'x 1; }'), 5, "expected 'x=value', 'T:REG=value' or a declaration"],
    ['register initialised to a location', sbWith(5, '0:EAX=x; }'), 5, "register 0:EAX initialised to location 'x': address values are not supported"],
    ['init of unknown thread', sbWith(5, '3:EAX=1; }'), 5, 'initial state names thread 3 but the program has 2 threads'],
    ['duplicate init', sbWith(5, 'x=1; x=2; }'), 5, "duplicate initial value for location 'x'"],
    ['bad metadata line', sbWith(3, 'this is not metadata'), 3, "expected 'Key=Value' metadata, a quoted string or '{'"],
    ['unterminated doc string', sbWith(2, '"PodWR Fre'), 2, 'unterminated quoted string'],
    ['no init block', SB_LINES.slice(0, 3).join('\n'), 3, "expected '{' opening the initial state"],
    ['filter clause', sbWith(9, 'filter (0:EAX=0)', 'exists'), 9, "'filter' clauses are not supported"],
    ['empty file', '\n\n', 1, 'found an empty file'],
    ['AT&T register without %', SB_ATT.replace('movl (y),%eax', 'movl (y),eax'), 14, "expected a '%register', '$imm' or '(location)' operand, found 'eax'"],
    ['AT&T unknown register', SB_ATT.replace('movl (y),%eax', 'movl (y),%ezx'), 14, "unknown register '%ezx'"],
    ['Intel syntax in X86_64', SB_ATT.replace('movl $1,(x)', 'MOV [x],$1'), 13, "expected a '%register', '$imm' or '(location)' operand, found '[x]'"],
    ['bad locations line', sbWith(9, 'locations [x; 0:EAX', 'exists'), 9, "expected 'locations [x; 0:EAX; ...]'"],
  ])('rejects %s', (_label, text, line, phrase) => {
    expectParseError(text, line, phrase);
  });

  it('keeps line numbers right after multi-line comments', () => {
    const text = sbWith(8, ' MOV EAX,[y] | MOV EAX,[x]').replace('Cycle=Fre PodWR Fre PodWR', '(* one\ntwo\nthree *)');
    expectParseError(text, 10, "expected ';' at the end of the program row");
  });
});
