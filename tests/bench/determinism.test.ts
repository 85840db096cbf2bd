import { execFileSync } from 'child_process';
import * as path from 'path';

const CLI = path.join(__dirname, '../../dist/bench/cli/main.js');

/** The same config and seed give byte-identical JSON, across two separate processes. */
test('run --json is byte-identical across processes, host stats aside', () => {
  const args = [CLI, 'run', '--strategy', 'linux-4.8', '--workload', 'fork-cow', '--param', 'sockets=1', '--param', 'coresPerCcx=8', '--ms', '0.3', '--seed', '7', '--json'];
  const strip = (out: string) => {
    const json = JSON.parse(out);
    delete json.host;
    return JSON.stringify(json);
  };
  const a = strip(execFileSync('node', args, { encoding: 'utf8' }));
  const b = strip(execFileSync('node', args, { encoding: 'utf8' }));
  expect(a).toBe(b);
  expect(JSON.parse(a).contextSwitches.count).toBeGreaterThan(0);
  const c = strip(execFileSync('node', args.map((x) => (x === '7' ? '8' : x)), { encoding: 'utf8' }));
  expect(c).not.toBe(a);
});

/** Runs the CLI; exit status 1 (violations found) still returns what it printed. */
function cli(args: string[]): string {
  try {
    return execFileSync('node', [CLI, ...args], { encoding: 'utf8' });
  } catch (e) {
    const err = e as { status: number; stdout: string };
    if (err.status === 1) return err.stdout;
    throw e;
  }
}

/** A violation's reproducer command replays the same run: the same violation at the same cycle. */
test('explore prints a reproducer that replays the violation exactly', () => {
  const ex = JSON.parse(cli(['explore', '--strategy', 'rfc2016-naive', '--seeds', '3', '--json']));
  const v = ex.violations[0];
  expect(v.reproduce).toMatch(/^npx lazytlb run /);
  const replay = JSON.parse(cli([...v.reproduce.replace(/^npx lazytlb /, '').split(' '), '--json']));
  expect(replay.violations.some((x: { kind: string; cpu: number; cycle: number }) => x.kind === v.kind && x.cpu === v.cpu && x.cycle === v.cycle)).toBe(true);
});

test('explore on two worker threads reports exactly what it reports on one', () => {
  const run = (jobs: string) => cli(['explore', '--strategy', 'rfc2016-naive', '--seeds', '6', '--jobs', jobs, '--json']);
  const one = run('1');
  expect(JSON.parse(one).counts['freed-page-table']).toBeGreaterThan(0);
  expect(run('2')).toBe(one);
});
