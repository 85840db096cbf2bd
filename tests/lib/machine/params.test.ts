import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../../../lib/errors';
import { describeProfile, profilesMarkdown } from '../../../lib/machine/describe';
import { PARAM_KEYS, PARAM_SPECS, type MachineParams } from '../../../lib/machine/params';
import { PROFILES, type SourceTag } from '../../../lib/machine/profiles';
import { editDistance } from '../../../lib/config-text';
import {
  parseParamAssignment,
  profileNames,
  resolveMachine,
} from '../../../lib/machine/resolve';

const SKL = 'skylake-sp-2s';
const ZEN = 'zen3-1s';

/** Asserts that `fn` throws a ConfigError and returns its message. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('catalogue', () => {
  it('lists every key once, in the spec order, with a consistent spec', () => {
    expect(new Set(PARAM_KEYS).size).toBe(PARAM_KEYS.length);
    expect(Object.keys(PARAM_SPECS)).toEqual([...PARAM_KEYS]);
    for (const key of PARAM_KEYS) {
      const s = PARAM_SPECS[key];
      expect(s.key).toBe(key);
      expect(s.min).toBeLessThanOrEqual(s.max);
      expect(s.doc.length).toBeGreaterThan(10);
      if (s.unit === 'bool') expect([s.min, s.max, s.integer]).toEqual([0, 1, true]);
      if (s.unit === 'cycles') expect(s.integer).toBe(true);
    }
  });

  it('contains the keys the simulator layers rely on', () => {
    const needed: (keyof MachineParams)[] = [
      'clockGhz', 'sockets', 'ccxPerSocket', 'coresPerCcx', 'threadsPerCore',
      'l1Hit', 'l2Hit', 'llcHit', 'memLatency', 'transferSmt', 'transferCcx', 'transferSocket',
      'transferRemote', 'rmwLocal', 'ownerWindow', 'mfence', 'storeBufferEntries', 'storeIssue', 'fillBuffers', 'pageWalkers',
      'syscallEntryExit', 'faultEntryExit', 'pageFault', 'flushTlbFixed',
      'ipiSendX2apic', 'ipiSendXapic', 'ipiDeliveryCcx', 'ipiDeliverySocket',
      'ipiDeliveryRemote', 'irqEntryExit', 'x2apic', 'idleWakeup',
      'invlpg', 'invlpgPti', 'cr3Write', 'invpcid', 'pageWalk', 'stlbHit', 'l1dTlbEntries',
      'l1dTlbWays', 'stlbEntries', 'stlbWays', 'pcid', 'flushCeiling', 'invlpgbIssue', 'tlbsync',
      'invlpgb', 'contextSwitch',
    ];
    for (const k of needed) expect(PARAM_KEYS).toContain(k);
    expect(PARAM_SPECS.flushCeiling.unit).toBe('pages');
    expect(PARAM_SPECS.storeBufferEntries.unit).toBe('entries');
    expect(PARAM_SPECS.clockGhz).toMatchObject({ unit: 'GHz', integer: false });
  });
});

describe('profiles', () => {
  it('are the four named machines', () => {
    expect(profileNames()).toEqual([SKL, ZEN, 'haswell-2s', 'opteron-8x4']);
    expect(Object.isFrozen(PROFILES)).toBe(true);
    expect(Object.isFrozen(PROFILES[SKL].params)).toBe(true);
  });

  it.each([SKL, ZEN, 'haswell-2s', 'opteron-8x4'])('%s defines every key, in range, with a tag and a source', (name) => {
    const prof = PROFILES[name];
    expect(prof.name).toBe(name);
    expect(Object.keys(prof.params).sort()).toEqual([...PARAM_KEYS].sort());
    for (const key of PARAM_KEYS) {
      const { value, tag, source } = prof.params[key];
      const spec = PARAM_SPECS[key];
      expect(['S', 'F', 'D', 'E', 'R', 'M']).toContain(tag);
      expect(source.trim().length).toBeGreaterThan(5);
      if (!(value >= spec.min && value <= spec.max)) throw new Error(`${name}.${key} = ${value} out of range`);
      if (spec.integer && !Number.isInteger(value)) throw new Error(`${name}.${key} = ${value} not an integer`);
      // A derived value shows its arithmetic.
      if (tag === 'D' && !source.includes('=')) throw new Error(`${name}.${key}: [D] source shows no arithmetic`);
    }
    expect(() => resolveMachine(name)).not.toThrow();
  });

  it('carry the cost-file defaults and tags', () => {
    const pick = (name: string, keys: (keyof MachineParams)[]) =>
      Object.fromEntries(keys.map((k) => [k, [PROFILES[name].params[k].value, PROFILES[name].params[k].tag]]));
    const keys: (keyof MachineParams)[] = [
      'clockGhz', 'sockets', 'ccxPerSocket', 'coresPerCcx', 'threadsPerCore', 'transferSmt', 'transferCcx',
      'transferSocket', 'transferRemote', 'rmwLocal', 'storeBufferEntries', 'ipiSendX2apic', 'ipiDeliveryCcx',
      'irqEntryExit', 'invlpg', 'cr3Write', 'pageWalk', 'flushCeiling', 'invlpgb', 'tlbsync', 'contextSwitch',
    ];
    const t = (value: number, tag: SourceTag) => [value, tag];
    expect(pick(SKL, keys)).toEqual({
      clockGhz: t(2.5, 'E'), sockets: t(2, 'R'), ccxPerSocket: t(1, 'R'), coresPerCcx: t(28, 'R'),
      threadsPerCore: t(1, 'E'), transferSmt: t(0, 'D'), transferCcx: t(90, 'D'), transferSocket: t(90, 'D'),
      transferRemote: t(310, 'D'), rmwLocal: t(19, 'S'), storeBufferEntries: t(56, 'R'),
      ipiSendX2apic: t(150, 'E'), ipiDeliveryCcx: t(1200, 'E'), irqEntryExit: t(800, 'F'), invlpg: t(200, 'S'),
      cr3Write: t(96, 'S'), pageWalk: t(20, 'D'), flushCeiling: t(33, 'S'), invlpgb: t(0, 'R'),
      tlbsync: t(1500, 'E'), contextSwitch: t(485, 'E'),
    });
    expect(pick(ZEN, keys)).toEqual({
      clockGhz: t(3, 'E'), sockets: t(1, 'R'), ccxPerSocket: t(8, 'R'), coresPerCcx: t(8, 'R'),
      threadsPerCore: t(1, 'E'), transferSmt: t(20, 'D'), transferCcx: t(54, 'D'), transferSocket: t(306, 'D'),
      transferRemote: t(576, 'D'), rmwLocal: t(9, 'M'), storeBufferEntries: t(64, 'R'),
      ipiSendX2apic: t(150, 'E'), ipiDeliveryCcx: t(1200, 'E'), irqEntryExit: t(900, 'E'), invlpg: t(200, 'E'),
      cr3Write: t(100, 'E'), pageWalk: t(25, 'E'), flushCeiling: t(33, 'S'), invlpgb: t(1, 'S'),
      tlbsync: t(1500, 'E'), contextSwitch: t(485, 'E'),
    });
  });

  it('tags every unsourced IPI and INVLPGB cost as an estimate', () => {
    for (const name of [SKL, ZEN]) {
      for (const k of ['ipiSendX2apic', 'ipiSendXapic', 'ipiDeliveryCcx', 'ipiDeliveryRemote', 'invlpgbIssue', 'tlbsync'] as const) {
        expect([name, k, PROFILES[name].params[k].tag]).toEqual([name, k, 'E']);
      }
    }
    expect(PARAM_KEYS).not.toContain('ipiPerTarget'); // it counted the CSD traffic twice (issue #8)
    expect(PROFILES[SKL].params.transferSocket.source).toMatch(/unused when ccxPerSocket=1/);
  });
});

describe('resolveMachine', () => {
  it('returns the profile values in catalogue order', () => {
    const cfg = resolveMachine(SKL);
    expect(cfg.profile).toBe(SKL);
    expect(Object.keys(cfg.params)).toEqual([...PARAM_KEYS]);
    for (const k of PARAM_KEYS) expect(cfg.params[k]).toBe(PROFILES[SKL].params[k].value);
  });

  it('applies numeric and string overrides, keeping the key order', () => {
    const cfg = resolveMachine(SKL, {
      flushCeiling: '0x10', pcid: 'false', x2apic: 'TRUE', clockGhz: '2.1', threadsPerCore: '2',
      l1Hit: 5, rmwLocal: ' 1e1 ',
    });
    expect(cfg.params).toMatchObject({
      flushCeiling: 16, pcid: 0, x2apic: 1, clockGhz: 2.1, threadsPerCore: 2, l1Hit: 5, rmwLocal: 10,
      transferCcx: 90,
    });
    expect(Object.keys(cfg.params)).toEqual([...PARAM_KEYS]);
    expect(JSON.stringify(cfg)).toBe(JSON.stringify(resolveMachine(SKL, { rmwLocal: 10, l1Hit: '5', clockGhz: 2.1,
      threadsPerCore: 2, x2apic: 1, pcid: 0, flushCeiling: 16 })));
  });

  it('returns a fresh object each time', () => {
    const a = resolveMachine(ZEN);
    a.params.l1Hit = 999;
    expect(resolveMachine(ZEN).params.l1Hit).toBe(4);
    expect(PROFILES[ZEN].params.l1Hit.value).toBe(4);
  });

  it('rejects an unknown profile, listing the known ones', () => {
    expect(configError(() => resolveMachine('skylake'))).toBe(
      "unknown machine profile 'skylake' (known: skylake-sp-2s, zen3-1s, haswell-2s, opteron-8x4)",
    );
    expect(configError(() => resolveMachine('toString'))).toMatch(/unknown machine profile 'toString'/);
  });

  it('rejects unknown keys, suggesting the closest one', () => {
    expect(configError(() => resolveMachine(SKL, { l1hit: 4 }))).toBe(
      "unknown machine parameter 'l1hit' (did you mean 'l1Hit'?)",
    );
    expect(configError(() => resolveMachine(SKL, { transferRemot: 4 }))).toMatch(/did you mean 'transferRemote'\?/);
    expect(configError(() => resolveMachine(SKL, { __proto__x: 1 }))).toMatch(/unknown machine parameter '__proto__x'/);
    const far = configError(() => resolveMachine(SKL, { zzzzzzzzzzzz: 1 }));
    expect(far).toMatch(/^unknown machine parameter 'zzzzzzzzzzzz' \(known: clockGhz, sockets, /);
  });

  it('rejects out-of-range values naming key, value, unit and range', () => {
    const msg = "machine parameter 'rmwLocal' = -3 is out of range: expected an integer number of cycles in [0, 100000]";
    expect(configError(() => resolveMachine(SKL, { rmwLocal: -3 }))).toBe(msg);
    expect(configError(() => resolveMachine(SKL, { rmwLocal: '-3' }))).toBe(msg);
    expect(configError(() => resolveMachine(SKL, { clockGhz: 0 }))).toBe(
      "machine parameter 'clockGhz' = 0 is out of range: expected a number of GHz in [0.1, 10]",
    );
    expect(configError(() => resolveMachine(ZEN, { pcid: 2 }))).toBe(
      "machine parameter 'pcid' = 2 is out of range: expected a bool (0/1 or true/false) in [0, 1]",
    );
    expect(configError(() => resolveMachine(ZEN, { sockets: 65 }))).toBe(
      "machine parameter 'sockets' = 65 is out of range: expected an integer count in [1, 64]",
    );
  });

  it('rejects non-integers and non-numbers', () => {
    expect(configError(() => resolveMachine(SKL, { l1Hit: '2.5' }))).toBe(
      "machine parameter 'l1Hit' = 2.5 is not an integer: expected an integer number of cycles in [0, 100000]",
    );
    expect(configError(() => resolveMachine(SKL, { l1Hit: 'abc' }))).toBe(
      "machine parameter 'l1Hit' = 'abc' is not a number: expected an integer number of cycles in [0, 100000]",
    );
    for (const bad of ['', 'true', '12abc', '0x', '1,5', 'NaN', 'Infinity']) {
      expect(configError(() => resolveMachine(SKL, { invlpg: bad }))).toMatch(/^machine parameter 'invlpg' = '.*' is not a number/);
    }
    expect(configError(() => resolveMachine(ZEN, { pcid: 'yes' }))).toMatch(/'pcid' = 'yes' is not a number: .*\[0, 1\]/);
    expect(configError(() => resolveMachine(SKL, { invlpg: NaN }))).toMatch(/'invlpg' = NaN is not a finite number/);
    expect(configError(() => resolveMachine(SKL, { idleWakeup: Infinity }))).toMatch(/'idleWakeup' = Infinity/);
  });

  it('cross-checks topology size and TLB geometry', () => {
    expect(configError(() => resolveMachine(ZEN, { sockets: 64, coresPerCcx: 16 }))).toMatch(/8192 CPUs is too large: at most 4096/);
    expect(configError(() => resolveMachine(SKL, { stlbWays: 7 }))).toBe(
      "machine parameters 'stlbEntries' = 1536 and 'stlbWays' = 7 are inconsistent: " +
        'the number of entries must be a multiple of the number of ways (a whole number of sets)',
    );
    expect(resolveMachine(SKL, { stlbWays: 6 }).params.stlbWays).toBe(6);
  });
});

describe('parseParamAssignment', () => {
  it('splits at the first =', () => {
    expect(parseParamAssignment('l1Hit=5')).toEqual(['l1Hit', '5']);
    expect(parseParamAssignment(' pcid = true ')).toEqual(['pcid', 'true']);
    expect(parseParamAssignment('a=b=c')).toEqual(['a', 'b=c']);
  });

  it.each(['foo', '=5', 'k=', ' = ', ''])('rejects %p', (text) => {
    expect(configError(() => parseParamAssignment(text))).toBe(`--param expects key=value, got '${text}'`);
  });

  it('feeds resolveMachine', () => {
    const [k, v] = parseParamAssignment('threadsPerCore=2');
    expect(resolveMachine(ZEN, { [k]: v }).params.threadsPerCore).toBe(2);
  });
});

describe('editDistance', () => {
  it('is Levenshtein', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('docs/PROFILES.md', () => {
  const file = path.join(__dirname, '../../../docs/PROFILES.md');

  it('describes a profile as a table with value, unit, tag and source', () => {
    const md = describeProfile(SKL);
    expect(md).toContain('Topology: 2 sockets x 1 CCX x 28 cores x 1 thread = 56 CPUs.');
    expect(md).toContain('| `transferCcx` | 90 | cycles | D | nviennot/core-to-core-latency');
    expect(md.split('\n').filter((l) => l.startsWith('| `')).length).toBe(PARAM_KEYS.length);
    expect(configError(() => describeProfile('nope'))).toMatch(/unknown machine profile 'nope'/);
  });

  it('equals profilesMarkdown() (regenerate with UPDATE_PROFILES_DOC=1)', () => {
    const expected = profilesMarkdown();
    if (process.env.UPDATE_PROFILES_DOC === '1') fs.writeFileSync(file, expected);
    const actual = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    expect(actual).toBe(expected);
  });
});
