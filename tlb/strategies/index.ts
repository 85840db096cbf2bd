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
};

/** A shipped strategy's name. */
export type StrategyName = keyof typeof SHIPPED;

/** Every shipped strategy, in kernel-history order; names are what `--strategy` takes. */
export const STRATEGIES: Readonly<Record<string, StrategyFactory>> = Object.freeze(SHIPPED);

export function strategyNames(): string[] {
  return Object.keys(STRATEGIES);
}

export function strategyByName(name: string): StrategyFactory {
  const f = Object.prototype.hasOwnProperty.call(STRATEGIES, name) ? STRATEGIES[name] : undefined;
  if (f === undefined) throw new ConfigError(`unknown strategy '${name}' (known: ${strategyNames().join(', ')}; or a path to a .ts/.js file)`);
  return f;
}
