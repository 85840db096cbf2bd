import type { ValidateReport } from './validate';

/** The command whose output docs/CALIBRATION.md records. */
export const VALIDATE_COMMAND = 'npx lazytlb validate';

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(4));

/**
 * docs/CALIBRATION.md: what the targets are and why, then every target with its published and
 * simulated value, from one `validate` run at `commit`. tests/bench/calibration/doc.test.ts
 * regenerates it (keeping the recorded commit) and fails when the values differ; write it anew
 * with `npm run calibration:doc`.
 */
export function calibrationMarkdown(report: ValidateReport, commit: string): string {
  const lines = [
    '# Calibration',
    '',
    '<!-- Generated from bench/calibration/doc.ts by `npm run calibration:doc`; tests/bench/calibration/doc.test.ts',
    '     fails when the simulated values below differ from a fresh run. -->',
    '',
    `Each target is a published measurement, the scenario that reproduces it, and a tolerance. The values below are the`,
    `output of \`${VALIDATE_COMMAND}\` at commit \`${commit}\`: ${report.rows.length} targets, ` +
      `${report.rows.filter((r) => r.pass).length} pass.`,
    '',
    'A row marked *fitted* is a point a parameter was calibrated on, so it passes by construction; it is listed so that',
    'the calibration is visible. Every other row is an independent check of the model. How each parameter was derived',
    'is in [PROFILES.md](PROFILES.md); the mechanisms the targets exercise are in [ARCHITECTURE.md](ARCHITECTURE.md).',
    '',
    '| profile | target | published | simulated | unit | ratio | tolerance | verdict |',
    '|---|---|---:|---:|---|---:|---:|---|',
  ];
  for (const r of report.rows) {
    lines.push(`| ${r.profile} | \`${r.id}\` | ${fmt(r.published)} | ${fmt(r.simulated)} | ${r.unit} | ${r.ratio.toFixed(3)} | ` +
      `±${Math.round(r.tolerance * 100)}% | ${r.pass ? 'pass' : '**FAIL**'}${r.fitted !== null ? ' (fitted)' : ''} |`);
  }
  lines.push('', '## Targets and sources', '');
  for (const r of report.rows) {
    lines.push(`- **${r.profile} \`${r.id}\`**: ${r.what}. ${r.source}.${r.fitted !== null ? ` *Fitted:* ${r.fitted}.` : ''}`);
  }
  lines.push('', '## Scenarios', '', ...SCENARIOS, '');
  return lines.join('\n');
}

const SCENARIOS = [
  '- **`cas.*`**: nviennot/core-to-core-latency\'s CAS benchmark as simulated code (bench/calibration/cas-pingpong.ts): two',
  '  threads on a pair of CPUs of the given class bounce one line with `compare_exchange` until it succeeds; round trip / 2.',
  '  The profile\'s SMT pair needs `threadsPerCore=2`, which the scenario sets. Between cores, each hand-off also waits',
  '  for the owner\'s failed CAS in progress when its snoop arrives (the owner window). On hardware that wait is half a',
  '  failed CAS on average, and the transfers are derived so; the model has no noise, so its phase locks and each',
  '  pair waits one fixed point of that range: hence ratios from 0.92 to 1.09 instead of 1.00.',
  '- **`local-flush.*`**: the `munmap-micro` workload with no other CPU in the mm (`n=0, op=mprotect`) under',
  '  `linux-4.14`: each iteration mprotects `pages` pages read-only and back (two local flushes) and touches them again.',
  '  The flush latency is the flush_tlb_mm_range() bracket; above the ceiling (34 pages) the flush is a full one, and',
  '  its refill shows as the walks of the touches that follow.',
  '- **`pcid-pingpong.*`**: the `pcid-pingpong` workload (Lutomirski\'s eventfd ping-pong between two mms on one CPU,',
  '  each writing 512 pages per turn) under `linux-4.14-pcid` and `linux-4.14` (no PCID), on Lutomirski\'s machine',
  '  described from parameters: `clockGhz=2.3 sockets=1 coresPerCcx=4 kernelTlbPages=240`. The kernel footprint is',
  '  that of a KVM guest, whose large pages are cached as 4 KiB translations unless the host backs them with huge',
  '  pages; it is calibrated on the walk ratio (the skylake-sp-2s profile keeps a bare-metal 16). The buffer writes',
  '  overlap (memory-level parallelism: `fillBuffers`, `pageWalkers`); each process\'s own code and stack pages',
  '  (`textPages=6`, derived from the commit\'s two base times) are fetched one after another.',
  '',
  'Not validated here: remote shootdown latency (no bare-metal IPI measurement was found: the IPI costs stay',
  'estimates), and INVLPGB/TLBSYNC (only a workload-level effect is published). Hansen\'s 2014 flush costs',
  '(on an Ivy Bridge laptop) give haswell-2s its flush parameters but are not a target: their 3- to 8-page',
  'points lie 20% above any straight line through the others.',
  '',
  '## Before these mechanisms',
  '',
  'Issue #8 measured the profiles without them: the same-socket CAS at 55.6 ns on skylake-sp-2s (the',
  'transfers came from figures that include the CAS, and the model added the CAS again), a one-page local',
  'flush at 279 cycles (no fixed part), a full flush with no refill, and Lutomirski\'s ping-pong at a time',
  'ratio of 1.43 (published 3.44) with no walks at all under PCID. The mechanisms that closed the gaps:',
  'transfers without the CAS, `flushTlbFixed`, memory-level parallelism (`fillBuffers`, `pageWalkers`),',
  'the kernel\'s global translations (`kernelTlbPages`), kernel entry and exit where the kernel spends them',
  '(`syscallEntryExit`, `faultEntryExit`), and one ICR write per IPI target with nothing counted twice.',
];
