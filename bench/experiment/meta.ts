import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { VERSION } from '../../lib/version';

/**
 * Where a result came from, kept apart from the deterministic part of the JSON (like `host`):
 * lazytlb's version, its git commit when it runs from a checkout, Node's version, the command
 * line and the start time.
 */
export interface RunMeta {
  version: string;
  commit: string | null;
  node: string;
  command: string;
  startedAt: string;
}

/** The checkout this package runs from, if it is one (an npm install is not). */
function packageCommit(): string | null {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, '.git'))) {
      try {
        return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      } catch {
        return null;
      }
    }
    dir = path.dirname(dir);
  }
  return null;
}

export function runMeta(argv: readonly string[]): RunMeta {
  return {
    version: VERSION,
    commit: packageCommit(),
    node: process.version,
    command: ['lazytlb', ...argv].join(' '),
    startedAt: new Date().toISOString(),
  };
}
