/**
 * The package as a user gets it: `npm pack`, installed from the tarball into an empty project
 * (from npm's cache, which `npm ci` filled), then the CLI, the library from CommonJS and ESM,
 * and the shipped examples (which import 'lazytlb') run from there, outside this repository.
 * TypeScript is an optional peer dependency: the package runs without it, and .ts files need it.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir = '';
let tarball = '';

function npm(args: string[], cwd: string): string {
  return execFileSync(NPM, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `node args` in the user's project; returns its exit status and output. */
function node(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-user-'));
  // dist/ is fresh (the global setup builds it), so pack without running `prepare` again.
  const name = npm(['pack', '--ignore-scripts', '--pack-destination', dir], ROOT).trim().split('\n').pop() as string;
  tarball = path.join(dir, name);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }));
  npm(['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], dir);
}, 300_000);

afterAll(() => {
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
});

const BIN = () => path.join(dir, 'node_modules', 'lazytlb', 'dist', 'bench', 'cli', 'main.js');
const SMALL = ['--param', 'sockets=1', '--param', 'coresPerCcx=4', '--ms', '0.5'];

describe('the packed tarball, installed in an empty project', () => {
  test('ships dist, the examples, the docs and the licence, but not the perf suite or source maps', () => {
    const files = npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT);
    const paths = (JSON.parse(files) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'dist/bench/index.js', 'examples/linux-4.20-no-mb.ts', 'docs/reference/linux-lazy-tlb.md']));
    expect(paths.filter((p) => p.startsWith('dist/bench/perf/') || p.endsWith('.map'))).toEqual([]);
  });

  test('the CLI runs a strategy', () => {
    const r = node([BIN(), 'run', '--strategy', 'linux-4.20', ...SMALL]);
    expect(r.err).not.toMatch(/^\s+at /m); // a short run may warn (few flushes), never throw
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^linux-4\.20 on skylake-sp-2s, workload memcache/m);
  });

  test('the library loads from CommonJS and from ESM', () => {
    const cjs = node(['-e', "const { simulate } = require('lazytlb'); const r = simulate({ strategy: 'linux-6.15', params: { sockets: 1, coresPerCcx: 4 }, ms: 0.5 }); console.log(r.contextSwitches.count > 0, typeof r.workload.requests)"]);
    expect(cjs.err).toBe('');
    expect(cjs.out.trim()).toBe('true number');
    const esm = node(['--input-type=module', '-e', "import { STRATEGIES, Linux615 } from 'lazytlb'; console.log(typeof Linux615, Object.keys(STRATEGIES).length > 10)"]);
    expect(esm.err).toBe('');
    expect(esm.out.trim()).toBe('function true');
  });

  test("the shipped examples, copied out of the package, import 'lazytlb' and run once TypeScript is installed beside it", () => {
    for (const f of ['linux-4.20-no-mb.ts', 'jit-wx-workload.ts']) fs.copyFileSync(path.join(dir, 'node_modules', 'lazytlb', 'examples', f), path.join(dir, f));
    // TypeScript is an optional peer: without it a .ts file is refused in one line that says what to install.
    const without = node([BIN(), 'run', '--strategy', './linux-4.20-no-mb.ts', ...SMALL]);
    expect(without.code).toBe(2);
    expect(without.err.trim()).toBe("lazytlb: ./linux-4.20-no-mb.ts: loading a TypeScript or ES-module file needs the 'typescript' package (npm install typescript@5.9)");
    npm(['install', 'typescript@5.9', '--prefer-offline', '--no-audit', '--no-fund'], dir);
    const strategy = node([BIN(), 'run', '--strategy', './linux-4.20-no-mb.ts', ...SMALL]);
    expect(strategy.code).toBe(0);
    expect(strategy.out).toMatch(/^\.\/linux-4\.20-no-mb\.ts on skylake-sp-2s/m);
    const workload = node([BIN(), 'run', '--strategy', 'linux-4.20', '--workload', './jit-wx-workload.ts', '--wparam', 'mutators=3', ...SMALL]);
    expect(workload.code).toBe(0);
    expect(workload.out).toMatch(/workload \.\/jit-wx-workload\.ts, seed 1/);
    expect(workload.out).toMatch(/flushes [1-9]/);
  });
});
