/**
 * Fuzzes trace replay (issue #11) with edits of real trace text: the small traces of
 * bench/data/traces whole, and windows of the x86 capture as trace-cmd printed them and as
 * `perf script` prints the same events. A mutant parses, or the strict parser names its file and
 * a line of it; leniently parsed, it replays and simulates something, or is refused in one line.
 */
import fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { ParseError } from '../../../lib/errors';
import { parseTrace } from '../../../bench/replay/parse-trace';
import { replayTrace } from '../../../bench/replay/replay';
import { STRATEGIES } from '../../../tlb/strategies/index';
import { fuzzParams, fuzzTimeout, mutated, userErrorOr } from '../../fuzz';

const DIR = path.join(__dirname, '../../../bench/data/traces');
const read = (f: string): string => fs.readFileSync(path.join(DIR, f), 'utf8');
const SMALL = fs.readdirSync(DIR).filter((f) => f.endsWith('.txt') && !f.startsWith('LICENSE') && fs.statSync(path.join(DIR, f)).size < 64 * 1024);
const X86 = read('x86-kvm-fork-exec-exit.txt').split('\n');

/** A trace-cmd line of the x86 capture as `perf script` prints the event: "COMM PID/TID [CPU] TIME: SYSTEM:EVENT: FIELDS". */
function asPerf(line: string): string {
  const m = /^\s*(.+?)-(\d+)\s+\(\s*(\d+)\)\s+\[(\d+)\]\s+(\d+\.\d+):\s+(\w+):\s*(.*)$/.exec(line);
  if (m === null) return line;
  const [, comm, pid, tgid, cpu, time, event, fields] = m;
  const system = event.startsWith('sys_') ? 'syscalls' : event.startsWith('sched_') ? 'sched' : event.startsWith('tlb_') ? 'tlb' : event.startsWith('ipi_') ? 'ipi' : 'irq_vectors';
  return `${comm.padStart(16)} ${tgid}/${pid} [${cpu}] ${time}: ${system}:${event}: ${fields}`;
}

/** A window of the x86 capture behind its header, in its own form or as perf script. */
const x86Window = fc.tuple(fc.integer({ min: 1, max: X86.length - 61 }), fc.boolean()).map(([at, perf]) => {
  const window = X86.slice(at, at + 60);
  return perf ? { name: 'x86-window.perf', text: window.map(asPerf).join('\n') } : { name: 'x86-window.txt', text: [X86[0], ...window].join('\n') };
});
const source = fc.oneof(fc.constantFrom(...SMALL).map((f) => ({ name: f, text: read(f) })), x86Window);

/** Replacement tokens: the trace forms' own, and fields of real lines (other CPUs, times, pids). */
const TOKENS = ['[', ']', '(', ')', ':', '-', '=', '==>', '|', 'R', 'S', 'D', 'R+', 'X', '<idle>', 'swapper/0', '0x0', '0xffffffffffffffff', 'pages:-1', 'reason:', 'cpus=', '#P:0',
  '[999999]', '[000]', '[-1]', '1063.620922636', '0.000000', '6550.018511', 'sched_switch:', 'sched_process_fork:', 'sys_enter_munmap:', 'tlb_flush:', 'prev_pid=', 'next_pid=0', 'child_pid=1'];

const OPTIONS = { machine: 'skylake-sp-2s', params: {}, seed: '1', strategyOptions: {} };

describe('trace text under mutation', () => {
  test('a mutant parses, or names its file and a line; leniently, it replays or is refused in one line', () => {
    const mutant = source.chain((s) => fc.tuple(fc.constant(s.name), mutated(s.text, TOKENS)));
    fc.assert(
      fc.property(mutant, ([name, text]) => {
        const what = `${name} mutated:\n${text}\n`;
        const lines = text.split('\n').length;
        const strict = userErrorOr(what, () => parseTrace(text, name));
        if (strict instanceof Error) {
          if (!(strict instanceof ParseError)) throw new Error(`${what}: expected a ParseError, got ${strict.name}: ${strict.message}`);
          expect(strict.file).toBe(name);
          expect(strict.line).toBeGreaterThanOrEqual(1);
          expect(strict.line).toBeLessThanOrEqual(lines);
        }
        const trace = parseTrace(text, name, { lenient: true });
        expect(trace.events.length + trace.skipped.count).toBeLessThanOrEqual(lines);
        const start = Date.now();
        const report = userErrorOr(what, () => replayTrace(name, trace, [['linux-4.20', STRATEGIES['linux-4.20']]], OPTIONS));
        expect(Date.now() - start).toBeLessThan(30_000);
        if (report instanceof Error) return;
        expect(report.results[0].simulated.cycles).toBeGreaterThan(0);
        expect(report.results[0].host.events).toBeGreaterThan(0);
      }),
      fuzzParams(400),
    );
  }, fuzzTimeout(400, 60_000));
});
