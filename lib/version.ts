/**
 * The package version, read from package.json at load time. Walking up from this file works both
 * from source (lib/, under ts-jest) and from the build (dist/lib/) without hard-coding the depth.
 */
import * as fs from 'fs';
import * as path from 'path';

function findVersion(start: string): string {
  let dir = start;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'lazytlb' && typeof pkg.version === 'string') return pkg.version;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`lazytlb package.json not found above ${start}`);
    dir = up;
  }
}

export const VERSION: string = findVersion(__dirname);
