/**
 * The README's first table is the main job's output (`npx lazytlb compare`, every default), and
 * each README block that shows a `$ npx lazytlb ...` command in full is that command's output; so
 * a model change that moves any of their figures fails here until they are measured again, as
 * docs/CALIBRATION.md and docs/WORKLOADS.md are checked by their own tests.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '../..');
const BIN = path.join(ROOT, 'dist/bench/cli/main.js');

/** The README's block that starts with the main job's header line, without its fences. */
function readmeTable(): string[] {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('memcache on skylake-sp-2s: ');
  const end = text.indexOf('```', start);
  return text.slice(start, end).trimEnd().split('\n');
}

test('README: the main job table is what `npx lazytlb compare` prints', () => {
  const r = spawnSync(process.execPath, [BIN, 'compare', '--jobs', '2'], { encoding: 'utf8', timeout: 300_000 });
  expect(r.status).toBe(0);
  const printed = r.stdout.trimEnd().split('\n');
  // The README leaves out the footnote line that explains the columns.
  const table = printed.filter((l) => !l.startsWith('(flush latency'));
  expect(readmeTable()).toEqual(table);
}, 300_000);

/** The README's blocks that start with a whole `$ npx lazytlb` command (no `...` in its output). */
function commandBlocks(): { command: string; lines: string[] }[] {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const blocks = [...text.matchAll(/```\n\$ npx lazytlb (.*)\n([\s\S]*?)```/g)];
  return blocks.map((m) => ({ command: m[1], lines: m[2].trimEnd().split('\n') })).filter((b) => !b.lines.includes('...'));
}

test('README: the shown commands exist', () => {
  expect(commandBlocks().map((b) => b.command.split(' ')[0])).toEqual(['explore', 'explore', 'replay']);
});

test.each(commandBlocks().map((b) => [b.command, b.lines] as const))('README: `npx lazytlb %s` prints its block', (command, lines) => {
  const r = spawnSync(process.execPath, [BIN, ...command.split(' ')], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  expect(r.stdout.trimEnd().split('\n')).toEqual(lines);
}, 300_000);
