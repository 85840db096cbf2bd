/**
 * Markdown descriptions of the machine profiles and the parameter catalogue. docs/PROFILES.md is
 * exactly `profilesMarkdown()`; a test compares them so the document cannot drift from the code.
 */
import { ConfigError } from '../errors';
import { PARAM_KEYS, PARAM_SPECS } from './params';
import { PROFILES } from './profiles';
import { profileNames, resolveMachine, topologyOf } from './resolve';

const TAGS: readonly [string, string][] = [
  ['S', 'read verbatim from the cited public source'],
  ['F', 'read off a figure by a third party (about +-1k cycles at best)'],
  ['D', 'derived from sourced numbers; the arithmetic is shown'],
  ['E', 'our estimate: a placeholder to calibrate'],
  ['R', 'remembered from the literature, not re-checked'],
  ['M', 'measured by us on a Zen 4 KVM guest (not bare metal)'],
];

// Table cells: a '|' would end the cell, a newline the row.
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** One profile as a markdown section: description, topology and a key/value/unit/tag/source table. */
export function describeProfile(name: string): string {
  const prof = Object.prototype.hasOwnProperty.call(PROFILES, name) ? PROFILES[name] : undefined;
  if (prof === undefined) {
    throw new ConfigError(`unknown machine profile '${name}' (known: ${profileNames().join(', ')})`);
  }
  const topo = topologyOf(resolveMachine(name));
  const lines = [
    `## ${prof.name}`,
    '',
    cell(prof.description),
    '',
    `Topology: ${topo.describe()}.`,
    '',
    '| key | value | unit | tag | source |',
    '|---|---:|---|---|---|',
  ];
  for (const key of PARAM_KEYS) {
    const p = prof.params[key];
    lines.push(`| \`${key}\` | ${p.value} | ${PARAM_SPECS[key].unit} | ${p.tag} | ${cell(p.source)} |`);
  }
  return lines.join('\n') + '\n';
}

/** The catalogue as a markdown section: key, unit, allowed range, meaning. */
export function describeCatalogue(): string {
  const lines = [
    '## Parameter catalogue',
    '',
    'Every key can be overridden with `--param key=value`; unknown keys and out-of-range values are errors.',
    '',
    '| key | unit | range | meaning |',
    '|---|---|---|---|',
  ];
  for (const key of PARAM_KEYS) {
    const s = PARAM_SPECS[key];
    const range = `${s.integer ? 'integer ' : ''}[${s.min}, ${s.max}]`;
    lines.push(`| \`${key}\` | ${s.unit} | ${range} | ${cell(s.doc)} |`);
  }
  return lines.join('\n') + '\n';
}

/** The whole of docs/PROFILES.md. */
export function profilesMarkdown(): string {
  const header = [
    '# Machine profiles',
    '',
    '<!-- Generated from lib/machine/describe.ts (profilesMarkdown); tests/lib/machine/params.test.ts',
    '     fails when this file differs. Regenerate: UPDATE_PROFILES_DOC=1 npx jest tests/lib/machine/params.test.ts -->',
    '',
    'Cycle counts are core cycles at the profile clock. Every value carries a source tag:',
    '',
    ...TAGS.map(([t, meaning]) => `- **${t}**: ${meaning}.`),
    '',
    'Values tagged E, R or F are presets to calibrate, not ground truth. A citation "cost-parameters',
    'n.m" is section n.m of [docs/reference/cost-parameters.md](reference/cost-parameters.md).',
    '',
  ].join('\n');
  return [header, ...profileNames().map(describeProfile), describeCatalogue()].join('\n');
}
