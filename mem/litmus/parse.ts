/**
 * herdtools7 litmus-file parser for x86: the Intel-syntax `X86` dialect and the AT&T-syntax
 * `X86_64` dialect. Every malformed input throws a ParseError naming file, line and what was
 * expected, so a user can fix the test instead of getting a wrong verdict.
 */
import { ParseError } from '../../lib/errors';
import { canonicalReg, type Arch, type Instr, type LitmusTest, type Operand } from './ast';
import {
  observedState,
  parseFinalClause,
  parseInteger,
  parseLocationsClause,
  parseValue,
  threadRange,
  type Observed,
  type SourceLine,
} from './condition';

const FINAL_CLAUSE = /^(~\s*exists|exists|forall)\b/;
const C_TYPES = /^(u?int(8|16|32|64)?_t|u?intptr_t|int|long|short|char|unsigned|signed)$/;
const IDENT = /^[A-Za-z_]\w*$/;

/** Replaces `(* ... *)` comments (nestable, as in OCaml) by spaces, keeping line numbers. */
function stripComments(text: string, file: string): SourceLine[] {
  let out = '';
  let depth = 0;
  let line = 1;
  let openedOn = 1;
  for (let i = 0; i < text.length; i++) {
    const two = text.slice(i, i + 2);
    if (two === '(*') {
      if (depth++ === 0) openedOn = line;
      out += '  ';
      i++;
    } else if (two === '*)' && depth > 0) {
      depth--;
      out += '  ';
      i++;
    } else {
      if (text[i] === '\n') line++;
      out += depth > 0 && text[i] !== '\n' ? ' ' : text[i];
    }
  }
  if (depth > 0) throw new ParseError(file, openedOn, `unterminated comment: '(*' without a closing '*)'`);
  return out.split(/\r?\n/).map((t, i) => ({ text: t.trim(), line: i + 1 }));
}

/** Mutable state while parsing one file. */
interface Ctx {
  file: string;
  arch: Arch;
  lines: SourceLine[];
  pos: number; // index into lines
}

function nextNonEmpty(ctx: Ctx): SourceLine | undefined {
  while (ctx.pos < ctx.lines.length && ctx.lines[ctx.pos]!.text === '') ctx.pos++;
  return ctx.lines[ctx.pos];
}

function lastLine(ctx: Ctx): number {
  return ctx.lines.length === 0 ? 1 : ctx.lines[ctx.lines.length - 1]!.line;
}

// ---- operands and instructions ---------------------------------------------------------------

/** Intel `EAX`, `$1` (or bare `1`), `[x]`; AT&T `%eax`, `$1`, `(x)`. Only direct addressing. */
function parseOperand(arch: Arch, text: string, fail: (detail: string) => never): Operand {
  const intel = arch === 'X86';
  const mem = (intel ? /^\[\s*(\S+?)\s*\]$/ : /^\(\s*(\S+?)\s*\)$/).exec(text);
  if (mem) {
    const loc = mem[1]!;
    if (canonicalReg(loc)) fail(`indirect memory operand '${text}' is not supported`);
    if (!IDENT.test(loc)) fail(`expected a location name inside '${text}'`);
    return { kind: 'mem', loc };
  }
  if (text.startsWith('$') || (intel && /^-?\d/.test(text))) {
    const value = parseInteger(text.replace(/^\$/, ''));
    return value === undefined ? fail(`expected an integer immediate, found '${text}'`) : { kind: 'imm', value };
  }
  const reg = canonicalReg(text);
  if (text.startsWith('%') !== intel) {
    if (reg) return { kind: 'reg', reg };
    if (!intel) fail(`unknown register '${text}'`);
  }
  return fail(`expected ${intel ? `a register, '$imm' or '[location]'` : `a '%register', '$imm' or '(location)'`} operand, found '${text}'`);
}

const BASE_OPS = new Set(['mov', 'mfence', 'xchg', 'add', 'xadd', 'cmpxchg', 'inc', 'dec']);

function unsupported(ctx: Ctx, cell: string, line: number): never {
  const list =
    ctx.arch === 'X86'
      ? 'MOV, MFENCE, XCHG, LOCK ADD/XADD/CMPXCHG/INC/DEC, ADD'
      : 'mov, mfence, xchg, lock add/xadd/cmpxchg/inc/dec, add; optional l/q suffix';
  throw new ParseError(ctx.file, line, `unsupported instruction '${cell}' (supported: ${list})`);
}

/** One program cell to an instruction. Operands are normalised to Intel order (dst first). */
function parseInstr(ctx: Ctx, cell: string, line: number): Instr {
  const m = /^(lock\s+)?([A-Za-z]+)(?:\s+(.*))?$/i.exec(cell);
  if (!m) unsupported(ctx, cell, line);
  const locked = m[1] !== undefined;
  let op = m[2]!.toLowerCase();
  // AT&T size suffixes: `movl`, `movq`, `xaddl`, ... (but `mfence`, `add` have none).
  if (ctx.arch === 'X86_64' && !BASE_OPS.has(op) && /[lq]$/.test(op)) op = op.slice(0, -1);
  if (!BASE_OPS.has(op)) unsupported(ctx, cell, line);

  const name = (locked ? 'LOCK ' : '') + op.toUpperCase();
  const fail = (detail: string): never => {
    throw new ParseError(ctx.file, line, `${detail} in '${cell}'`);
  };
  const raw = m[3] === undefined ? [] : m[3].split(',').map((s) => s.trim());
  if (raw.some((s) => s === '')) fail(`missing operand`);
  const ops = raw.map((s) => parseOperand(ctx.arch, s, fail));
  if (ctx.arch === 'X86_64') ops.reverse(); // AT&T is source first
  const arity = op === 'mfence' ? 0 : op === 'inc' || op === 'dec' ? 1 : 2;
  if (ops.length !== arity) fail(`${name} takes ${arity} operand${arity === 1 ? '' : 's'}, found ${ops.length}`);
  // Safe after the arity check: each case below only reads the operands its arity provides.
  const [dst, src] = ops as [Operand, Operand];
  const kindName = (o: Operand): string => (o.kind === 'reg' ? 'a register' : o.kind === 'imm' ? 'an immediate' : 'a memory operand');
  const needMem = (o: Operand, role: string): string =>
    o.kind === 'mem' ? o.loc : fail(`${name} needs a memory operand as ${role}, found ${kindName(o)}`);
  const needReg = (o: Operand, role: string): string =>
    o.kind === 'reg' ? o.reg : fail(`${name} needs a register as ${role}, found ${kindName(o)}`);
  const noLock = (): void => {
    if (locked) fail(`LOCK prefix is not valid on ${op.toUpperCase()}`);
  };
  // Only locked read-modify-writes are modelled; an unlocked one on memory is not atomic.
  const lockedMem = (o: Operand): string => {
    if (!locked && o.kind === 'mem') fail(`${name} on memory is only supported with the LOCK prefix`);
    return needMem(o, 'destination');
  };

  switch (op) {
    case 'mov':
      noLock();
      if (dst.kind === 'imm') fail(`MOV destination cannot be an immediate`);
      if (dst.kind === 'mem' && src.kind === 'mem') fail(`MOV cannot have two memory operands`);
      return { op: 'mov', dst, src, line };
    case 'mfence':
      noLock();
      return { op: 'mfence', line };
    case 'xchg': {
      // XCHG with memory is implicitly locked (LOCK allowed but redundant); either order is valid.
      const [mem, reg] = dst.kind === 'mem' ? [dst, src] : [src, dst];
      return { op: 'xchg', mem: needMem(mem, 'one operand'), reg: needReg(reg, 'the other operand'), line };
    }
    case 'add':
      if (src.kind === 'mem') fail(`${name} with a memory source operand is not supported`);
      if (locked || dst.kind === 'mem') return { op: 'lock-add', mem: lockedMem(dst), src, line };
      return { op: 'add', dst: needReg(dst, 'destination'), src, line };
    case 'xadd':
    case 'cmpxchg': {
      if (!locked) fail(`${name} is only supported with the LOCK prefix`);
      const mem = needMem(dst, 'destination');
      return { op: op === 'xadd' ? 'lock-xadd' : 'lock-cmpxchg', mem, reg: needReg(src, 'source'), line };
    }
    default:
      // inc / dec: on a register it is a plain add of +-1; on memory it must be locked.
      if (locked || dst.kind === 'mem') {
        return { op: op === 'inc' ? 'lock-inc' : 'lock-dec', mem: lockedMem(dst), line };
      }
      return { op: 'add', dst: needReg(dst, 'operand'), src: { kind: 'imm', value: op === 'inc' ? 1 : -1 }, line };
  }
}

// ---- sections --------------------------------------------------------------------------------

function fail(ctx: Ctx, line: number, detail: string): never {
  throw new ParseError(ctx.file, line, detail);
}

/** Quoted doc string(s) and `Key=Value` lines up to the `{` opening the initial state. */
function parseHeader(ctx: Ctx, metadata: Record<string, string>): string | undefined {
  const docs: string[] = [];
  for (let l = nextNonEmpty(ctx); l !== undefined; l = nextNonEmpty(ctx)) {
    if (l.text.startsWith('{')) return docs.length > 0 ? docs.join(' ') : undefined;
    const kv = /^([A-Za-z][\w-]*)\s*=(.*)$/.exec(l.text);
    if (l.text.startsWith('"')) {
      let body = l.text.slice(1); // a quoted string may span lines; it ends at the next '"'
      while (!body.includes('"')) {
        const more = ctx.lines[++ctx.pos] ?? fail(ctx, l.line, `unterminated quoted string (expected a closing '"')`);
        body += ' ' + more.text;
      }
      const close = body.indexOf('"');
      if (body.slice(close + 1).trim() !== '') fail(ctx, ctx.lines[ctx.pos]!.line, `unexpected text after closing '"'`);
      docs.push(body.slice(0, close));
    } else if (kv) {
      metadata[kv[1]!] = kv[2]!.trim();
    } else {
      const what = `'Key=Value' metadata, a quoted string or '{' opening the initial state`;
      fail(ctx, l.line, `expected ${what}, found '${l.text}'`);
    }
    ctx.pos++;
  }
  return fail(ctx, lastLine(ctx), `expected '{' opening the initial state`);
}

interface RegInit {
  thread: number;
  reg: string;
  value: number;
  line: number;
}

/** The `{ ... }` block: entries separated by ';', possibly across lines. */
function parseInit(ctx: Ctx, locs: Record<string, number>, regs: RegInit[]): void {
  const open = ctx.lines[ctx.pos]!;
  const entries: SourceLine[] = [];
  let { text, line } = { text: open.text.slice(1), line: open.line };
  for (;;) {
    const close = text.indexOf('}');
    const body = close >= 0 ? text.slice(0, close) : text;
    if (body.includes('{')) fail(ctx, line, `unexpected '{' inside the initial state`);
    for (const e of body.split(';')) if (e.trim() !== '') entries.push({ text: e.trim(), line });
    if (close >= 0) {
      if (text.slice(close + 1).trim() !== '') fail(ctx, line, `unexpected text after '}' closing the initial state`);
      break;
    }
    ({ text, line } = ctx.lines[++ctx.pos] ?? fail(ctx, open.line, `expected '}' closing the initial state opened here`));
  }
  ctx.pos++;

  for (const { text: e, line: ln } of entries) {
    const value = (v: string | undefined, what: string): number => {
      if (v === undefined) return 0;
      if (IDENT.test(v.trim())) {
        fail(ctx, ln, `${what} initialised to location '${v.trim()}': address values are not supported (no indirect addressing)`);
      }
      return parseValue(v, ctx.file, ln, `initial value for ${what}`);
    };
    const reg = /^(\d+)\s*:\s*(%?\w+)\s*=(.*)$/.exec(e);
    if (reg) {
      const [, t, r] = reg as unknown as [string, string, string];
      const canon = canonicalReg(r) ?? fail(ctx, ln, `unknown register '${r}' in the initial state`);
      const thread = parseValue(t, ctx.file, ln, 'thread index');
      if (regs.some((x) => x.thread === thread && x.reg === canon)) fail(ctx, ln, `duplicate initial value for ${t}:${r}`);
      regs.push({ thread, reg: canon, value: value(reg[3], `register ${t}:${r}`), line: ln });
      continue;
    }
    // Optional C type words (`int`, `uint64_t`, `unsigned long`), then `x`, `[x]`, `x=v` or `[x]=v`.
    const words = e.split(/\s+/);
    let typed = false;
    while (words.length > 1 && C_TYPES.test(words[0]!)) typed = words.shift() !== undefined;
    const loc = /^(?:\[\s*([A-Za-z_]\w*)\s*\]|([A-Za-z_]\w*))\s*(?:=(.*))?$/.exec(words.join(' '));
    const name = loc?.[1] ?? loc?.[2];
    if (!loc || !name || (!typed && loc[3] === undefined)) {
      const forms = `'x=value', 'T:REG=value' or a declaration like 'int x=value'`;
      return fail(ctx, ln, `expected ${forms} in the initial state, found '${e}'`);
    }
    if (canonicalReg(name)) fail(ctx, ln, `register '${name}' in the initial state needs a thread prefix (e.g. 0:${name}=1)`);
    if (Object.hasOwn(locs, name)) fail(ctx, ln, `duplicate initial value for location '${name}'`);
    locs[name] = value(loc[3], `location '${name}'`);
  }
}

/** Program rows `c0 | c1 | ... ;` up to the final clause; the first row names the threads. */
function parseProgram(ctx: Ctx): Instr[][] {
  const threads: Instr[][] = [];
  let named = false;
  for (let l = nextNonEmpty(ctx); l !== undefined; l = nextNonEmpty(ctx)) {
    if (FINAL_CLAUSE.test(l.text) || /^(locations|filter)\b/.test(l.text)) break;
    const rows = l.text.split(';');
    if (rows[rows.length - 1]!.trim() !== '') {
      // A line without '|' after the program started is most likely a misspelt final clause.
      fail(ctx, l.line, l.text.includes('|') || !named
        ? `expected ';' at the end of the program row`
        : `expected 'exists', '~exists' or 'forall' (or a program row ending in ';'), found '${l.text}'`);
    }
    for (const row of rows.slice(0, -1)) {
      const cells = row.split('|').map((c) => c.trim());
      if (!named) {
        cells.forEach((c, i) => {
          if (c !== `P${i}`) fail(ctx, l.line, `expected thread name 'P${i}' in column ${i + 1} of the first program row, found '${c}'`);
          threads.push([]);
        });
        named = true;
      } else if (cells.length > threads.length) {
        fail(ctx, l.line, `program row has ${cells.length} columns but the program has ${threadRange(threads.length)}`);
      } else {
        cells.forEach((c, i) => {
          if (c !== '') threads[i]!.push(parseInstr(ctx, c, l.line));
        });
      }
    }
    ctx.pos++;
  }
  if (!named) fail(ctx, lastLine(ctx), `expected the program's first row of thread names ('P0 | P1 ... ;')`);
  return threads;
}

export function parseLitmus(text: string, file: string): LitmusTest {
  const ctx: Ctx = { file, arch: 'X86', lines: stripComments(text, file), pos: 0 };
  const first = nextNonEmpty(ctx) ?? fail(ctx, 1, `expected 'X86 <name>' or 'X86_64 <name>', found an empty file`);
  const [arch = '', ...rest] = first.text.split(/\s+/);
  if (arch !== 'X86' && arch !== 'X86_64') {
    fail(ctx, first.line, `unsupported architecture '${arch}' (expected X86 or X86_64)`);
  }
  if (rest.length !== 1) fail(ctx, first.line, `expected one test name after '${arch}'`);
  ctx.arch = arch;
  ctx.pos++;

  const metadata: Record<string, string> = {};
  const doc = parseHeader(ctx, metadata);
  const initLocs: Record<string, number> = {};
  const regInits: RegInit[] = [];
  parseInit(ctx, initLocs, regInits);
  const threads = parseProgram(ctx);

  let l = nextNonEmpty(ctx);
  let extra: Observed = { regs: [], locs: [] };
  if (l && /^locations\b/.test(l.text)) {
    extra = parseLocationsClause(l, file, threads.length);
    ctx.pos++;
    l = nextNonEmpty(ctx);
  }
  if (l && /^filter\b/.test(l.text)) fail(ctx, l.line, `'filter' clauses are not supported`);
  if (!l || !FINAL_CLAUSE.test(l.text)) {
    const found = l ? `, found '${l.text}'` : '';
    fail(ctx, l?.line ?? lastLine(ctx), `expected 'exists', '~exists' or 'forall' after the program${found}`);
  }
  const { quantifier, condition } = parseFinalClause(ctx.lines.slice(ctx.pos), file, threads.length);

  const init = { locs: initLocs, regs: threads.map((): Record<string, number> => ({})) };
  for (const r of regInits) {
    if (r.thread >= threads.length) fail(ctx, r.line, `initial state names thread ${r.thread} but the program has ${threadRange(threads.length)}`);
    init.regs[r.thread]![r.reg] = r.value;
  }

  const observed = observedState(condition, extra);
  const all = new Set<string>([...Object.keys(initLocs), ...observed.locs]);
  for (const instr of threads.flat()) {
    if ('mem' in instr) all.add(instr.mem);
    const operands = instr.op === 'mov' ? [instr.dst, instr.src] : 'src' in instr ? [instr.src] : [];
    for (const o of operands) if (o.kind === 'mem') all.add(o.loc);
  }

  const locations = [...all].sort();
  const test: LitmusTest = { arch, name: rest[0]!, file, metadata, locations, init, threads, quantifier, condition, observed };
  if (doc !== undefined) test.doc = doc;
  return test;
}
