const base = require('../../jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test/container'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/container/global-setup.ts',
  globalTeardown: '<rootDir>/test/container/global-teardown.ts',
  // Builds and container start-ups are slow on a shared machine; nothing here is timed.
  testTimeout: 600_000,
  maxWorkers: 1,
};
