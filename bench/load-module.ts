import * as fs from 'fs';
import Module, { SourceMap } from 'module';
import * as path from 'path';
import { ConfigError, LazytlbError } from '../lib/errors';

/** Whether `--strategy`/`--workload` text names a file rather than a shipped module. */
export function isFileSpec(spec: string): boolean {
  return /[/\\]|\.[cm]?[jt]s$/.test(spec);
}

/**
 * Loads a user's module (a strategy or a workload) from a file in any directory:
 * - `.ts`, `.mts`, `.cts` are transpiled in memory with the TypeScript compiler (loaded only then);
 * - `.mjs`, and `.js` written as an ES module (a line starting with import or export), are
 *   transpiled to CommonJS the same way, so they load synchronously like everything else;
 * - `.cjs`, and `.js` written as CommonJS, load as they are.
 * `import ... from 'lazytlb'` (or `require('lazytlb')`) resolves to this package wherever the
 * file lives, so a user needs no install beside it. Returns the module's exports.
 * @throws ConfigError naming the file for a missing file, a syntax error or an error thrown while
 * the module loads.
 */
export function loadUserModule(spec: string, option: string): Record<string, unknown> {
  const file = path.resolve(spec);
  if (!fs.existsSync(file)) throw new ConfigError(`${option}: no file ${spec}`);
  const source = fs.readFileSync(file, 'utf8');
  const ext = path.extname(file);
  const typescript = ext === '.ts' || ext === '.mts' || ext === '.cts';
  const esm = ext === '.mjs' || (ext === '.js' && ESM_SYNTAX.test(source));
  if (typescript && loaderOptions.typeCheck) typeCheck(file, spec);
  userFiles.add(file);
  return compile(file, spec, typescript || esm ? transpile(file, spec, source) : source);
}

/**
 * `typeCheck`: a TypeScript file is type-checked (strict, against this package's own types for
 * 'lazytlb') before it runs, and its first error is reported with file:line. Worker threads turn
 * it off: the main thread has checked the same files already. LAZYTLB_TYPECHECK=0 turns it off.
 */
export const loaderOptions = { typeCheck: process.env.LAZYTLB_TYPECHECK !== '0' };

/** The declarations 'lazytlb' resolves to for the type check: the built .d.ts, or the source when run from it. */
function ownTypes(): string {
  const dts = path.join(__dirname, 'index.d.ts');
  return fs.existsSync(dts) ? dts : path.join(__dirname, 'index.ts');
}

/** Type-checks one user file; the first error in it becomes a ConfigError naming file:line. */
function typeCheck(file: string, spec: string): void {
  const ts = typescriptOr(spec);
  const options: import('typescript').CompilerOptions = {
    noEmit: true, strict: true, skipLibCheck: true, esModuleInterop: true, allowJs: false,
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10,
    // A user's file needs no @types of its own: the ES library and the DOM's console and timers.
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [],
    paths: { lazytlb: [ownTypes()] },
  };
  const program = ts.createProgram([file], options);
  const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error && d.file?.fileName === file.replace(/\\/g, '/'));
  if (errors.length === 0) return;
  const d = errors[0];
  const line = d.file !== undefined && d.start !== undefined ? `:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more type error${errors.length > 2 ? 's' : ''})` : '';
  throw new ConfigError(`${spec}${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}${more}`);
}

function typescriptOr(spec: string): typeof import('typescript') {
  try {
    return require('typescript') as typeof import('typescript');
  } catch {
    throw new ConfigError(`${spec}: loading a TypeScript or ES-module file needs the 'typescript' package (npm install typescript@5.9)`);
  }
}

/** Every user file loaded in this thread: an error thrown from one is the user's, not lazytlb's. */
const userFiles = new Set<string>();
/** Transpiled user files: their source maps back to the user's lines. */
const sourceMaps = new Map<string, SourceMap>();

/**
 * Where in a user's file an error was thrown (`path:line`, the path as the user's files are
 * named relative to the working directory), or null if no frame of its stack is in one.
 */
export function userFrame(err: Error): string | null {
  for (const line of (err.stack ?? '').split('\n')) {
    for (const file of userFiles) {
      const i = line.indexOf(file + ':');
      if (i < 0) continue;
      const m = /^:(\d+):(\d+)/.exec(line.slice(i + file.length));
      let at = m === null ? '' : `:${m[1]}`;
      const map = sourceMaps.get(file);
      if (m !== null && map !== undefined) {
        const entry = map.findEntry(Number(m[1]) - 1, Number(m[2]) - 1) as { originalLine?: number };
        if (entry.originalLine !== undefined) at = `:${entry.originalLine + 1}`;
      }
      return `${path.relative(process.cwd(), file)}${at}`;
    }
  }
  return null;
}

/** A line that starts with import or export: an ES module (a bundler's test, not a parser's). */
const ESM_SYNTAX = /^\s*(import\s*[\w{*'"]|export\s)/m;

/** TypeScript or ESM JavaScript → CommonJS; a syntax error names the file and line. */
function transpile(file: string, spec: string, source: string): string {
  const ts = typescriptOr(spec);
  const out = ts.transpileModule(source, {
    // As .mts/.mjs, TypeScript would keep the module syntax: name it .ts/.js so it emits CommonJS.
    fileName: file.replace(/\.m([jt]s)$/, '.$1'),
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, allowJs: true, sourceMap: true },
  });
  // Kept so that an error thrown at run time names the line of the user's source, not of the transpiled code.
  if (out.sourceMapText !== undefined) sourceMaps.set(file, new SourceMap(JSON.parse(out.sourceMapText)));
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const d = errors[0];
    const where = d.file !== undefined && d.start !== undefined ? `:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
    throw new ConfigError(`${spec}${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  return out.outputText;
}

/** Runs CommonJS `code` as the module `file`, with 'lazytlb' bound to this package. */
function compile(file: string, spec: string, code: string): Record<string, unknown> {
  const m = new Module(file, module);
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  const own = m.require.bind(m);
  m.require = Object.assign(
    // The package itself, by its name (Node's self-reference through package.json "exports"): a
    // user file gets the public entry exactly as an installed copy would give it.
    (id: string): unknown => (id === 'lazytlb' ? require('lazytlb') : own(id)),
    { resolve: require.resolve, cache: require.cache, main: require.main, extensions: require.extensions },
  ) as NodeJS.Require;
  try {
    (m as unknown as { _compile(code: string, filename: string): void })._compile(code, file);
  } catch (err) {
    if (err instanceof LazytlbError) throw err;
    throw new ConfigError(`${spec}${lineIn(err, file)}: ${(err as Error).message ?? String(err)}`);
  }
  return m.exports as Record<string, unknown>;
}

/** ":LINE" of the first stack frame in `file`, if the error has one. */
function lineIn(err: unknown, file: string): string {
  const stack = (err as Error | undefined)?.stack ?? '';
  const i = stack.indexOf(file + ':');
  if (i < 0) return '';
  const m = /^:(\d+)/.exec(stack.slice(i + file.length));
  return m === null ? '' : `:${m[1]}`;
}
