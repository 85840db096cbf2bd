import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cli, cliAsync } from '../run-cli';

const BASE = ['sweep', '--axis', 'cpus=2,4,8', '--strategies', 'linux-4.20,linux-6.15', '--seeds', '3', '--jobs', '1',
  '--param', 'sockets=1', '--workload', 'madvise-mix', '--ms', '0.1', '--warmup-ms', '0.05'];

/** The JSON without where and when it ran (meta, the host timings): what must be identical. */
function canonical(text: string): string {
  const j = JSON.parse(text);
  delete j.meta;
  for (const r of j.runs) delete r.result.host;
  return JSON.stringify(j);
}

describe('sweep, shards and merge', () => {
  test('3 core counts x 2 strategies x 3 seeds, run as 2 shards and merged, equals the unsharded sweep', () => {
    const whole = cli(...BASE, '--json');
    expect(whole.code).toBe(0);
    const w = JSON.parse(whole.out);
    expect(w.runs).toHaveLength(18);
    expect(w.runs.map((r: { point: { cpus: string } }) => r.point.cpus)).toEqual([...Array(6).fill('2'), ...Array(6).fill('4'), ...Array(6).fill('8')]);
    expect(w.runs[12].result.config.machine.params.coresPerCcx).toBe(8);
    expect(w.summary).toHaveLength(3);
    expect(w.summary[2].strategies[1].seeds).toEqual(['1', '2', '3']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-shards-'));
    for (const s of ['1/2', '2/2']) expect(cli(...BASE, '--shard', s, '--out', dir).code).toBe(0);
    const files = ['sweep-shard-1-of-2.json', 'sweep-shard-2-of-2.json'].map((f) => path.join(dir, f));
    expect(JSON.parse(fs.readFileSync(files[0], 'utf8')).runs).toHaveLength(9);
    const merged = cli('merge', ...files, '--json');
    expect(merged.code).toBe(0);
    expect(canonical(merged.out)).toBe(canonical(whole.out));
    // A missing shard, or a shard of another sweep, is one clear line.
    expect(cli('merge', files[0]).err).toMatch(/^lazytlb: merge: runs 1, 3, 5, 7, 9, \.\.\. of 18 are in none of the files/);
    const other = path.join(dir, 'other.json');
    fs.writeFileSync(other, JSON.stringify({ ...JSON.parse(fs.readFileSync(files[1], 'utf8')), sweep: { ...w.sweep, seeds: ['9'] } }));
    expect(cli('merge', files[0], other).err).toMatch(/other\.json: a shard of another sweep/);
    expect(cli('merge', path.join(dir, 'nope.json')).err).toMatch(/nope\.json: no such file/);
    // Found by the CLI fuzz test: a shard edited by hand ('axes' dropped, an index out of the grid)
    // was an internal error ('axes is not iterable', exit 3) or merged runs that are not in the grid.
    const edited = (f: (j: any) => void) => {
      const j = JSON.parse(fs.readFileSync(files[1], 'utf8'));
      f(j);
      fs.writeFileSync(other, JSON.stringify(j));
      return cli('merge', files[0], other);
    };
    const noAxes = edited((j) => delete j.sweep.axes);
    expect(noAxes.code).toBe(2);
    expect(noAxes.err).toBe(`lazytlb: ${other}: 'sweep.axes' is not a list of {key, kind, values} (not a shard as lazytlb sweep --shard writes it)\n`);
    expect(edited((j) => (j.runs[2].result.seed = 7)).err).toMatch(/other\.json: 'runs\[2\]\.result\.seed' is not a seed/);
    expect(edited((j) => (j.runs[0].index = 18)).err).toMatch(/other\.json: run 18 is outside the sweep's 18 runs$/m);
  });

  test('a seed with a line break is quoted in the CSV, and every row keeps its point', async () => {
    // Found by the CLI fuzz test: --out split the CSV at line breaks to put the point's columns in
    // front, and a quoted one inside a field crashed it ('Cannot read properties of undefined', exit 3).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-sweep-csv-'));
    const r = await cliAsync('sweep', '--axis', 'cpus=2', '--strategies', 'linux-4.20', '--seeds', '1', '--jobs', '1', '--param', 'sockets=1',
      '--param', 'coresPerCcx=2', '--ms', '0.01', '--warmup-cycles', '1000', '--seed', 'a\nb', '--out', dir);
    expect(r.code).toBe(0);
    const csv = fs.readFileSync(path.join(dir, 'sweep.csv'), 'utf8').split('\n');
    expect(csv[0]).toMatch(/^cpus,strategy,workload,machine,seed,ipis\.sent,/);
    expect(csv[1]).toBe('2,linux-4.20,memcache,skylake-sp-2s,"a');
    expect(csv[2]).toMatch(/^b",\d+,/);
  });

  test('axes are checked: cpus must divide over the sockets, keys must exist, shards need a file', () => {
    expect(cli('sweep', '--axis', 'cpus=3', '--jobs', '1').err).toMatch(/--axis cpus=3: expected a multiple of 2/);
    expect(cli('sweep', '--axis', 'flushCeilin=1,33', '--jobs', '1').err).toMatch(/unknown axis 'flushCeilin' \(did you mean 'flushCeiling'\?/);
    expect(cli('sweep', '--axis', 'pages', '--jobs', '1').err).toMatch(/--axis 'pages': expected key=value1,value2/);
    expect(cli('sweep', '--jobs', '1').err).toMatch(/sweep needs at least one --axis/);
    expect(cli('sweep', '--axis', 'cpus=2', '--shard', '3/2', '--json').err).toMatch(/--shard '3\/2': expected i\/n with 1 <= i <= n/);
    expect(cli('sweep', '--axis', 'cpus=2', '--shard', '1/2').err).toMatch(/a shard is for merge: give --json or --out DIR/);
  });

  test('a workload parameter and a machine parameter as axes', () => {
    const r = JSON.parse(cli('sweep', '--axis', 'flushCeiling=1,33', '--axis', 'pages=1,8', '--workload', 'munmap-micro', '--wparam', 'n=3',
      '--param', 'sockets=1', '--param', 'coresPerCcx=4', '--strategies', 'linux-4.20', '--seeds', '1', '--jobs', '1', '--ms', '0.1', '--json').out);
    expect(r.summary.map((p: { point: object }) => p.point)).toEqual([
      { flushCeiling: '1', pages: '1' }, { flushCeiling: '1', pages: '8' }, { flushCeiling: '33', pages: '1' }, { flushCeiling: '33', pages: '8' },
    ]);
    // 8 pages above a ceiling of 1 is a full flush: no INVLPG; under 33, eight of them per flush.
    const invlpgs = r.runs.map((x: { result: { tlb: { invlpgs: number }; flushes: { count: number } } }) => x.result.tlb.invlpgs / x.result.flushes.count);
    expect(invlpgs[1]).toBeLessThan(invlpgs[3]);
  });
});
