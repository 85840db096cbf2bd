/**
 * The final clause of a litmus test (`exists` / `~exists` / `forall` + proposition): parsing,
 * evaluation against one final state, and herd-style printing of states and conditions.
 */
import { ParseError } from '../../lib/errors';
import {
  canonicalReg,
  displayReg,
  type Arch,
  type Condition,
  type FinalState,
  type LitmusTest,
  type Quantifier,
} from './ast';

/** One line of source after comment stripping; `line` is 1-based. */
export interface SourceLine {
  text: string;
  line: number;
}

/** A litmus integer: decimal or 0x hex, optionally negative; undefined if malformed or unsafe. */
export function parseInteger(text: string): number | undefined {
  const m = /^(-?)(0x[0-9a-f]+|\d+)$/i.exec(text.trim());
  const value = m ? Number(m[2]) * (m[1] ? -1 : 1) : NaN;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** parseInteger, or a ParseError naming what the integer was for. */
export function parseValue(text: string, file: string, line: number, what: string): number {
  const value = parseInteger(text);
  if (value === undefined) throw new ParseError(file, line, `expected an integer ${what}, found '${text.trim()}'`);
  return value;
}

type TokenKind = 'and' | 'or' | 'not' | '(' | ')' | '[' | ']' | ':' | '=' | 'num' | 'word';
interface Token {
  kind: TokenKind;
  text: string;
  line: number;
}

const PUNCT: Array<[string, TokenKind]> = [['/\\', 'and'], ['\\/', 'or'], ['~', 'not']];
for (const p of ['(', ')', '[', ']', ':', '='] as const) PUNCT.push([p, p]);

function tokenize(lines: SourceLine[], file: string): Token[] {
  const tokens: Token[] = [];
  for (const { text, line } of lines) {
    let i = 0;
    while (i < text.length) {
      const rest = text.slice(i);
      const space = /^\s+/.exec(rest);
      if (space) {
        i += space[0].length;
        continue;
      }
      const punct = PUNCT.find(([p]) => rest.startsWith(p));
      // Numbers swallow trailing word characters so '1abc' is reported as a bad number.
      const num = /^-?\d\w*/.exec(rest);
      const word = /^%?[A-Za-z_]\w*/.exec(rest);
      const token: Token | undefined = punct
        ? { kind: punct[1], text: punct[0], line }
        : num
          ? { kind: 'num', text: num[0], line }
          : word
            ? { kind: 'word', text: word[0], line }
            : undefined;
      if (!token) throw new ParseError(file, line, `unexpected character '${rest[0]}' in the final condition`);
      tokens.push(token);
      i += token.text.length;
    }
  }
  return tokens;
}

// Far beyond any real test; they bound recursion so `((((...` or a huge chain cannot overflow
// the JS stack here or in evaluateCondition.
const MAX_DEPTH = 200;
const MAX_ATOMS = 1000;

/** Recursive-descent parser: `~` binds tightest, then `/\`, then `\/` (both left-associative). */
class ConditionParser {
  private pos = 0;
  private atoms = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly file: string,
    private readonly threadCount: number,
    private readonly endLine: number,
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private fail(detail: string, token = this.peek()): never {
    // At the end of input, blame the last token's line rather than trailing blank lines.
    const line = token?.line ?? this.tokens[this.tokens.length - 1]?.line ?? this.endLine;
    throw new ParseError(this.file, line, detail);
  }

  private found(): string {
    const t = this.peek();
    return t ? `'${t.text}'` : 'the end of the file';
  }

  private expect(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (!t || t.kind !== kind) this.fail(`expected ${what}, found ${this.found()}`);
    this.pos++;
    return t;
  }

  quantifier(): Quantifier {
    const first = this.peek();
    const negated = first?.kind === 'not';
    if (negated) this.pos++;
    const word = this.peek();
    const q = word?.kind === 'word' ? word.text : '';
    if (q === 'exists' || (q === 'forall' && !negated)) {
      this.pos++;
      return negated ? '~exists' : (q as Quantifier);
    }
    return this.fail(`expected 'exists', '~exists' or 'forall', found ${this.found()}`, first);
  }

  whole(): Condition {
    if (!this.peek()) this.fail('expected a condition after the quantifier');
    const cond = this.or(0);
    const extra = this.peek();
    if (extra?.kind === ')') this.fail(`unbalanced parentheses: ')' without a matching '('`);
    if (extra) this.fail(`expected '/\\', '\\/' or the end of the condition, found '${extra.text}'`);
    return cond;
  }

  private or(depth: number): Condition {
    let left = this.and(depth);
    while (this.peek()?.kind === 'or') {
      this.pos++;
      left = { kind: 'or', left, right: this.and(depth) };
    }
    return left;
  }

  private and(depth: number): Condition {
    let left = this.unary(depth);
    while (this.peek()?.kind === 'and') {
      this.pos++;
      left = { kind: 'and', left, right: this.unary(depth) };
    }
    return left;
  }

  private unary(depth: number): Condition {
    if (depth > MAX_DEPTH) this.fail(`condition nested more than ${MAX_DEPTH} levels deep`);
    const t = this.peek();
    if (t?.kind === 'not') {
      this.pos++;
      return { kind: 'not', arg: this.unary(depth + 1) };
    }
    if (t?.kind === '(') {
      this.pos++;
      const inner = this.or(depth + 1);
      if (this.peek()?.kind !== ')') {
        this.fail(`unbalanced parentheses: expected ')' to close '(' from line ${t.line}, found ${this.found()}`);
      }
      this.pos++;
      return inner;
    }
    if (t?.kind === 'word' && (t.text === 'true' || t.text === 'false')) {
      this.pos++;
      return { kind: t.text };
    }
    return this.atom();
  }

  /** `T:REG=v`, `[x]=v` or `x=v`. */
  private atom(): Condition {
    const t = this.peek();
    const what = `'T:REG=v', '[x]=v', 'x=v', 'true', 'false', '~' or '('`;
    if (++this.atoms > MAX_ATOMS) this.fail(`condition has more than ${MAX_ATOMS} comparisons`);
    if (t?.kind === 'num') {
      const thread = parseValue(t.text, this.file, t.line, 'thread index');
      this.pos++;
      this.expect(':', `':' after thread index ${t.text}`);
      const name = this.expect('word', `a register after '${t.text}:'`);
      const reg = canonicalReg(name.text);
      if (!reg) this.fail(`unknown register '${name.text}' in the condition`, name);
      if (thread < 0 || thread >= this.threadCount) {
        this.fail(`condition names thread ${thread} but the program has ${threadRange(this.threadCount)}`, t);
      }
      return { kind: 'reg-eq', thread, reg, value: this.value(`${t.text}:${name.text}`) };
    }
    let name: Token;
    if (t?.kind === '[') {
      this.pos++;
      name = this.expect('word', `a location name after '['`);
      this.expect(']', `']' after '[${name.text}'`);
    } else if (t?.kind === 'word') {
      name = t;
      this.pos++;
    } else {
      return this.fail(`expected ${what}, found ${this.found()}`);
    }
    if (name.text.startsWith('%')) this.fail(`expected a location name, found '${name.text}'`, name);
    if (canonicalReg(name.text)) {
      this.fail(`register '${name.text}' needs a thread prefix in the condition (e.g. 0:${name.text})`, name);
    }
    return { kind: 'loc-eq', loc: name.text, value: this.value(name.text) };
  }

  private value(subject: string): number {
    this.expect('=', `'=' after '${subject}'`);
    const v = this.peek();
    if (v?.kind === 'word') this.fail(`'${subject}=${v.text}': comparing with a location address is not supported`);
    const num = this.expect('num', `an integer after '${subject}='`);
    return parseValue(num.text, this.file, num.line, `value for '${subject}'`);
  }
}

/** Parses the final clause from its first line to the end of the file. */
export function parseFinalClause(
  lines: SourceLine[],
  file: string,
  threadCount: number,
): { quantifier: Quantifier; condition: Condition } {
  const endLine = lines.length > 0 ? lines[lines.length - 1]!.line : 1;
  const parser = new ConditionParser(tokenize(lines, file), file, threadCount, endLine);
  const quantifier = parser.quantifier();
  return { quantifier, condition: parser.whole() };
}

/** "2 threads (P0..P1)", for error messages. */
export function threadRange(n: number): string {
  return `${n} thread${n === 1 ? '' : 's'} (P0..P${n - 1})`;
}

export type Observed = LitmusTest['observed'];

/** `locations [x; 0:EAX; [y];]`: extra state the final state records. */
export function parseLocationsClause(l: SourceLine, file: string, threadCount: number): Observed {
  const m = /^locations\s*\[(.*)\]$/.exec(l.text);
  if (!m) throw new ParseError(file, l.line, `expected 'locations [x; 0:EAX; ...]' on one line`);
  const out: Observed = { regs: [], locs: [] };
  for (const raw of m[1]!.split(';').map((s) => s.trim()).filter((s) => s !== '')) {
    const reg = /^(\d+)\s*:\s*(%?\w+)$/.exec(raw);
    const loc = /^(?:\[\s*([A-Za-z_]\w*)\s*\]|([A-Za-z_]\w*))$/.exec(raw);
    const locName = loc?.[1] ?? loc?.[2];
    if (reg) {
      const canon = canonicalReg(reg[2]!);
      const thread = Number(reg[1]);
      if (!canon) throw new ParseError(file, l.line, `unknown register '${reg[2]}' in 'locations'`);
      if (thread >= threadCount) {
        throw new ParseError(file, l.line, `'locations' names thread ${thread} but the program has ${threadRange(threadCount)}`);
      }
      out.regs.push({ thread, reg: canon });
    } else if (locName && !canonicalReg(locName)) {
      out.locs.push(locName);
    } else {
      throw new ParseError(file, l.line, `expected a location or 'T:REG' in 'locations', found '${raw}'`);
    }
  }
  return out;
}

/** What the final state records: registers named by the condition or `locations` (by thread, then name), then locations sorted. */
export function observedState(cond: Condition, extra: Observed): Observed {
  const regs = new Map<string, { thread: number; reg: string }>();
  const locs = new Set<string>(extra.locs);
  for (const r of extra.regs) regs.set(`${r.thread}:${r.reg}`, r);
  const walk = (c: Condition): void => {
    if (c.kind === 'reg-eq') regs.set(`${c.thread}:${c.reg}`, { thread: c.thread, reg: c.reg });
    else if (c.kind === 'loc-eq') locs.add(c.loc);
    else if (c.kind === 'not') walk(c.arg);
    else if (c.kind === 'and' || c.kind === 'or') {
      walk(c.left);
      walk(c.right);
    }
  };
  walk(cond);
  const byThreadThenName = (a: { thread: number; reg: string }, b: { thread: number; reg: string }): number =>
    a.thread - b.thread || (a.reg < b.reg ? -1 : a.reg > b.reg ? 1 : 0);
  return { regs: [...regs.values()].sort(byThreadThenName), locs: [...locs].sort() };
}

/** Truth of the proposition in one final state; absent registers/locations read as 0 (herd's default). */
export function evaluateCondition(cond: Condition, state: FinalState): boolean {
  switch (cond.kind) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'reg-eq':
      return (state.regs[cond.thread]?.[cond.reg] ?? 0) === cond.value;
    case 'loc-eq':
      return (Object.hasOwn(state.locs, cond.loc) ? state.locs[cond.loc] : 0) === cond.value;
    case 'not':
      return !evaluateCondition(cond.arg, state);
    case 'and':
      return evaluateCondition(cond.left, state) && evaluateCondition(cond.right, state);
    case 'or':
      return evaluateCondition(cond.left, state) || evaluateCondition(cond.right, state);
  }
}

/**
 * Per single final state, whether the test's proposition holds. For `exists` and `~exists` this
 * is the same question (the verdict over all states - some/none - is decided by the caller);
 * for `forall` the caller needs it to hold in every state.
 */
export function conditionHolds(test: LitmusTest, state: FinalState): boolean {
  return evaluateCondition(test.condition, state);
}

/**
 * herd-style state line, e.g. `0:EAX=0; 1:EAX=0; [y]=2;` over `test.observed`, registers first
 * (by thread, then name), then locations sorted. Registers use herd's spelling for the dialect:
 * `EAX` for X86, `rax` for X86_64.
 */
export function formatState(test: LitmusTest, state: FinalState): string {
  const regs = test.observed.regs.map(
    ({ thread, reg }) => `${thread}:${displayReg(test.arch, reg)}=${state.regs[thread]?.[reg] ?? 0};`,
  );
  const locs = test.observed.locs.map((loc) => `[${loc}]=${Object.hasOwn(state.locs, loc) ? state.locs[loc] : 0};`);
  return [...regs, ...locs].join(' ');
}

/** herd-style proposition text, e.g. `(0:EAX=0 /\ 1:EAX=0)`; parenthesises every binary node. */
export function formatCondition(arch: Arch, cond: Condition): string {
  switch (cond.kind) {
    case 'true':
    case 'false':
      return cond.kind;
    case 'reg-eq':
      return `${cond.thread}:${displayReg(arch, cond.reg)}=${cond.value}`;
    case 'loc-eq':
      return `[${cond.loc}]=${cond.value}`;
    case 'not':
      return `~${formatCondition(arch, cond.arg)}`;
    case 'and':
      return `(${formatCondition(arch, cond.left)} /\\ ${formatCondition(arch, cond.right)})`;
    case 'or':
      return `(${formatCondition(arch, cond.left)} \\/ ${formatCondition(arch, cond.right)})`;
  }
}
