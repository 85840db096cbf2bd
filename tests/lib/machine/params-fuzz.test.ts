/**
 * Fuzzes the machine catalogue (issue #11): any profile with any subset of its keys set to valid,
 * borderline or adversarial values, as numbers or as text. A machine either resolves, with every
 * value as given and in its range, or is refused in one line naming a key it was given.
 */
import fc from 'fast-check';
import { parseNumberText } from '../../../lib/config-text';
import { PARAM_KEYS, PARAM_SPECS, type ParamKey } from '../../../lib/machine/params';
import { profileNames, resolveMachine } from '../../../lib/machine/resolve';
import { expectNames, fuzzParams, paramValue, userErrorOr, validMachineValues } from '../../fuzz';

/** Some keys of the catalogue, each with a drawn value; now and then a key it does not have. */
const overrides = fc
  .tuple(fc.subarray([...PARAM_KEYS], { maxLength: 8 }), fc.option(fc.constantFrom('socket', 'nope', '', '__proto__', 'toString'), { freq: 8 }))
  .chain(([keys, unknown]) =>
    fc.tuple(...keys.map((k) => paramValue(validMachineValues(k)))).map((vs) => {
      const o: Record<string, number | string> = Object.fromEntries(keys.map((k, i) => [k, vs[i]]));
      if (unknown !== null) Object.defineProperty(o, unknown, { value: 1, enumerable: true });
      return o;
    }),
  );

const asNumber = (key: ParamKey, v: number | string): number => (typeof v === 'number' ? v : parseNumberText(v, PARAM_SPECS[key].unit === 'bool'));

describe('resolveMachine under fuzzed overrides', () => {
  test('a machine resolves with the values given, each in its range, or the error names a key given', () => {
    fc.assert(
      fc.property(fc.constantFrom(...profileNames()), overrides, (profile, o) => {
        const what = `resolveMachine('${profile}', ${JSON.stringify(o)})`;
        const r = userErrorOr(what, () => resolveMachine(profile, o));
        if (r instanceof Error) return expectNames(what, r, Object.keys(o));
        for (const key of PARAM_KEYS) {
          const v = r.params[key];
          const s = PARAM_SPECS[key];
          expect(v >= s.min && v <= s.max && (!s.integer || Number.isInteger(v))).toBe(true);
          if (Object.prototype.hasOwnProperty.call(o, key)) expect(v).toBe(asNumber(key, o[key]));
        }
      }),
      fuzzParams(1000),
    );
  });
});
