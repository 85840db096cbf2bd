/** Jest through ts-jest. Type checking runs once, in `npm run typecheck`, so each test file is
 *  only transpiled here (`isolatedModules` in tsconfig.json), which keeps the default run fast. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  // The package's own name, as tsconfig.json's paths and Node's self-reference resolve it.
  moduleNameMapper: { '^lazytlb$': '<rootDir>/bench/index.ts' },
  testTimeout: 120000,
  globalSetup: '<rootDir>/tests/global-setup.js',
  reporters: ['default', '<rootDir>/tests/summary-reporter.js'],
};
