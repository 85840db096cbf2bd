import { ConfigError } from '../../lib/errors';
import type { StrategyFactory } from '../strategy';
import { linux48 } from './linux-4.8';

/** Every shipped strategy, in kernel-history order; names are what `--strategy` takes. */
export const STRATEGIES: Readonly<Record<string, StrategyFactory>> = Object.freeze({
  'linux-4.8': linux48,
});

export function strategyNames(): string[] {
  return Object.keys(STRATEGIES);
}

export function strategyByName(name: string): StrategyFactory {
  const f = Object.prototype.hasOwnProperty.call(STRATEGIES, name) ? STRATEGIES[name] : undefined;
  if (f === undefined) throw new ConfigError(`unknown strategy '${name}' (known: ${strategyNames().join(', ')}; or a path to a .ts/.js file)`);
  return f;
}
