import * as fs from 'fs';
import * as path from 'path';
import { statsMarkdown, undocumented } from '../../../bench/experiment/metric-docs';
import { simulate } from '../../../bench/experiment/api';

describe('docs/STATS.md', () => {
  test('every figure of a run is documented, and nothing else', () => {
    const r = simulate({ workload: 'madvise-mix', params: { sockets: 1, coresPerCcx: 4 }, ms: 0.2 });
    expect(undocumented(r)).toEqual({ missing: [], extra: [] });
  });

  test('equals statsMarkdown() (regenerate with UPDATE_DOCS=1)', () => {
    const file = path.join(__dirname, '../../../docs/STATS.md');
    if (process.env.UPDATE_DOCS === '1') fs.writeFileSync(file, statsMarkdown());
    expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '').toBe(statsMarkdown());
  });
});
