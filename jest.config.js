/**
 * Three projects (see README "Tests"): `unit` beside the code under src/, no database; `integration`, test/ against a
 * real Postgres (each file clones a migrated template database: test/support/global-setup.ts); `drills`, test/drills,
 * run by `npm run drills` and not by `npm test`.
 */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFiles: ['reflect-metadata'],
};
const withPostgres = {
  ...shared,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

module.exports = {
  testTimeout: 60000,
  maxWorkers: 2,
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/src', '<rootDir>/bench'], testMatch: ['**/*.test.ts'] },
    { ...withPostgres, displayName: 'integration', roots: ['<rootDir>/test'], testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/drills/'] },
    { ...withPostgres, displayName: 'drills', roots: ['<rootDir>/test/drills'], testMatch: ['**/*.test.ts'] },
  ],
};
