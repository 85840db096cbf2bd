/**
 * Hierarchical statistics, gem5 style: every component owns a StatGroup with a dotted path
 * (`cpu3.tlb`, `mem.lines`). Stats and child groups share one namespace per group and are kept
 * in registration order, so `dump()` produces the same JSON key order on every run.
 */
import { Counter } from './counter';
import { Histogram, type HistogramSummary } from './histogram';
import type { StatShapeGroup } from './shape';

export type StatValue = number | HistogramSummary | Record<string, unknown> | unknown[];

export type StatKind = 'counter' | 'histogram' | 'formula';

export interface StatDescription {
  path: string;
  kind: StatKind;
  doc: string;
}

type Entry =
  | { kind: 'counter'; stat: Counter }
  | { kind: 'histogram'; stat: Histogram }
  | { kind: 'formula'; doc: string; fn: () => StatValue }
  | { kind: 'group'; group: StatGroup };

/** Names become JSON keys and path segments: no dots, not empty, not a prototype key. */
function checkName(name: string, what: string, where: string): void {
  if (name.length === 0 || name.includes('.') || name === '__proto__') {
    throw new Error(`invalid ${what} name ${JSON.stringify(name)} in stat group '${where}'`);
  }
}

function joinPath(base: string, name: string): string {
  return base === '' ? name : base + '.' + name;
}

export class StatGroup {
  readonly name: string;
  readonly path: string;
  private readonly entries: Map<string, Entry>;

  /** A root has no parent (its name may be ''); a child registers itself with its parent. */
  constructor(name: string, parent?: StatGroup) {
    this.name = name;
    this.entries = new Map();
    if (parent === undefined) {
      if (name.includes('.')) throw new Error(`invalid stat group name ${JSON.stringify(name)}`);
      this.path = name;
    } else {
      this.path = joinPath(parent.path, name);
      parent.register(name, { kind: 'group', group: this }, 'group');
    }
  }

  private register(name: string, entry: Entry, what: string): void {
    checkName(name, what, this.path);
    if (this.entries.has(name)) {
      throw new Error(`duplicate stat name '${joinPath(this.path, name)}'`);
    }
    this.entries.set(name, entry);
  }

  counter(name: string, doc: string): Counter {
    const stat = new Counter(name, doc);
    this.register(name, { kind: 'counter', stat }, 'counter');
    return stat;
  }

  histogram(name: string, doc: string): Histogram {
    const stat = new Histogram(name, doc);
    this.register(name, { kind: 'histogram', stat }, 'histogram');
    return stat;
  }

  /** A derived stat, evaluated only at dump time (rates, ratios, top-N tables). */
  formula(name: string, doc: string, fn: () => StatValue): void {
    this.register(name, { kind: 'formula', doc, fn }, 'formula');
  }

  /** The child group `name`, created on first use. */
  group(name: string): StatGroup {
    const entry = this.entries.get(name);
    if (entry === undefined) return new StatGroup(name, this);
    if (entry.kind !== 'group') {
      throw new Error(`'${joinPath(this.path, name)}' is a ${entry.kind}, not a stat group`);
    }
    return entry.group;
  }

  /** Nested plain object in registration order. */
  dump(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, e] of this.entries) {
      switch (e.kind) {
        case 'counter':
          out[name] = e.stat.value;
          break;
        case 'histogram':
          out[name] = e.stat.summary();
          break;
        case 'formula':
          out[name] = e.fn();
          break;
        case 'group':
          out[name] = e.group.dump();
          break;
      }
    }
    return out;
  }

  /** The kind of every entry by name, child groups as their own shapes (what `shapeMismatch` checks a declaration against). */
  shape(): StatShapeGroup {
    const out: Record<string, StatShapeGroup[string]> = {};
    for (const [name, e] of this.entries) out[name] = e.kind === 'group' ? e.group.shape() : e.kind;
    return out;
  }

  /** Flat documentation list of every stat below this group, in dump order. */
  describe(): StatDescription[] {
    const out: StatDescription[] = [];
    this.describeInto(out);
    return out;
  }

  private describeInto(out: StatDescription[]): void {
    for (const [name, e] of this.entries) {
      const path = joinPath(this.path, name);
      if (e.kind === 'group') e.group.describeInto(out);
      else if (e.kind === 'formula') out.push({ path, kind: 'formula', doc: e.doc });
      else out.push({ path, kind: e.kind, doc: e.stat.doc });
    }
  }

  /**
   * Recursive reset of counters and histograms (e.g. after warm-up); formulas hold no state.
   * Child groups named in `keep` are left as they are (the oracle's violations cover a whole run).
   */
  reset(keep: readonly string[] = []): void {
    for (const [name, e] of this.entries) {
      if (e.kind === 'counter' || e.kind === 'histogram') e.stat.reset();
      else if (e.kind === 'group' && !keep.includes(name)) e.group.reset();
    }
  }

  /** Counter or histogram at a path relative to this group ('mem.lines.transfers'). */
  find(path: string): Counter | Histogram | undefined {
    const parts = path.split('.');
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- a cursor that starts here and walks down the tree
    let g: StatGroup = this;
    for (let i = 0; i < parts.length - 1; i++) {
      const e = g.entries.get(parts[i]);
      if (e === undefined || e.kind !== 'group') return undefined;
      g = e.group;
    }
    const e = g.entries.get(parts[parts.length - 1]);
    return e !== undefined && (e.kind === 'counter' || e.kind === 'histogram') ? e.stat : undefined;
  }
}
