import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { seedList } from '../../../bench/experiment/seeds';
import { cli, cliAsync } from '../run-cli';

const SMALL = ['--param', 'sockets=1', '--param', 'coresPerCcx=8', '--workload', 'madvise-mix', '--ms', '0.3', '--warmup-ms', '0.1'];

describe('compare over seeds', () => {
  test('seeds follow --seed: consecutive integers, or a suffix', () => {
    expect(seedList('7', 3)).toEqual(['7', '8', '9']);
    expect(seedList('run', 3)).toEqual(['run', 'run-1', 'run-2']);
  });

  test('each figure is a mean ± 95% interval over the seeds, and the JSON has every run and every summary', () => {
    const args = ['compare', '--strategies', 'linux-4.8,linux-4.20', ...SMALL, '--seeds', '4', '--jobs', '1', '--baseline', 'linux-4.8'];
    const t = cli(...args);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/seeds 1\.\.4: mean ± 95% confidence interval over 4 seeds/);
    expect(t.out).toMatch(/^linux-4\.8 \(base\)/m);
    expect(t.out).toMatch(/^linux-4\.20 +\d+±\d+\*? /m);
    const j = JSON.parse(cli(...args, '--json').out);
    expect(j.results).toHaveLength(8);
    expect(j.results.map((r: { seed: string }) => r.seed)).toEqual(['1', '2', '3', '4', '1', '2', '3', '4']);
    const [base, other] = j.summary;
    expect(base.strategy).toBe('linux-4.8');
    expect(base.vsBaseline).toBeUndefined();
    const sent = j.results.slice(4).map((r: { ipis: { sent: number } }) => r.ipis.sent);
    const mean = sent.reduce((a: number, b: number) => a + b, 0) / 4;
    expect(other.metrics['ipis.sent'].mean).toBeCloseTo(mean, 0);
    expect(other.metrics['ipis.sent'].n).toBe(4);
    expect(other.metrics['ipis.sent'].ci95).toBeGreaterThan(0);
    // linux-4.8 IPIs lazy CPUs, linux-4.20 spares them: a difference far outside the noise.
    expect(other.vsBaseline['ipis.toLazyCpus'].significant).toBe(true);
    expect(other.vsBaseline['violationCounts.staleTranslation'].significant).toBe(false);
  });

  test('--csv prints a row per run; --out writes results.json, results.csv, summary.csv and the charts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-out-'));
    const args = ['compare', '--strategies', 'linux-4.20,linux-6.15', ...SMALL, '--seeds', '2', '--jobs', '1'];
    const csv = (await cliAsync(...args, '--csv', '--out', dir)).out.trimEnd().split('\n');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.svg'))).toHaveLength(3);
    expect(csv).toHaveLength(5);
    expect(csv[0]).toMatch(/^strategy,workload,machine,seed,ipis\.sent,ipis\.tlbFlush,/);
    expect(csv[1]).toMatch(/^linux-4\.20,madvise-mix,skylake-sp-2s,1,\d+,/);
    expect(fs.readFileSync(path.join(dir, 'results.csv'), 'utf8').trimEnd()).toBe(csv.join('\n'));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')).summary).toHaveLength(2);
    const summary = fs.readFileSync(path.join(dir, 'summary.csv'), 'utf8').split('\n');
    expect(summary[0]).toBe('strategy,workload,metric,n,mean,sd,ci95,min,max,diffVsBaseline,diffCi95,significant');
    expect(summary.some((l) => l.startsWith('linux-6.15,madvise-mix,flushes.count,2,'))).toBe(true);
    expect(cli(...args, '--csv', '--json').err).toMatch(/^lazytlb: --csv and --json: choose one/);
  });

  test('several workloads: a table each, a summary per strategy and workload, the bar charts faceted by workload', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-wl-'));
    const r = await cliAsync('compare', '--strategies', 'linux-4.8,linux-4.20', '--workload', 'madvise-mix,munmap-micro', '--param', 'sockets=1',
      '--param', 'coresPerCcx=8', '--ms', '0.3', '--warmup-ms', '0.1', '--seeds', '2', '--jobs', '1', '--out', dir);
    expect(r.code).toBe(0);
    expect(r.out.match(/^(madvise-mix|munmap-micro) on skylake-sp-2s/gm)).toEqual(['madvise-mix on skylake-sp-2s', 'munmap-micro on skylake-sp-2s']);
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(j.summary.map((s: { workload: string; strategy: string }) => `${s.workload}/${s.strategy}`)).toEqual(
      ['madvise-mix/linux-4.8', 'madvise-mix/linux-4.20', 'munmap-micro/linux-4.8', 'munmap-micro/linux-4.20']);
    expect(fs.readFileSync(path.join(dir, 'ipis-per-flush.svg'), 'utf8')).toMatch(/munmap-micro/);
  });

  test('a user strategy file goes into compare; bad --baseline, --seeds and --jobs are one line and exit 2', () => {
    const file = path.join(__dirname, '../../../examples/linux-4.20-no-mb.ts');
    const r = cli('compare', '--strategies', `${file},linux-4.20`, ...SMALL, '--seeds', '1', '--jobs', '1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/linux-4\.20-no-mb\.ts/);
    expect(cli('compare', '--baseline', 'linux-9', '--strategies', 'linux-4.20', '--jobs', '1').err).toMatch(/^lazytlb: --baseline 'linux-9' is not one of the compared strategies/);
    expect(cli('compare', '--seeds', '0').err).toMatch(/^lazytlb: --seeds expects an integer in \[1, 100000\], got '0'/);
    expect(cli('compare', '--jobs', 'x').code).toBe(2);
  });

  test('--jobs 2 gives results identical to --jobs 1 (the built CLI, on worker threads)', () => {
    const bin = path.join(__dirname, '../../../dist/bench/cli/main.js');
    const run = (jobs: string) => {
      const text = execFileSync(process.execPath, [bin, 'compare', '--strategies', 'linux-4.20,linux-6.15', ...SMALL, '--seeds', '2', '--jobs', jobs, '--json'], { encoding: 'utf8' });
      const j = JSON.parse(text);
      expect(j.meta.command).toMatch(new RegExp(`^lazytlb compare .* --jobs ${jobs} --json$`));
      expect(j.meta).toMatchObject({ node: process.version, version: expect.any(String), startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      delete j.meta;
      for (const r of j.results) delete r.host;
      return JSON.stringify(j);
    };
    expect(run('2')).toBe(run('1'));
  });

  test('on worker threads a workload file loads from its path, and a user error in a worker is one line and exit 2', () => {
    const bin = path.join(__dirname, '../../../dist/bench/cli/main.js');
    const file = path.join(__dirname, '../../../examples/jit-wx-workload.ts');
    const base = ['compare', '--strategies', 'linux-4.20,linux-6.15', '--workload', file, '--param', 'sockets=1', '--param', 'coresPerCcx=8',
      '--ms', '0.2', '--seeds', '2', '--jobs', '2'];
    expect(execFileSync(process.execPath, [bin, ...base], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toMatch(/jit-wx-workload\.ts on skylake-sp-2s/);
    // 9 mutators do not fit on 8 CPUs: the workload says so when it sets up, inside a worker.
    let err = '';
    let status = 0;
    try {
      execFileSync(process.execPath, [bin, ...base, '--wparam', 'mutators=9'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      ({ stderr: err, status } = e as { stderr: string; status: number });
    }
    expect(status).toBe(2);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/^lazytlb: .*mutators/);
  });
});
