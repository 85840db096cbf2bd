/**
 * The parsed form of a herdtools7 x86 litmus test, shared by the parser, the condition evaluator
 * and the simulator that runs the test. Both dialects (Intel `X86`, AT&T `X86_64`) parse to the
 * same AST, so a test means the same thing whichever syntax it was written in.
 */

export type Operand =
  | { kind: 'reg'; reg: string } // canonical register name (see canonicalReg)
  | { kind: 'imm'; value: number }
  | { kind: 'mem'; loc: string }; // a shared location name

export type Instr =
  | { op: 'mov'; dst: Operand; src: Operand; line: number }
  | { op: 'mfence'; line: number }
  | { op: 'xchg'; mem: string; reg: string; line: number }
  | { op: 'lock-add'; mem: string; src: Operand; line: number }
  | { op: 'lock-xadd'; mem: string; reg: string; line: number }
  | { op: 'lock-cmpxchg'; mem: string; reg: string; line: number } // compares with canonical 'rax'
  | { op: 'lock-inc'; mem: string; line: number }
  | { op: 'lock-dec'; mem: string; line: number }
  | { op: 'add'; dst: string; src: Operand; line: number }; // register add (src is reg or imm)

export type Condition =
  | { kind: 'true' }
  | { kind: 'false' }
  | { kind: 'reg-eq'; thread: number; reg: string; value: number }
  | { kind: 'loc-eq'; loc: string; value: number }
  | { kind: 'not'; arg: Condition }
  | { kind: 'and'; left: Condition; right: Condition }
  | { kind: 'or'; left: Condition; right: Condition };

export type Arch = 'X86' | 'X86_64';
export type Quantifier = 'exists' | '~exists' | 'forall';

export interface LitmusTest {
  arch: Arch;
  name: string;
  file: string;
  /** The quoted string(s) after the first line (herd's cycle description), without quotes. */
  doc?: string;
  metadata: Record<string, string>;
  /** Every shared location named anywhere, sorted. */
  locations: string[];
  /** Unset locations and registers are 0. regs[thread][canonical reg]. */
  init: { locs: Record<string, number>; regs: Array<Record<string, number>> };
  /** threads[i] = instructions of Pi. */
  threads: Instr[][];
  quantifier: Quantifier;
  condition: Condition;
  /** What the final state records: registers by thread then name, then locations sorted. */
  observed: { regs: Array<{ thread: number; reg: string }>; locs: string[] };
}

/** Registers are canonical names; a register absent from regs[thread] reads as 0. */
export interface FinalState {
  regs: Array<Record<string, number>>;
  locs: Record<string, number>;
}

// Registers. Canonical spelling is the lowercase 64-bit name ('rax', 'r8'), so `EAX`, `eax`,
// `%eax`, `RAX` and `%rax` are one register: herd prints X86_64 registers as `rax` while X86
// tests say `EAX`, and conditions may use either. 8/16-bit names are rejected (no partial-width
// semantics in the simulator).
const LEGACY = ['ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp', 'sp'];
const NUMBERED = [8, 9, 10, 11, 12, 13, 14, 15];

const CANONICAL = new Map<string, string>();
const DISPLAY_32 = new Map<string, string>();
for (const r of LEGACY) {
  CANONICAL.set(`r${r}`, `r${r}`);
  CANONICAL.set(`e${r}`, `r${r}`);
  DISPLAY_32.set(`r${r}`, `E${r.toUpperCase()}`);
}
for (const n of NUMBERED) {
  CANONICAL.set(`r${n}`, `r${n}`);
  CANONICAL.set(`r${n}d`, `r${n}`);
  DISPLAY_32.set(`r${n}`, `R${n}D`);
}

/** Canonical name of an x86 general-purpose register (case-insensitive, optional `%`), or undefined. */
export function canonicalReg(name: string): string | undefined {
  const bare = name.startsWith('%') ? name.slice(1) : name;
  return CANONICAL.get(bare.toLowerCase());
}

/** The spelling herd prints: `EAX` for X86 (32-bit Intel names), `rax` for X86_64. */
export function displayReg(arch: Arch, canonical: string): string {
  if (arch === 'X86_64') return canonical;
  return DISPLAY_32.get(canonical) ?? canonical.toUpperCase();
}
