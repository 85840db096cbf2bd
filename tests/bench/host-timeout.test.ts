import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { cli } from './run-cli';

const BIN = path.join(__dirname, '../../dist/bench/cli/main.js');

/** The built CLI in a child process: worker threads load the compiled package. */
function built(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 100_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/**
 * A strategy that loops for ever at the host level, inside a generator step, in about one run of two:
 * its first flush decides by the cycle it starts at, which the seed moves. No simulated watchdog
 * can see this; only the host budget of `--host-timeout` stops it.
 */
function hangStrategy(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-')), 'hang.ts');
  fs.writeFileSync(file, [
    "import { Linux420, type Cpu, type Mm, type Sim, type TlbOps } from 'lazytlb';",
    'export default class Hang extends Linux420 {',
    "  override readonly name = 'hang';",
    '  private first = true;',
    '  override *flushTlbMmRange(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, freedTables: boolean): Sim {',
    '    const decide = this.first;',
    '    this.first = false;',
    '    if (decide && this.ctx.now() % 2 === 1) for (;;) { /* never yields */ }',
    '    yield* super.flushTlbMmRange(k, cpu, mm, start, end, freedTables);',
    '  }',
    '}',
    '',
  ].join('\n'));
  return file;
}

describe('host-level guard (--host-timeout)', () => {
  const file = hangStrategy();
  const SMALL = ['--param', 'sockets=1', '--param', 'coresPerCcx=4', '--workload', 'explore-mix'];

  test('explore: a seed that loops at the host level is a host-timeout with its reproducer, within its budget; the others complete', () => {
    const t0 = Date.now();
    const r = built('explore', '--strategy', file, '--seeds', '6', '--jobs', '2', '--host-timeout', '2', '--json');
    const elapsed = Date.now() - t0;
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    const stuck = j.counts['host-timeout'] as number;
    expect(stuck).toBeGreaterThan(0);
    expect(stuck).toBeLessThan(6); // the other seeds ran to the end
    const t = j.violations.find((v: { kind: string }) => v.kind === 'host-timeout');
    expect(t.detail).toBe('the run was still going after 2 s of host time (--host-timeout): its worker thread was stopped');
    expect(t.reproduce).toBe(`npx lazytlb run --machine skylake-sp-2s --strategy ${file} --workload explore-mix --cycles 1000000 --warmup-cycles 0 --seed ${t.seed} --param sockets=1 --param coresPerCcx=4 --perturb`);
    // Two threads, each stopping its stuck runs at 2 s: nothing waits much longer than the budgets.
    expect(elapsed).toBeLessThan(2000 * stuck + 15_000);
  });

  test('compare: one line per stopped run, naming strategy, workload and seed, with its reproducer; exit 1 (even --jobs 1 runs on a worker)', () => {
    const r = built('compare', '--strategies', `${file},linux-4.20`, ...SMALL, '--ms', '0.4', '--warmup-ms', '0', '--seeds', '3', '--jobs', '1', '--host-timeout', '2');
    expect(r.code).toBe(1);
    const lines = r.err.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(l).toMatch(new RegExp(`^lazytlb: host-timeout: ${file.replace(/[.\\/]/g, '\\$&')} on explore-mix, seed \\d: still running after 2 s of host time \\(--host-timeout\\), stopped; reproduce: npx lazytlb run .* --seed \\d `));
    }
    expect(r.out).toBe('');
  });

  test.each([['0'], ['abc'], ['1e9']])('--host-timeout %s: one line, exit 2', (v) => {
    const r = cli('explore', '--strategy', 'linux-4.20', '--seeds', '1', '--jobs', '1', '--host-timeout', v);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`lazytlb: --host-timeout expects a number of seconds in (0, 2147483], got '${v}'`);
  });
});
