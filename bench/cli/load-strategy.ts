import * as fs from 'fs';
import Module from 'module';
import * as path from 'path';
import { ConfigError } from '../../lib/errors';
import type { Strategy, StrategyFactory } from '../../tlb/strategy';
import { strategyByName } from '../../tlb/strategies/index';

/**
 * `--strategy NAME` or `--strategy ./file.ts|.js`. A file must export (as `default` or
 * `strategy`) a factory `() => Strategy` or a class implementing `Strategy`. TypeScript files are
 * transpiled in memory with the TypeScript compiler; `import ... from 'lazytlb'` resolves to
 * this package.
 */
export function loadStrategy(spec: string): StrategyFactory {
  if (!/[/\\]|\.[cm]?[jt]s$/.test(spec)) return strategyByName(spec);
  const file = path.resolve(spec);
  if (!fs.existsSync(file)) throw new ConfigError(`--strategy: no file ${spec}`);
  const exported = loadModule(file);
  const candidate = (exported.default ?? exported.strategy) as unknown;
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

function loadModule(file: string): Record<string, unknown> {
  if (!file.endsWith('.ts')) return require(file) as Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ts = require('typescript') as typeof import('typescript');
  const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const d = errors[0];
    const where = d.file !== undefined && d.start !== undefined ? `:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
    throw new ConfigError(`${file}${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  const m = new Module(file, module);
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  (m as unknown as { _compile(code: string, filename: string): void })._compile(out.outputText, file);
  return m.exports as Record<string, unknown>;
}
