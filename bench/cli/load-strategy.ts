import { ConfigError } from '../../lib/errors';
import type { Strategy, StrategyFactory } from '../../tlb/strategies/strategy';
import { strategyByName } from '../../tlb/strategies/index';
import { isFileSpec, loadUserModule } from '../load-module';

/**
 * `--strategy NAME` or `--strategy ./file.ts|.js|.cjs|.mjs`. A file must export (as `default` or
 * `strategy`) a factory `() => Strategy` or a class implementing `Strategy`.
 */
export function loadStrategy(spec: string): StrategyFactory {
  if (!isFileSpec(spec)) return strategyByName(spec);
  const exported = loadUserModule(spec, '--strategy');
  const candidate = (exported.default ?? exported.strategy ?? exported) as unknown;
  if (typeof candidate !== 'function') {
    throw new ConfigError(`${spec}: expected a default (or 'strategy') export that is a strategy factory or class`);
  }
  const fn = candidate as (() => Strategy) & { prototype?: Partial<Strategy> };
  const isClass = typeof fn.prototype?.flushTlbMmRange === 'function';
  const factory: StrategyFactory = isClass ? () => new (fn as unknown as new () => Strategy)() : fn;
  const probe = factory();
  for (const member of ['name', 'attach', 'enterLazyTlb', 'switchMmIrqsOff', 'flushTlbMmRange'] as const) {
    if (probe[member] === undefined) throw new ConfigError(`${spec}: the strategy has no '${member}'`);
  }
  return factory;
}
