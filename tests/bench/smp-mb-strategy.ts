import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Writes a user strategy file, in a fresh temporary directory, that is Linux 4.20 with its
 * lazy-return smp_mb() replaced by `body` (lines of the generator, `k` in scope). Line 1 is the
 * import, line 5 the first line of `body`. Returns the file's path.
 */
export function smpMbStrategy(name: string, body: string[]): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lazytlb-')), `${name}.ts`);
  fs.writeFileSync(file, [
    "import { Linux420, type Sim, type TlbOps } from 'lazytlb';",
    `export default class Custom extends Linux420 {`,
    `  override readonly name = '${name}';`,
    '  protected override *smpMb(k: TlbOps): Sim {',
    ...body.map((l) => `    ${l}`),
    '  }',
    '}',
    '',
  ].join('\n'));
  return file;
}
