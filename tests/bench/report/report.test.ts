import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const BIN = path.join(__dirname, '../../../dist/bench/cli/main.js');
const lazytlb = (...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Every figure of a report as a headless Chromium lays it out (figures.cjs): its width and its axis titles. */
function figures(file: string): { id: string; width: number; titles: string[] }[] {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'figures.cjs'), file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out) as { id: string; width: number; titles: string[] }[];
}

describe('charts and the HTML report', () => {
  test('compare --out and sweep --out write SVG charts, and every chart of the report renders in Chromium with labelled axes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-report-'));
    const cmp = path.join(dir, 'compare');
    lazytlb('compare', '--strategies', 'linux-4.8,linux-4.20', '--param', 'sockets=1', '--param', 'coresPerCcx=8', '--workload', 'madvise-mix',
      '--ms', '0.4', '--seeds', '3', '--jobs', '2', '--out', cmp);
    expect(fs.readdirSync(cmp).filter((f) => f.endsWith('.svg')).sort()).toEqual(['flush-ipis-per-second.svg', 'flush-latency-cdf.svg', 'ipis-per-flush.svg']);
    expect(lazytlb('report', cmp).trim()).toBe(path.join(cmp, 'report.html'));
    const swp = path.join(dir, 'sweep');
    lazytlb('sweep', '--axis', 'cpus=2,4', '--strategies', 'linux-4.20,linux-6.15', '--param', 'sockets=1', '--workload', 'madvise-mix',
      '--ms', '0.3', '--seeds', '2', '--jobs', '2', '--out', swp);
    lazytlb('report', swp);
    const html = fs.readFileSync(path.join(swp, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|src="http/); // self-contained: no scripts, nothing fetched
    for (const [file, ids] of [
      [path.join(cmp, 'report.html'), ['flush-latency-cdf', 'ipis-per-flush', 'flush-ipis-per-second']],
      [path.join(swp, 'report.html'), ['sweep-rates-flushIpis', 'sweep-perFlush-ipis', 'sweep-flushes-latencyCycles-p50', 'sweep-contextSwitches-switchMmCycles', 'flush-latency-cdf']],
    ] as const) {
      const figs = figures(file);
      expect(figs.map((f) => f.id)).toEqual(ids);
      for (const f of figs) {
        expect([f.id, f.width > 100]).toEqual([f.id, true]);
        expect([f.id, f.titles.length >= 2 && f.titles.every((t) => t.length > 2)]).toEqual([f.id, true]);
      }
    }
    expect(() => lazytlb('report', path.join(dir, 'nothing'))).toThrow(/no results\.json or sweep\.json/);
  }, 120_000);
});
