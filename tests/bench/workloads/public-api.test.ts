import * as fs from 'fs';
import * as path from 'path';
import * as api from '../../../bench/index';

const ROOT = path.join(__dirname, '../../..');
const DIR = path.join(ROOT, 'bench/workloads');
const BARREL = fs.readFileSync(path.join(ROOT, 'bench/index.ts'), 'utf8');

/** The names a file imports from modules outside bench/workloads, value and type imports apart. */
function outsideImports(file: string): { values: string[]; types: string[] } {
  const text = fs.readFileSync(file, 'utf8');
  const values: string[] = [];
  const types: string[] = [];
  for (const m of text.matchAll(/^import (type )?\{([^}]*)\} from '(\.\.\/[^']+)';$/gm)) {
    if (!m[3].startsWith('../../')) continue; // a sibling workload module
    for (const raw of m[2].split(',')) {
      const name = raw.trim();
      if (name === '') continue;
      if (m[1] !== undefined || name.startsWith('type ')) types.push(name.replace(/^type /, ''));
      else values.push(name);
    }
  }
  return { values, types };
}

describe('the shipped workloads use only the public API', () => {
  // The workload API's own modules (registry, loader, parameter and docs code) are the API, not users of it.
  const API = new Set(['index.ts', 'params.ts', 'workload.ts', 'describe.ts']);
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.ts') && !API.has(f));

  test.each(files)('%s imports only what bench/index.ts exports', (file) => {
    const { values, types } = outsideImports(path.join(DIR, file));
    for (const v of values) expect(Object.keys(api)).toContain(v);
    for (const t of types) expect(BARREL).toMatch(new RegExp(`export (type )?\\{[^}]*\\b${t}\\b[^}]*\\}`));
  });

  test('every shipped workload is exported by name', () => {
    for (const w of Object.values(api.WORKLOADS)) expect(api.workloadByName(w.name)).toBe(w);
    expect(files.length).toBeGreaterThan(8);
  });
});

test('every shipped strategy is built by a class the barrel exports, so users can subclass the newest kernels', () => {
  const exported = new Set<unknown>(Object.values(api));
  for (const [name, factory] of Object.entries(api.STRATEGIES)) expect([name, exported.has(factory().constructor)]).toEqual([name, true]);
});
