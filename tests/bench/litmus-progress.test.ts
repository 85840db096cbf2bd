import * as fs from 'fs';
import * as path from 'path';
import { Writable } from 'stream';
import { litmusProgressBar } from '../../bench/cli/progress-bar';
import { resolveMachine } from '../../lib/machine/resolve';
import { parseLitmus } from '../../mem/litmus/parse';
import { LITMUS_DEFAULTS, runLitmus } from '../../mem/litmus/run';

/** A stream that records what is written, and says it is (or is not) a terminal. */
function sink(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const w = new Writable({ write: (chunk, _enc, done) => { text += String(chunk); done(); } });
  Object.assign(w, { isTTY: tty, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { stream: w as unknown as NodeJS.WriteStream, text: () => text };
}

describe('litmus --runs progress', () => {
  const file = path.join(__dirname, '../../bench/data/litmus/x86/SB.litmus');
  const sb = parseLitmus(fs.readFileSync(file, 'utf8'), 'SB.litmus');
  const options = { ...LITMUS_DEFAULTS, runs: 40, seed: 3, machine: resolveMachine('skylake-sp-2s') };

  test('runLitmus reports every execution, and watching it changes nothing', () => {
    const seen: number[] = [];
    const watched = runLitmus(sb, options, (done) => seen.push(done));
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(watched).toEqual(runLitmus(sb, options));
  });

  test('the bar shows on a terminal, and writes nothing when stderr is piped', () => {
    const tty = sink(true);
    const bar = litmusProgressBar(80, tty.stream);
    bar.progress?.(40, 'SB');
    bar.stop();
    expect(tty.text()).toMatch(/executions \d+\/80/);
    const piped = sink(false);
    const none = litmusProgressBar(80, piped.stream);
    expect(none.progress).toBeUndefined();
    none.stop();
    expect(piped.text()).toBe('');
  });
});
