import { spawn } from 'child_process';
import * as path from 'path';

const CLI = path.join(__dirname, '../../dist/bench/cli/main.js');
const LITMUS = path.join(__dirname, '../../bench/data/litmus/x86');

/** `lazytlb ... | head -1`: the reader goes away while the CLI still writes. */
test('a reader that closes the pipe early ends the CLI quietly, without a stack trace', async () => {
  const child = spawn(process.execPath, [CLI, 'litmus', path.join(LITMUS, 'SB.litmus'), path.join(LITMUS, 'MP.litmus'), path.join(LITMUS, 'LB.litmus'), '--runs', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.once('data', () => child.stdout.destroy()); // read the first chunk, then hang up
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  expect(err).not.toMatch(/^\s+at /m);
  expect(err).not.toMatch(/EPIPE/);
  expect(code).toBe(0);
});
