/**
 * Shard files for the CLI fuzz test's `merge` (tests/bench/cli-fuzz.test.ts): the shards of a real
 * sweep, as they are or with a key or two dropped or given a value of another type, as a hand
 * edit or a cut-short copy may leave them.
 */
import { createHash } from 'crypto';
import fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { cli } from './run-cli';

/** The two shards of one small sweep, run once, when first drawn, as `sweep --shard i/2 --json` writes them. */
const shards: string[] = [];
function shardText(i: number, small: readonly string[]): string {
  if (shards.length === 0) {
    for (const n of [1, 2]) shards.push(cli('sweep', '--axis', 'cpus=2', '--strategies', 'linux-4.20', '--seeds', '2', '--jobs', '1', ...small, '--shard', `${n}/2`, '--json').out);
  }
  return shards[i];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonPath = (string | number)[];

/** The paths into a JSON document down to `depth`: where merge reads a shard's structure. */
function jsonPaths(v: Json, depth: number, at: JsonPath = []): JsonPath[] {
  if (depth === 0 || v === null || typeof v !== 'object') return [at];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [at, ...keys.flatMap((k) => jsonPaths((v as Record<string | number, Json>)[k], depth - 1, [...at, k]))];
}

/** Values of other types than a shard holds, or none: the key dropped. */
const JSON_VALUES: (Json | undefined)[] = [undefined, null, 'x', '', -1, 0, 0.5, 2 ** 53 + 2, [], {}, [1], true];

function editedShard(text: string): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.constantFrom(...jsonPaths(JSON.parse(text), 5).filter((p) => p.length > 0)), fc.constantFrom(...JSON_VALUES));
  return fc.array(edit, { minLength: 1, maxLength: 2 }).map((edits) => {
    const doc = JSON.parse(text) as Json;
    for (const [p, value] of edits) {
      const parent = p.slice(0, -1).reduce<Json | undefined>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string | number, Json>)[k] : undefined), doc);
      if (parent === null || parent === undefined || typeof parent !== 'object') continue;
      const obj = parent as Record<string | number, Json>;
      if (value === undefined) delete obj[p[p.length - 1]];
      else obj[p[p.length - 1]] = value;
    }
    return JSON.stringify(doc, null, 2);
  });
}

/** A shard file in `dir`, as it is or edited; `small` are the flags of a small, short sweep. */
export function shardFile(dir: string, small: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.integer({ min: 0, max: 1 }), fc.boolean())
    .chain(([i, edit]) => (edit ? editedShard(shardText(i, small)) : fc.constant(shardText(i, small))))
    .map((text) => {
      // Named by its content, so the same case writes the same file.
      const file = path.join(dir, `shard-${createHash('sha1').update(text).digest('hex').slice(0, 12)}.json`);
      fs.writeFileSync(file, text);
      return file;
    });
}
