// Lint: ESLint's and typescript-eslint's recommended rules (no type-aware rules: `npm run
// typecheck` already runs the compiler in strict mode). Generators that yield nothing are hooks a
// subclass may fill (`*smpMb() {}`); `self` names `this` for the closures a constructor registers.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'require-yield': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
    },
  },
  {
    // The loader and the version lookup require() on purpose: TypeScript only when a user file
    // needs it, and package.json wherever the build put this file.
    files: ['bench/load-module.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests read the untyped stats dump (`stats.dump() as any`).
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['tests/**/*.js', 'tests/**/*.cjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
