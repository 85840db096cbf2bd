import { ConfigError } from '../../lib/errors';
import type { StrategyFactory } from './strategy';
import { eager } from './eager';
import { linux413 } from './linux-4.13';
import { linux414, linux414Pcid } from './linux-4.14';
import { linux420 } from './linux-4.20';
import { linux48 } from './linux-4.8';
import { linux513 } from './linux-5.13';
import { linux615 } from './linux-6.15';
import { invlpgb } from './invlpgb';
import { intelRar } from './intel-rar';
import { latr } from './latr';
import { McShootdown, mcShootdown } from './mc-shootdown';
import { parseMcShootdownOptions } from './mc-channels';
import { rfc2016Naive, rfc2016Rqlock, rfc2016Xchg } from './rfc2016';

const SHIPPED = {
  eager,
  'linux-4.8': linux48,
  'rfc2016-naive': rfc2016Naive,
  'rfc2016-xchg': rfc2016Xchg,
  'rfc2016-rqlock': rfc2016Rqlock,
  'linux-4.13': linux413,
  'linux-4.14-pcid': linux414Pcid,
  'linux-4.14': linux414,
  'linux-4.20': linux420,
  'linux-5.13': linux513,
  'linux-6.15': linux615,
  invlpgb,
  'intel-rar': intelRar,
  latr,
  'mc-shootdown': mcShootdown,
};

/** A shipped strategy's name. */
export type StrategyName = keyof typeof SHIPPED;

/** Every shipped strategy, in kernel-history order; names are what `--strategy` takes. */
export const STRATEGIES: Readonly<Record<string, StrategyFactory>> = Object.freeze(SHIPPED);

export function strategyNames(): string[] {
  return Object.keys(STRATEGIES);
}

/**
 * Strategies that take options, as `NAME:key=value:key=value` (`--strategy mc-shootdown:protocol=unicast:notify=ipi`;
 * colons, since `compare --strategies` and `replay` separate strategies by commas):
 * each parses and checks its own, naming a bad key or value in one line.
 */
const WITH_OPTIONS: Readonly<Record<string, (opts: Record<string, string>) => StrategyFactory>> = Object.freeze({
  'mc-shootdown': (opts) => {
    const p = parseMcShootdownOptions(opts);
    return () => new McShootdown(p);
  },
});

export function strategyByName(spec: string): StrategyFactory {
  const colon = spec.indexOf(':');
  if (colon >= 0) return withOptions(spec.slice(0, colon), spec.slice(colon + 1));
  const name = spec;
  const f = Object.prototype.hasOwnProperty.call(STRATEGIES, name) ? STRATEGIES[name] : undefined;
  if (f === undefined) throw new ConfigError(`unknown strategy '${name}' (known: ${strategyNames().join(', ')}; or a path to a .ts/.js file)`);
  return f;
}

/** `NAME:key=value:...`: a strategy of WITH_OPTIONS with its options checked now. */
function withOptions(name: string, text: string): StrategyFactory {
  const make = Object.prototype.hasOwnProperty.call(WITH_OPTIONS, name) ? WITH_OPTIONS[name] : undefined;
  if (make === undefined) {
    strategyByName(name); // an unknown name is named as such
    throw new ConfigError(`strategy '${name}' takes no options (got '${text}'; options are for ${Object.keys(WITH_OPTIONS).join(', ')})`);
  }
  const opts: Record<string, string> = {};
  for (const part of text.split(':')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${name}: option '${part}' expects key=value`);
    opts[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return make(opts);
}
