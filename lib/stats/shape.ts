/**
 * The declared shape of a stat group: which stats it holds, of which kind, nested by group. A
 * component that registers a fixed set of stats states it as a constant (`SPINLOCK_STATS`), so
 * the type of its dump can be derived from the same declaration (`StatsOf`), and a run can check
 * the declaration against what was really registered (`shapeMismatch`): a typed result is only
 * worth having if the type cannot drift from the stats.
 */
import type { HistogramSummary } from './histogram';

/** What a shape is checked against: a stat group (`StatGroup` is one), by its path and real shape. */
export interface ShapedGroup {
  readonly path: string;
  shape(): StatShapeGroup;
}

/** A stat's kind, or a child group's own shape. */
export type StatShape = 'counter' | 'histogram' | 'formula' | StatShapeGroup;

export interface StatShapeGroup {
  readonly [name: string]: StatShape;
}

/** What one entry dumps. A formula may return anything; a declared 'formula' promises a number (checked by `formulaMismatch`). */
type DumpOf<X> = X extends 'histogram' ? HistogramSummary : X extends 'counter' | 'formula' ? number : X extends StatShapeGroup ? StatsOf<X> : never;

/** The type of `dump()` of a group of shape S. */
export type StatsOf<S extends StatShapeGroup> = { -readonly [K in keyof S]: DumpOf<S[K]> };

const KINDS: readonly string[] = ['counter', 'histogram', 'formula'];

function join(base: string, name: string): string {
  return base === '' ? name : `${base}.${name}`;
}

function kindText(s: unknown): string {
  if (typeof s === 'string') return KINDS.includes(s) ? `a ${s}` : `'${s}'`;
  return s !== null && typeof s === 'object' && !Array.isArray(s) ? 'a group' : JSON.stringify(s) ?? String(s);
}

function isGroup(s: unknown): s is StatShapeGroup {
  return s !== null && typeof s === 'object' && !Array.isArray(s);
}

/** The first difference between two shapes, as a one-line message, or null. */
function compare(base: string, real: StatShapeGroup, declared: StatShapeGroup): string | null {
  for (const [name, r] of Object.entries(declared)) {
    const path = join(base, name);
    if (!(typeof r === 'string' && KINDS.includes(r)) && !isGroup(r)) {
      return `declared stat '${path}' has kind ${kindText(r)}: expected 'counter', 'histogram', 'formula' or a group of them`;
    }
    if (!Object.prototype.hasOwnProperty.call(real, name)) return `declared stat '${path}' is not registered`;
  }
  for (const [name, r] of Object.entries(real)) {
    const path = join(base, name);
    if (!Object.prototype.hasOwnProperty.call(declared, name)) return `stat '${path}' is registered but not declared`;
    const d = declared[name];
    if (isGroup(r) && isGroup(d)) {
      const inner = compare(path, r, d);
      if (inner !== null) return inner;
    } else if (isGroup(r) || isGroup(d) || r !== d) {
      return `stat '${path}' is registered as ${kindText(r)} but declared ${isGroup(d) ? 'a group' : `'${String(d)}'`}`;
    }
  }
  return null;
}

/**
 * Compares what `group` really holds with a declaration: the same names, the same kinds, the same
 * nesting. Returns the first difference as one line naming its dotted path, or null when they match.
 */
export function shapeMismatch(group: ShapedGroup, declared: StatShapeGroup): string | null {
  if (!isGroup(declared)) return `stats of '${group.path}' are declared as ${kindText(declared)}: expected an object of stat kinds`;
  return compare(group.path, group.shape(), declared);
}

/**
 * Checks a dump against its declaration where types alone cannot: a formula declared 'formula'
 * must have produced a finite number (JSON has no NaN or Infinity, and `StatsOf` promises a
 * number). Returns the first offender as one line, or null.
 */
export function formulaMismatch(dump: Readonly<Record<string, unknown>>, declared: StatShapeGroup, base: string): string | null {
  for (const [name, d] of Object.entries(declared)) {
    const v = dump[name];
    if (isGroup(d) && isGroup(v)) {
      const inner = formulaMismatch(v as Record<string, unknown>, d, join(base, name));
      if (inner !== null) return inner;
    } else if (d === 'formula' && !(typeof v === 'number' && Number.isFinite(v))) {
      const shown = typeof v === 'number' || v === null || v === undefined ? String(v) : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
      return `stat '${join(base, name)}' is declared 'formula' (a number) but its formula returned ${shown}`;
    }
  }
  return null;
}
