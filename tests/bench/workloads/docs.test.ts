import * as fs from 'fs';
import * as path from 'path';
import { GENERATED_BEGIN, GENERATED_END, workloadsMarkdown } from '../../../bench/workloads/describe';
import { WORKLOADS } from '../../../bench/workloads/index';

describe('docs/WORKLOADS.md', () => {
  const file = path.join(__dirname, '../../../docs/WORKLOADS.md');

  test('its reference part equals workloadsMarkdown() of the shipped workloads (regenerate with UPDATE_DOCS=1)', () => {
    const expected = workloadsMarkdown(Object.values(WORKLOADS));
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const begin = text.indexOf(GENERATED_BEGIN);
    const end = text.indexOf(GENERATED_END);
    if (process.env.UPDATE_DOCS === '1') {
      const head = begin >= 0 ? text.slice(0, begin) : text;
      const tail = end >= 0 ? text.slice(end + GENERATED_END.length) : '\n';
      fs.writeFileSync(file, head + expected + tail);
      return;
    }
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(text.slice(begin, end + GENERATED_END.length)).toBe(expected);
  });

  test('every shipped workload names its sources and documents every parameter', () => {
    for (const w of Object.values(WORKLOADS)) {
      expect(w.sources.length).toBeGreaterThan(0);
      for (const [key, spec] of Object.entries(w.params)) expect(`${key}: ${spec.doc}`).toMatch(/\S{3,}/);
    }
  });
});
