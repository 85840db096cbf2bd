import { defaultJobs } from './experiment/pool';
import { exploreConfig, exploreOnWorkers, exploreTargets, missedTargets } from './explore';

/**
 * The long exploration of issue #4: 10,000 perturbed seeds per shipped strategy and per
 * strategy variant of EXPLORE_TARGETS (e.g. mc-shootdown:notify=ipi) (or
 * `--seeds N`, `--only NAME`, `--jobs N`: worker threads, one per core by default), checked
 * against EXPLORE_TARGETS. Exits 1 on a missed target. Run with `npm run bench:explore`.
 */
async function main(argv: string[]): Promise<number> {
  const seeds = Number(argv[argv.indexOf('--seeds') + 1] ?? NaN);
  const n = argv.includes('--seeds') && Number.isSafeInteger(seeds) && seeds > 0 ? seeds : 10_000;
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const jobsArg = Number(argv[argv.indexOf('--jobs') + 1] ?? NaN);
  const jobs = argv.includes('--jobs') && Number.isSafeInteger(jobsArg) && jobsArg > 0 ? jobsArg : defaultJobs();
  const missed: string[] = [];
  for (const name of exploreTargets()) {
    if (only !== undefined && name !== only && name.split(':')[0] !== only) continue; // --only mc-shootdown: its variants too
    const t0 = Date.now();
    const r = await exploreOnWorkers(exploreConfig(name), n, 1, jobs);
    const found = r.first.map((v) => `${v.kind}${v.watchdog === undefined ? '' : ` (${v.watchdog})`} ×${v.count} (first seed ${v.seed})`).join(', ') || 'none';
    console.log(`${name.padEnd(32)} ${n} seeds, ${((Date.now() - t0) / 1000).toFixed(0)} s: ${found}`);
    missed.push(...missedTargets(r));
  }
  for (const m of missed) console.log(`MISSED: ${m}`);
  console.log(missed.length === 0 ? 'all exploration targets met' : `${missed.length} targets missed`);
  return missed.length === 0 ? 0 : 1;
}

void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
