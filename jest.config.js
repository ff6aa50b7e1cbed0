/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The container check builds and runs images: `npm run test:container`, with its own config.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/container/'],
  globalSetup: '<rootDir>/test/helpers/require-recent-node.ts',
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
  },
  // jose is ESM-only; Node 22 can require() it, Jest's module loader cannot, so Jest transpiles it.
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  testTimeout: 20000,
  maxWorkers: 2,
};
