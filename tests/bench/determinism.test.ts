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
