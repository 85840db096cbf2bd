// Some tests run the built CLI (dist/): worker threads load compiled modules, and a child process
// shows what a user's `npx lazytlb` does. `npm test` builds first; a plain `npx jest` on a fresh
// clone builds here, once, if dist/ is missing or older than the sources it came from.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

function newest(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

module.exports = () => {
  const root = path.join(__dirname, '..');
  const cli = path.join(root, 'dist/bench/cli/main.js');
  const sources = Math.max(...['lib', 'mem', 'cpu', 'tlb', 'bench'].map((d) => newest(path.join(root, d))));
  if (fs.existsSync(cli) && fs.statSync(cli).mtimeMs >= sources) return;
  process.stderr.write('\njest: building dist/ (tests run the built CLI)\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
};
