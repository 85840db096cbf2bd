import { simulate } from '../../../bench/experiment/api';
import { WORKLOADS } from '../../../bench/workloads/index';
import { wparam } from '../../../bench/workloads/params';
import { defineWorkload, type Workload } from '../../../bench/workloads/workload';
import { ConfigError } from '../../../lib/errors';
import type { StatShape } from '../../../lib/stats/shape';

// Eight CPUs (munmap-micro's default needs them), a short window and no warm-up: the check runs
// right after setup, so a brief run exercises it.
const BRIEF = { params: { sockets: 1, coresPerCcx: 8 }, ms: 0.05, warmupMs: 0 } as const;

/** The dotted paths of a dump, each with what it holds, to set beside the declaration. */
function dumpPaths(dump: Record<string, unknown>, declared: Readonly<Record<string, StatShape>>, base = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(dump)) {
    const d = declared[k];
    const histogram = typeof v === 'object' && v !== null && 'p99' in v && 'count' in v;
    if (typeof d === 'object' && !histogram) out.push(...dumpPaths(v as Record<string, unknown>, d, `${base}${k}.`));
    else out.push(`${base}${k}: ${histogram ? 'histogram' : typeof v}`);
  }
  return out;
}

function declaredPaths(declared: Readonly<Record<string, StatShape>>, base = ''): string[] {
  return Object.entries(declared).flatMap(([k, d]) =>
    typeof d === 'object' ? declaredPaths(d, `${base}${k}.`) : [`${base}${k}: ${d === 'histogram' ? 'histogram' : 'number'}`]);
}

describe('every shipped workload declares its stats, and a run checks them', () => {
  test.each(Object.keys(WORKLOADS))('%s', (name) => {
    const declared = WORKLOADS[name].stats;
    expect(declared).toBeDefined();
    const r = simulate({ ...BRIEF, workload: name });
    // Read back from the dump itself, not from StatGroup.shape(): the result has what the declaration says.
    expect(dumpPaths(r.workload, declared ?? {}).sort()).toEqual(declaredPaths(declared ?? {}).sort());
  });
});

describe('a user workload', () => {
  const base = { description: 'test', sources: ['test'], params: { n: wparam.count(1, 1, 4, 'Counters.') } };
  const run = (w: Workload) => simulate({ ...BRIEF, params: { sockets: 1, coresPerCcx: 2 }, workload: w });

  test('whose stats differ from its declaration stops the run with one line naming the path', () => {
    const wrong = defineWorkload({
      ...base, name: 'wrong', stats: { hits: 'histogram' },
      setup({ stats }) { stats.counter('hits', 'hits'); },
    });
    expect(() => run(wrong)).toThrow(ConfigError);
    expect(() => run(wrong)).toThrow(/^workload 'wrong': stat 'workload\.hits' is registered as a counter but declared 'histogram'$/);
    const missing = defineWorkload({ ...base, name: 'missing', stats: { hits: 'counter', misses: 'counter' }, setup({ stats }) { stats.counter('hits', 'hits'); } });
    expect(() => run(missing)).toThrow(/^workload 'missing': declared stat 'workload\.misses' is not registered$/);
    // Registered depending on a parameter: the declaration cannot hold for every value, and the run says where.
    const conditional = defineWorkload({
      ...base, name: 'conditional', stats: { c0: 'counter' },
      setup({ params, stats }) { for (let i = 0; i < params.n; i++) stats.counter(`c${i}`, 'a counter'); },
    });
    expect(run(conditional).workload).toEqual({ c0: 0 });
    expect(() => simulate({ ...BRIEF, workload: conditional, workloadParams: { n: 2 } })).toThrow(/^workload 'conditional': stat 'workload\.c1' is registered but not declared$/);
  });

  test("whose formula declared 'formula' returns no number fails when the result is built", () => {
    const table = defineWorkload({ ...base, name: 'table', stats: { top: 'formula' }, setup({ stats }) { stats.formula('top', 'a table', () => ({ a: 1 })); } });
    expect(() => run(table)).toThrow(/^workload 'table': stat 'workload\.top' is declared 'formula' \(a number\) but its formula returned an object$/);
  });

  test('without a declaration runs unchecked, its stats untyped', () => {
    const free = defineWorkload({ ...base, name: 'free', setup({ stats }) { stats.formula('top', 'a table', () => ({ a: 1 })); } });
    const w: Record<string, unknown> = run(free).workload;
    expect(w).toEqual({ top: { a: 1 } });
  });
});
