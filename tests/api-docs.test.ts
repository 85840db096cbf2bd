/**
 * The API reference (`npm run docs`, typedoc over the public barrel) builds without a warning,
 * and documents every name the barrel exports: a new export that typedoc cannot render, or a
 * broken {@link}, fails here rather than on a user's screen.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

test('typedoc renders the public barrel, every exported name included', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-api-'));
  try {
    const json = path.join(dir, 'api.json');
    const typedoc = path.join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
    execFileSync(process.execPath, [typedoc, '--json', json, '--out', path.join(dir, 'html')], { cwd: ROOT, stdio: 'pipe' });
    const documented = new Set((JSON.parse(fs.readFileSync(json, 'utf8')) as { children: { name: string }[] }).children.map((c) => c.name));
    const barrel = fs.readFileSync(path.join(ROOT, 'bench', 'index.ts'), 'utf8');
    const exported = [...barrel.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap((m) => m[1].split(',').map((n) => n.trim().replace(/^type /, '').split(' as ').pop() as string)).filter((n) => n !== '');
    expect(exported.length).toBeGreaterThan(100);
    expect(exported.filter((n) => !documented.has(n))).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
