import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { calibrationMarkdown } from './doc';
import { validate } from './validate';

/** `npm run calibration:doc`: runs the full validate and writes docs/CALIBRATION.md at this commit. */
function headCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

const file = path.join(__dirname, '../../../docs/CALIBRATION.md');
const report = validate();
fs.writeFileSync(file, calibrationMarkdown(report, headCommit()));
process.stdout.write(`${path.relative(process.cwd(), file)}: ${report.rows.length} targets, ${report.rows.filter((r) => r.pass).length} pass\n`);
